/** A minimal Server-Sent Events reader over fetch, for tests: collects frames as they arrive. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

export class SseReader {
  readonly frames: SseFrame[] = [];
  private readonly controller = new AbortController();
  private done: Promise<void> = Promise.resolve();
  status = 0;

  async open(url: string, headers: Record<string, string>): Promise<this> {
    const response = await fetch(url, { headers, signal: this.controller.signal });
    this.status = response.status;
    if (!response.body) return this;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    this.done = (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const frame: SseFrame = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const [field, ...rest] = line.split(':');
              const value = rest.join(':').replace(/^ /, '');
              if (field === 'id' || field === 'event' || field === 'data') frame[field] = value;
            }
            if (frame.data !== undefined) this.frames.push(frame);
          }
        }
      } catch {
        // Aborted by close().
      }
    })();
    return this;
  }

  /** Settles when the server ends the stream (or `close()` aborts it). */
  get ended(): Promise<void> {
    return this.done;
  }

  /** Waits until `predicate` holds over the frames received, or fails after `timeoutMs`. */
  async waitFor(predicate: (frames: SseFrame[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      if (Date.now() > deadline)
        throw new Error(`SSE: condition not met; got ${this.frames.length} frames`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
