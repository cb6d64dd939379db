/**
 * Timers a test moves by hand, shaped like `setTimeout`/`clearTimeout` (and `setInterval`), for
 * code that takes its timers as an option. `advance(ms)` runs what falls due in time order and
 * lets promises settle between callbacks, so async work started by a timer can finish.
 */
export class ManualTimers {
  private now = 0;
  private nextId = 1;
  private readonly due = new Map<number, { at: number; callback: () => void; every?: number }>();

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.due.set(id, { at: this.now + Math.max(0, ms), callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.due.delete(handle as number);
  };

  setInterval = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.due.set(id, { at: this.now + Math.max(1, ms), callback, every: Math.max(1, ms) });
    return id;
  };

  clearInterval = (handle: unknown): void => {
    this.due.delete(handle as number);
  };

  /** How many timers are waiting. */
  get pending(): number {
    return this.due.size;
  }

  /** Moves time forward by `ms`, running each timer that falls due, earliest first. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      await settle();
      const next = [...this.due.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      const [id, timer] = next;
      this.now = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.due.delete(id);
      timer.callback();
    }
    this.now = until;
    await settle();
  }
}

/** Lets pending promise callbacks run: the microtask queue drains before each macrotask. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
