/**
 * The baseline: a bare Fastify server with one JSON route shaped like the OWP heartbeat (POST, a
 * bearer header, a small JSON body in, a small JSON body out) and nothing else — no auth lookup,
 * no validation, no database. Loaded by the same generator in the same run, it tells what the HTTP
 * layer alone can do on this machine, so the OWP figures read as a ratio to it.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/v1/workers/heartbeat', async (request) => {
  if (!request.headers.authorization) throw new Error('no token');
  return { ok: true, server_time: new Date().toISOString() };
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.send?.({ type: 'listening', port });
process.on('message', (message: { type?: string }) => {
  if (message.type === 'stop') void app.close().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
