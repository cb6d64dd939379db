/**
 * A simulated worker in its own process, for the crash test (issue 6 §1):
 *   node --import tsx reliability/crash/worker-process.ts '<json config>'
 * Registers, then loops heartbeat → work → in_progress → pr_opened → merged (with the odd block,
 * resume and release), naming its lease and epoch on every write and retrying through server
 * restarts with the same Idempotency-Key. Every answered call goes to its JSONL history.
 * In `hold` mode it only starts its tasks and keeps them (the worker the test kills for good).
 */
import { seededRandom } from '../support/seeded-random.ts';
import { RecordingClient, sleep } from './recording-client.ts';

export interface WorkerProcessConfig {
  base: string;
  history: string;
  name: string;
  mode: 'flow' | 'hold';
  /** Skills to register with; the holding worker alone has `hold`, so only it takes those tasks. */
  skills: string[];
  stopFile: string;
  seed: number;
  maxMs: number;
}

interface HeldLease {
  task_id: string;
  lease_id: string;
  epoch: number;
  status: string;
}

type Step = 'in_progress' | 'blocked' | 'pr_opened' | 'release' | null;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerProcessConfig;
const random = seededRandom(config.seed);
const client = new RecordingClient({
  base: config.base,
  history: config.history,
  actor: config.name,
  stopFile: config.stopFile,
  deadline: Date.now() + config.maxMs,
  random,
});

/** What a flow worker does next with a lease in `status`; a hold worker only starts. */
function nextStep(status: string): Step {
  const roll = random();
  if (config.mode === 'hold') return status === 'leased' ? 'in_progress' : null;
  if (status === 'leased') {
    return roll < 0.85 ? 'in_progress' : roll < 0.92 ? 'blocked' : roll < 0.95 ? 'release' : null;
  }
  if (status === 'blocked') return roll < 0.9 ? 'in_progress' : 'release';
  if (status === 'in_progress') return roll < 0.8 ? 'pr_opened' : roll < 0.97 ? null : 'release';
  return null;
}

async function register(): Promise<void> {
  while (!client.stopping()) {
    const answer = await client.call('register', 'POST', '/v1/workers/register', {
      name: config.name,
      skills: config.skills,
      capacity_points: 4,
      max_concurrent_tasks: 2,
    });
    if (answer?.http === 200 || answer?.http === 201) {
      const body = answer.json as { worker_id: string; token: string };
      client.workerId = body.worker_id;
      client.token = body.token;
      return;
    }
    await sleep(500);
  }
}

/** Applies one step to a lease; returns the lease's new status, or null when the lease is gone. */
async function advance(lease: HeldLease, step: NonNullable<Step>): Promise<string | null> {
  const key = `${lease.lease_id}:${step}`;
  if (step === 'release') {
    await client.call(
      'release',
      'POST',
      `/v1/leases/${lease.lease_id}/release`,
      { reason: 'simulated release' },
      { idempotencyKey: key },
    );
    return null;
  }
  const body = {
    status: step,
    lease_id: lease.lease_id,
    epoch: lease.epoch,
    ...(step === 'pr_opened'
      ? { artifact: { pr_url: `https://example.invalid/pr/${lease.task_id}/${lease.epoch}` } }
      : {}),
  };
  const answer = await client.call('status', 'POST', `/v1/tasks/${lease.task_id}/status`, body, {
    idempotencyKey: key,
  });
  return answer?.http === 200 ? step : null;
}

async function merge(lease: HeldLease): Promise<void> {
  await client.call(
    'status',
    'POST',
    `/v1/tasks/${lease.task_id}/status`,
    { status: 'merged', lease_id: lease.lease_id, epoch: lease.epoch },
    { idempotencyKey: `${lease.lease_id}:merged` },
  );
}

async function run(): Promise<void> {
  await register();
  const prsOpen = new Map<string, HeldLease>();
  const think = () => sleep(config.mode === 'hold' ? 150 + random() * 200 : 20 + random() * 150);
  while (!client.stopping()) {
    const holding = prsOpen.size > 0;
    await client.call('heartbeat', 'POST', '/v1/workers/heartbeat', {
      status: holding ? 'working' : 'idle',
    });
    const work = await client.call('work', 'GET', '/v1/work');
    const leases = work?.http === 200 ? (work.json as { leases: HeldLease[] }).leases : [];
    for (const lease of leases) {
      if (client.stopping()) break;
      const step = nextStep(lease.status);
      if (!step) continue;
      const status = await advance(lease, step);
      if (status === 'pr_opened') prsOpen.set(lease.task_id, lease);
      await think();
    }
    for (const [taskId, lease] of prsOpen) {
      if (client.stopping()) break;
      await merge(lease);
      prsOpen.delete(taskId);
      await think();
    }
    await think();
  }
}

await run();
process.stdout.write(`done ${config.name} retries=${client.networkRetries}\n`);
