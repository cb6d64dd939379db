import type {
  RegisterWorkerRequest,
  RepoUpsertRequest,
  TaskCreateRequest,
  WorkerReportedStatus,
} from '../../protocol/index.ts';
import type { EngineConfig } from '../context.ts';
import { Scheduler } from '../engine.ts';
import { sequentialIds } from '../ids.ts';
import type { SqlDriver } from '../storage-port.ts';
import { ManualClock } from './manual-clock.ts';

/** Makes a fresh, empty driver; each contract test gets its own. */
export type DriverFactory = () => SqlDriver | Promise<SqlDriver>;

/** An engine on a fresh database, a hand-driven clock, and builders that read as a story. */
export class EngineHarness {
  readonly clock = new ManualClock();
  readonly engine: Scheduler;

  constructor(
    readonly driver: SqlDriver,
    config: Partial<EngineConfig> = {},
  ) {
    this.engine = new Scheduler({ driver, clock: this.clock, ids: sequentialIds(), config });
  }

  repo(overrides: Partial<RepoUpsertRequest> = {}) {
    return this.engine.upsertRepo({
      repo: 'demo',
      max_open_prs: 10,
      area_locks_enabled: true,
      ...overrides,
    });
  }

  task(overrides: Partial<TaskCreateRequest> = {}) {
    return this.engine.createTask({ repo: 'demo', title: 'A task', ...overrides });
  }

  /** Registers a worker (offline until it heartbeats). */
  registeredWorker(overrides: Partial<RegisterWorkerRequest> = {}) {
    return this.engine.registerWorker({
      name: 'Worker',
      skills: [],
      capacity_points: 10,
      max_concurrent_tasks: 3,
      ...overrides,
    });
  }

  /** Registers a worker and sends its first heartbeat. */
  onlineWorker(
    overrides: Partial<RegisterWorkerRequest> = {},
    status: WorkerReportedStatus = 'idle',
  ): string {
    const { worker_id } = this.registeredWorker(overrides);
    this.engine.heartbeat(worker_id, { status });
    return worker_id;
  }

  leasesOf(workerId: string) {
    return this.engine.getWork(workerId).leases;
  }

  eventTypes(): string[] {
    return this.engine
      .events({ limit: 5000 })
      .map((e) => (e.type === 'task.status_changed' ? `${e.type}:${e.data.cause}` : e.type));
  }
}

export async function harness(
  makeDriver: DriverFactory,
  config: Partial<EngineConfig> = {},
): Promise<EngineHarness> {
  return new EngineHarness(await makeDriver(), config);
}
