import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker thread's program, evaluated as CommonJS: its own connection to the database file,
 * and a passive checkpoint on a timer. A passive checkpoint copies committed WAL pages into the
 * database file without waiting on, or blocking, the connection that writes: SQLite lets the
 * writer keep appending while it runs, and restarts the WAL from the top once every page in it
 * has been copied.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.path, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or briefly unreadable: the next tick tries again, and the writer's backstop stays.
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a WAL database from a worker thread, so the copy of WAL pages into the database
 * file — and the fsync that goes with it — never runs on the thread that answers requests. Left to
 * itself SQLite checkpoints inside whichever COMMIT crosses `wal_autocheckpoint` pages: a stall
 * of milliseconds for the requests of that turn, every few hundred writes.
 *
 * The writing connection keeps a high `wal_autocheckpoint` as a backstop (see the driver), so the
 * WAL stays bounded even if this thread stops.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(path: string, intervalMs = 200) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path,
        modulePath: createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs,
      },
    });
    // A failed start (the file gone, the addon refused in a thread) leaves the backstop in charge.
    this.worker.on('error', () => {});
    // The server's life is not tied to this thread: it never keeps the process up on its own.
    this.worker.unref();
  }

  /** Closes the thread's connection and ends the thread. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = once(this.worker, 'exit');
    // Whoever awaits this waits for the thread: held by an unref'd thread and an unref'd timer
    // alone, the event loop would end the process first (a plain script's top-level await).
    this.worker.ref();
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
