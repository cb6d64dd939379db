/**
 * Long reads are written once, as generators that yield between their statements, and run either
 * way: at once (`readAtOnce`), or awaiting the host between statements (`readPaced`) so the thread
 * that reads — the server's, or Obsidian's — is never held for more than one of them.
 */
export type PagedRead<T> = Generator<void, T>;

export function readAtOnce<T>(read: PagedRead<T>): T {
  for (let step = read.next(); ; step = read.next()) if (step.done) return step.value;
}

export async function readPaced<T>(read: PagedRead<T>, pause: () => Promise<void>): Promise<T> {
  for (let step = read.next(); ; step = read.next()) {
    if (step.done) return step.value;
    await pause();
  }
}
