/** What a burst of events asks the page to read again. */
export interface RefreshBatch {
  taskIds: Set<string>;
  /** Workers an event named: each is read again on its own. */
  workerIds: Set<string>;
  repos: boolean;
  /** Every worker (the periodic refresh, or an event that names none). */
  workers: boolean;
  state: boolean;
  /** Everything, e.g. after the stream came back from being offline. */
  all: boolean;
}

type Timers = {
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: never) => void;
};

const emptyBatch = (): RefreshBatch => ({
  taskIds: new Set(),
  workerIds: new Set(),
  repos: false,
  workers: false,
  state: false,
  all: false,
});

/**
 * Coalesces re-reads: a burst of events (an assignment round grants twenty leases at once) becomes
 * one read per task and per worker and one of the repos, `delayMs` after the burst starts. One flush
 * runs at a time; what arrives meanwhile waits for the next.
 */
export class RefreshQueue {
  private batch = emptyBatch();
  private timer: unknown = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly flush: (batch: RefreshBatch) => Promise<void>,
    private readonly delayMs = 100,
    private readonly timers: Timers = globalThis as unknown as Timers,
  ) {}

  task(taskId: string): void {
    this.batch.taskIds.add(taskId);
    this.schedule();
  }

  worker(workerId: string): void {
    this.batch.workerIds.add(workerId);
    this.schedule();
  }

  mark(what: 'repos' | 'workers' | 'state' | 'all'): void {
    this.batch[what] = true;
    this.schedule();
  }

  /** Resolves once nothing is queued or running (for tests and the e2e harness). */
  async settled(): Promise<void> {
    while (this.running || this.timer !== null) {
      if (this.timer !== null) {
        this.timers.clearTimeout(this.timer as never);
        this.timer = null;
        this.start();
      }
      await this.running;
    }
  }

  cancel(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer as never);
    this.timer = null;
    this.batch = emptyBatch();
  }

  private schedule(): void {
    if (this.timer !== null || this.running) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.start();
    }, this.delayMs);
  }

  private start(): void {
    const batch = this.batch;
    this.batch = emptyBatch();
    this.running = this.flush(batch)
      .catch(() => {
        // The flush reports its own failures; a failed re-read is retried by the next event.
      })
      .finally(() => {
        this.running = null;
        const pending = this.batch;
        if (
          pending.all ||
          pending.repos ||
          pending.workers ||
          pending.state ||
          pending.taskIds.size ||
          pending.workerIds.size
        ) {
          this.schedule();
        }
      });
  }
}
