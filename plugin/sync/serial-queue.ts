/**
 * Runs async jobs one after another. The note sync keeps one per note, so an edit being sent and a
 * scheduler change being written never interleave on the same note, while different notes proceed
 * in parallel. A failing job does not stop the ones after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(job);
    this.tail = result
      .catch(() => undefined)
      .finally(() => {
        this.pending--;
      });
    return result;
  }

  /** Whether nothing is queued or running. */
  get isIdle(): boolean {
    return this.pending === 0;
  }
}
