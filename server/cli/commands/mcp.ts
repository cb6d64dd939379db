import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { readCredentials } from '../config-file.ts';
import { intArg, type CliContext, type ContextOf } from '../context.ts';
import { cliTransport } from '../transport.ts';

/** The streams the MCP protocol runs over; the process's own unless a test says otherwise. */
export interface McpStreams {
  stdin: Readable;
  stdout: Writable;
}

/**
 * `owp mcp`: a Model Context Protocol server over stdio, so a coding agent (Claude Code, Cursor,
 * …) can work in the pool as a worker. Stdout belongs to the protocol: notes go to stderr.
 */
export function addMcpCommand(
  program: Command,
  contextOf: ContextOf,
  streams: McpStreams = { stdin: process.stdin, stdout: process.stdout },
): Command {
  return program
    .command('mcp')
    .description(
      'run an MCP server over stdio: the tools let an AI agent register, take tasks, report progress, open PRs and release work',
    )
    .option('--db <path>', 'work on a local SQLite database instead of a server (--url)')
    .option(
      '--heartbeat <seconds>',
      'seconds between keep-alive heartbeats (default 30)',
      intArg(1, 3600),
    )
    .action(async (options: { db?: string; heartbeat?: number }, command: Command) => {
      // The root program knows the package version (`owp --version`).
      const version = command.parent?.version() ?? 'unknown';
      await serveMcp(contextOf(command), { ...options, version }, streams);
    });
}

async function serveMcp(
  ctx: CliContext,
  options: { db?: string; heartbeat?: number; version: string },
  streams: McpStreams,
): Promise<void> {
  // Loaded here: the MCP SDK and (for --db) the native SQLite module are for this command only.
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { createOwpMcpServer } = await import('../../mcp/mcp-server.ts');
  const { WorkerSession } = await import('../../mcp/worker-session.ts');
  const { KeepAlive } = await import('../../mcp/keep-alive.ts');
  const backends = await import('../../mcp/worker-backend.ts');

  const configPath = ctx.configPath();
  let backend;
  if (options.db) {
    backend = backends.localBackend(await ctx.localDatabase(options.db));
  } else {
    const saved = savedUrl(configPath);
    // The CLI's transport: a request that hangs gives up after 30 s, and "cannot reach URL: why"
    // names the server instead of a bare "fetch failed".
    backend = backends.remoteBackend(
      ctx.serverUrl(saved?.startsWith('http') ? saved : undefined),
      cliTransport(ctx.io.signal),
    );
  }
  const heartbeatSeconds = options.heartbeat ?? 30;
  const session = new WorkerSession({
    backend,
    configPath,
    heartbeatSeconds,
    // A lease with a short TTL brings the next keep-alive forward.
    onBeatChange: () => keepAlive.reschedule(),
  });
  const keepAlive = new KeepAlive(session, (message) => ctx.note(`owp mcp: ${message}`));
  if (session.workerId) ctx.secrets.push(readCredentials(configPath)!.token);
  const server = createOwpMcpServer(session, options.version);
  const transport = new StdioServerTransport(streams.stdin, streams.stdout);

  const closed = new Promise<void>((done) => {
    server.server.onclose = () => done();
    // The SDK's stdio transport does not notice its client going away; end with stdin.
    streams.stdin.once('end', () => done());
    streams.stdin.once('close', () => done());
    if (ctx.io.signal.aborted) done();
    else ctx.io.signal.addEventListener('abort', () => done(), { once: true });
  });
  await server.connect(transport);
  ctx.note(
    `owp mcp: serving on stdio for ${backend.target}${
      session.workerId ? ` as worker ${session.workerId}` : ' (not registered yet)'
    }; heartbeat every ${heartbeatSeconds}s`,
  );
  keepAlive.start();
  try {
    await closed;
  } finally {
    keepAlive.stop();
    await server.close().catch(() => {});
    backend.close();
    ctx.note('owp mcp: stopped');
  }
}

/** The server URL saved with the credentials; none when the file is unreadable (the tools say so). */
function savedUrl(configPath: string): string | undefined {
  try {
    return readCredentials(configPath)?.url;
  } catch {
    return undefined;
  }
}
