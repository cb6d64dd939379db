import { canonicalJson, hash53 } from './common.ts';

/**
 * The `Idempotency-Key` of each item of a task import file, the same in every run and in every
 * tool (`owp admin import`, the dashboard, the plugin) for the same item: its repo, its fields and
 * which of several identical items it is. So an import run again — whole, or `--from` where it
 * stopped — is answered with the tasks an earlier run made (for a day, as long as the pool keeps
 * keys), not a second of each; an item changed since is a new one. The items as read from the
 * file (`TaskImportItem`), without their repo.
 */
export function importKeys(repo: string, items: readonly object[]): string[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const text = `${repo}\n${canonicalJson(item)}`;
    const occurrence = (seen.get(text) ?? 0) + 1;
    seen.set(text, occurrence);
    const named = `${text}\n${occurrence}`;
    // Two 53-bit hashes: 106 bits, so two different items of a pool never share a key.
    return `import-${hash53(named, 1).toString(16)}-${hash53(named, 2).toString(16)}`;
  });
}
