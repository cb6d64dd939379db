import { setMaxListeners } from 'node:events';
import type { OwpClient } from '../../protocol/client.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { WorkLease } from '../../protocol/leases.ts';
import { sleep } from './sleep.ts';

/** Hard ceilings, whatever the command line says: a simulation must not become a load attack. */
export const SIMULATION_LIMITS = { workers: 50, durationSeconds: 3600, maxTasks: 10_000 };

export interface SimulationOptions {
  /** A client for the target server, acting as the worker whose token is given. */
  clientFor: (workerToken?: string) => OwpClient;
  workers: number;
  durationMs: number;
  skills: string[];
  /** Stop once this many tasks have been started (and then finished). */
  maxTasks: number;
  /** Pause between looks for work when a worker has none. */
  pollMs: number;
  signal: AbortSignal;
  /** Distinguishes this run's workers from earlier ones in the worker list. */
  runId: string;
  onTaskMerged?: (worker: SimulatedWorker, lease: WorkLease) => void;
  /** Something the person running the simulation should know, e.g. fewer workers than asked. */
  onNotice?: (text: string) => void;
}

export interface SimulatedWorker {
  worker_id: string;
  name: string;
  completed: number;
  errors: number;
}

export interface SimulationSummary {
  workers: SimulatedWorker[];
  tasks_completed: number;
  errors: number;
  /** The first few distinct error messages, to explain a non-zero `errors`. */
  error_samples: string[];
  elapsed_ms: number;
  /** `workers_failed`: every worker stopped early because its credentials stopped working. */
  stopped_by: 'duration' | 'interrupt' | 'max_tasks' | 'workers_failed';
}

/** Errors after which a simulated worker cannot go on: its credentials no longer work. */
const FATAL_CODES = new Set(['unauthorized', 'worker_not_found']);

/**
 * Runs `workers` fresh simulated workers against one server until the duration passes, the task
 * cap is reached or the signal fires. Each loops heartbeat → work → in_progress → pr_opened (a fake
 * PR URL) → merged. A task once started is always carried to `merged`, even past the deadline, so
 * a simulation never leaves PRs open that would eat a repo's review budget.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const started = Date.now();
  const stop = new AbortController();
  // Every worker sleeps on this signal between calls: one listener each, not a leak.
  setMaxListeners(options.workers + 10, stop.signal);
  let stoppedBy: SimulationSummary['stopped_by'] = 'duration';
  const halt = (why: SimulationSummary['stopped_by']) => {
    if (stop.signal.aborted) return;
    stoppedBy = why;
    stop.abort();
  };
  const deadline = setTimeout(() => halt('duration'), options.durationMs);
  const onInterrupt = () => halt('interrupt');
  options.signal.addEventListener('abort', onInterrupt, { once: true });
  if (options.signal.aborted) halt('interrupt');

  const samples = new Set<string>();
  const noteError = (worker: SimulatedWorker, error: unknown) => {
    worker.errors += 1;
    if (samples.size < 5) samples.add(error instanceof Error ? error.message : String(error));
  };
  let claimed = 0;
  const claim = () => {
    if (claimed >= options.maxTasks) {
      halt('max_tasks');
      return false;
    }
    claimed += 1;
    return true;
  };

  const registrar = options.clientFor();
  const workers: Array<{ state: SimulatedWorker; client: OwpClient }> = [];
  try {
    for (let i = 1; i <= options.workers && !stop.signal.aborted; i++) {
      const name = `sim-${options.runId}-${i}`;
      let registered;
      try {
        registered = await registrar.call('registerWorker', {
          body: { name, skills: options.skills, capacity_points: 5, max_concurrent_tasks: 2 },
        });
      } catch (error) {
        // The server limits registrations per minute: simulate with the workers it accepted.
        const limited = error instanceof OwpError && error.code === 'rate_limited';
        if (!limited || workers.length === 0) throw error;
        options.onNotice?.(
          `the server limits registrations (${error.message}); simulating with ${workers.length} workers`,
        );
        break;
      }
      const { worker_id, token } = registered;
      workers.push({
        state: { worker_id, name, completed: 0, errors: 0 },
        client: options.clientFor(token),
      });
    }

    let prNumber = 0;
    const workerLoop = async ({ state, client }: (typeof workers)[number]) => {
      let holding = 0;
      while (!stop.signal.aborted) {
        try {
          await client.call('heartbeat', { body: { status: holding > 0 ? 'working' : 'idle' } });
          const { leases } = await client.call('getWork', {});
          holding = leases.length;
          if (leases.length === 0) {
            await sleep(options.pollMs, stop.signal);
            continue;
          }
          for (const lease of leases) {
            if (stop.signal.aborted || !claim()) break;
            await carryToMerged(client, lease, ++prNumber);
            state.completed += 1;
            options.onTaskMerged?.(state, lease);
          }
        } catch (error) {
          noteError(state, error);
          if (error instanceof OwpError && FATAL_CODES.has(error.code)) return;
          await sleep(options.pollMs, stop.signal);
        }
      }
    };
    await Promise.all(workers.map(workerLoop));
    if (!stop.signal.aborted) stoppedBy = 'workers_failed';
    await Promise.all(
      workers.map(({ state, client }) => retire(client).catch((error) => noteError(state, error))),
    );
  } finally {
    clearTimeout(deadline);
    options.signal.removeEventListener('abort', onInterrupt);
  }

  const states = workers.map((w) => w.state);
  return {
    workers: states,
    tasks_completed: states.reduce((sum, w) => sum + w.completed, 0),
    errors: states.reduce((sum, w) => sum + w.errors, 0),
    error_samples: [...samples],
    elapsed_ms: Date.now() - started,
    stopped_by: stoppedBy,
  };
}

/**
 * Hands back what a simulated worker still holds when the run ends, so no task waits for a lease
 * of a worker that will never come back. Paused first: a paused worker gets no new grants, not
 * even from the server's assignment timer between the two calls.
 */
async function retire(client: OwpClient): Promise<void> {
  await client.call('heartbeat', { body: { status: 'paused', note: 'simulation ended' } });
  const { leases } = await client.call('getWork', {});
  for (const lease of leases) {
    await client.call('releaseLease', {
      params: { lease_id: lease.lease_id },
      body: { reason: 'simulation ended' },
    });
  }
}

/** Moves one leased task through the rest of its life, each write fenced by the lease. */
async function carryToMerged(client: OwpClient, lease: WorkLease, prNumber: number) {
  const fence = { lease_id: lease.lease_id, epoch: lease.epoch };
  const update = (status: 'in_progress' | 'pr_opened' | 'merged', extra: object = {}) =>
    client.call('updateStatus', {
      params: { task_id: lease.task_id },
      body: { status, ...fence, ...extra },
    });
  if (lease.status !== 'in_progress') await update('in_progress');
  await update('pr_opened', {
    artifact: { pr_url: `https://example.invalid/${lease.repo}/pull/${prNumber}` },
    message: 'simulated PR',
  });
  await update('merged', { message: 'simulated merge' });
}
