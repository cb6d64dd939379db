/**
 * A database writer to be killed:
 * `node --import tsx persister-crash-writer.ts <folder> [rows] [generations|journal]`.
 * Opens the embedded database saved in <folder> (through the real Persister over a real folder),
 * then inserts numbered rows as fast as saves allow, printing `saved <n>` once row n is durable:
 * in a committed generation, or (`journal`, as the plugin runs) in a journal line that landed. The
 * parent kills it at a random moment and checks that a reload holds every row it saw reported
 * saved. Used by the persister's tests and the reliability suite (issue 6 §6).
 */
import { Persister } from '../embedded/persister.ts';
import { type JournalStatement, SqlJsDriver } from '../embedded/sqljs-driver.ts';
import { FolderBinaryStore } from './folder-binary-store.ts';

const [folder, rowsArg, mode = 'generations'] = process.argv.slice(2);
if (!folder)
  throw new Error('usage: persister-crash-writer.ts <folder> [rows] [generations|journal]');
const rows = Number(rowsArg ?? 1_000_000);
const journal = mode === 'journal';

const open: { driver?: SqlJsDriver } = {};
let exportedUpTo = 0;
const persister = new Persister(new FolderBinaryStore(folder), {
  debounceMs: 1,
  exportBytes: () => {
    const bytes = open.driver!.export();
    exportedUpTo = last();
    return bytes;
  },
  onError: (error) => process.stderr.write(`save failed: ${String(error)}\n`),
  journalLimit: 50,
});
persister.onSaved(() => process.stdout.write(`saved ${exportedUpTo}\n`));

const driver = (open.driver = await SqlJsDriver.open((await persister.load()) ?? undefined));
driver.replay(persister.takeJournal() as JournalStatement[][]);
if (journal) driver.onCommit((writes) => persister.record(writes));
// Padding makes each save big enough (≈ 1 MB) that kills often land mid-write.
driver.exec('CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, pad BLOB)');
function last(): number {
  return driver.get<{ n: number | null }>('SELECT MAX(n) AS n FROM rows')?.n ?? 0;
}
process.stdout.write(`loaded ${last()}\n`);

for (let i = 0; i < rows; i++) {
  const n = last() + 1;
  if (journal) {
    // A journal replays the SQL: the padding must come out the same again.
    driver.run('INSERT INTO rows (n, pad) VALUES ($n, zeroblob(4000))', { n });
    await persister.flush();
    process.stdout.write(`saved ${n}\n`);
  } else {
    driver.run('INSERT INTO rows (n, pad) VALUES ($n, randomblob(4000))', { n });
    persister.markDirty();
  }
  await new Promise((resolve) => setTimeout(resolve, 2));
}
await persister.close();
process.stdout.write('done\n');
