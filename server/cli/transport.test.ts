/** The CLI's transport against servers that misbehave on a real socket: silent, or half an answer. */
import { createServer } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { stalledServers } from '../../protocol/testing/stalled-server.ts';
import { cliTransport } from './transport.ts';

const stalled = stalledServers();
afterEach(() => stalled.close());
const stalledServer = (answer?: string) => stalled.start(answer);

/** The engine's full garbage collection, as `node --expose-gc` gives it. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** How the call ended, or 'still waiting' if it had not after a bound far past its timeout. */
async function outcome(call: Promise<unknown>): Promise<string> {
  const bound = new Promise<string>((done) => setTimeout(() => done('still waiting'), 3000));
  const ended = call.then(
    () => 'answered',
    (error: unknown) => (error as Error).message,
  );
  return Promise.race([ended, bound]);
}

describe('cliTransport', () => {
  it('gives up on a server that never answers, also when garbage is collected meanwhile', async () => {
    const base = await stalledServer();
    const gc = collectGarbage();
    const call = cliTransport(
      new AbortController().signal,
      100,
    )({
      method: 'GET',
      url: `${base}/v1/work`,
      headers: {},
    });
    // Heard from now: a full collection under load (coverage, a busy machine) can take past the
    // timeout, and a rejection with no handler yet fails the whole run.
    const ended = outcome(call);
    // Was: the timeout's signal, held only weakly by AbortSignal.any, was collected and never
    // fired: `owp mcp` and `owp worker run` then waited on a hung server for ever.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    expect(await ended).toBe(`no answer from ${base} within the timeout`);
  });

  it('gives up on an answer whose body never ends, naming the server', async () => {
    const base = await stalledServer(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":',
    );
    const call = cliTransport(
      new AbortController().signal,
      100,
    )({
      method: 'GET',
      url: `${base}/healthz`,
      headers: {},
    });
    expect(await outcome(call)).toBe(`no answer from ${base} within the timeout`);
  });

  it('names a server it cannot reach, marked worth another try (a call safe to repeat is)', async () => {
    const probe = createServer();
    await new Promise<void>((ready) => probe.listen(0, '127.0.0.1', ready));
    const base = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise((done) => probe.close(done));
    const error = await cliTransport(new AbortController().signal)({
      method: 'GET',
      url: `${base}/v1/work`,
      headers: {},
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: `cannot reach ${base}: ECONNREFUSED`, transient: true });
  });

  it('says "interrupted" when the command is interrupted mid-call', async () => {
    const base = await stalledServer();
    const interrupt = new AbortController();
    const call = cliTransport(
      interrupt.signal,
      60_000,
    )({
      method: 'GET',
      url: `${base}/v1/work`,
      headers: {},
    });
    setTimeout(() => interrupt.abort(), 20);
    expect(await outcome(call)).toBe(`interrupted while calling ${base}`);
  });
});
