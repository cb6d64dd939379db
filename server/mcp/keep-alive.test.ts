/** The keep-alive's timing, on fake timers over a real session and an in-memory pool. */
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { KeepAlive } from './keep-alive.ts';
import { poolOnManualClock } from './testing/manual-clock-pool.ts';
import { WorkerSession } from './worker-session.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('KeepAlive', () => {
  it('brings the next beat forward when the agent takes a lease with a short TTL', async () => {
    const { engine, backend, config, close } = poolOnManualClock();
    onTestFinished(close);
    engine.upsertRepo({ repo: 'fast', lease_ttl_seconds: 15 });
    const agent = new WorkerSession({
      backend,
      configPath: config,
      heartbeatSeconds: 30,
      onBeatChange: () => keepAlive.reschedule(),
    });
    await agent.register({ name: 'agent' });
    const beats = vi.spyOn(agent, 'keepAlive');
    const keepAlive = new KeepAlive(agent, () => {});
    keepAlive.start();

    engine.createTask({ repo: 'fast', title: 'Quick one' });
    await agent.nextTask();
    await vi.advanceTimersByTimeAsync(5_000);
    // Was: the beat scheduled for 30 s ran first; the 15 s lease had expired by then.
    expect(beats).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(beats).toHaveBeenCalledTimes(2);
    keepAlive.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(beats).toHaveBeenCalledTimes(2);
  });
});
