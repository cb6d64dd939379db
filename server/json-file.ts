import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `value` as JSON whole or not at all: to a temporary name beside `path`, then renamed, so
 * a crash never leaves half a file. `ownerOnly` makes the folder 0700 and the file 0600 from its
 * first byte (credentials), so a secret is never readable by others even for a moment.
 */
export function writeJsonFile(path: string, value: unknown, { ownerOnly = false } = {}): void {
  mkdirSync(dirname(path), { recursive: true, ...(ownerOnly ? { mode: 0o700 } : {}) });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, ownerOnly ? { mode: 0o600 } : {});
  if (ownerOnly) chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
