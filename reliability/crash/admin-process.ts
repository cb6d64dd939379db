/**
 * The crash test's admin, in its own process:
 *   node --import tsx reliability/crash/admin-process.ts '<json config>'
 * Creates the repo, then keeps creating tasks with unique titles. Task creation carries no
 * Idempotency-Key, so it is never retried: an attempt is written to the history before it is
 * sent, and the answer after — a creation cut off by a kill may or may not have happened, and the
 * checker allows exactly that, never a second task with the same title.
 */
import { seededRandom } from '../support/seeded-random.ts';
import { RecordingClient, sleep } from './recording-client.ts';

export interface AdminProcessConfig {
  base: string;
  history: string;
  adminToken: string;
  repo: string;
  stopFile: string;
  seed: number;
  maxMs: number;
  /** Pause between creations. */
  intervalMs: number;
  /** Creation pauses while this many tasks are ready, so the queue does not grow without bound. */
  maxReady: number;
  /** Every n-th task needs the skill `hold`, which only the worker killed for good has. */
  holdEvery: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as AdminProcessConfig;
const random = seededRandom(config.seed);
const client = new RecordingClient({
  base: config.base,
  history: config.history,
  actor: 'admin',
  stopFile: config.stopFile,
  deadline: Date.now() + config.maxMs,
  random,
});
client.adminToken = config.adminToken;

async function run(): Promise<void> {
  for (;;) {
    if (client.stopping()) return;
    const answer = await client.call('upsert_repo', 'POST', '/v1/admin/repos', {
      repo: config.repo,
      max_open_prs: 100,
      area_locks_enabled: false,
    });
    if (answer?.http === 200) break;
    await sleep(200);
  }
  for (let n = 1; !client.stopping(); n++) {
    const body = {
      repo: config.repo,
      title: `crash-${config.seed}-${n}`,
      priority: Math.floor(random() * 100),
      estimate_points: 1,
      required_skills: n % config.holdEvery === 0 ? ['hold'] : [],
    };
    client.recordIntent('create_attempt', body);
    await client.call('create', 'POST', '/v1/admin/tasks', body, { retry: false });
    await sleep(config.intervalMs * (0.5 + random()));
    if (n % 20 === 0) {
      const state = await client.call('state', 'GET', '/v1/admin/state');
      const ready = (state?.json as { tasks_ready?: number } | undefined)?.tasks_ready ?? 0;
      if (ready > config.maxReady) await sleep(1000);
    }
  }
}

await run();
process.stdout.write(`done admin retries=${client.networkRetries}\n`);
