import { createServer, type Server, type Socket } from 'node:net';

/**
 * Servers on 127.0.0.1 that accept a connection, write `answer` (if any), then nothing more: a hung
 * server, or one whose answer never ends. `close()` ends them all (in a test's `afterEach`).
 */
export function stalledServers() {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  return {
    /** Starts one; its base URL. */
    async start(answer = ''): Promise<string> {
      const server = createServer((socket) => {
        sockets.push(socket);
        if (answer) socket.write(answer);
      });
      servers.push(server);
      await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    },
    async close(): Promise<void> {
      for (const socket of sockets.splice(0)) socket.destroy();
      for (const server of servers.splice(0)) await new Promise((done) => server.close(done));
    },
  };
}
