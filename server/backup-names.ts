/**
 * The names backups go by, in one place: the command, the server's download, its timer and its
 * copies at upgrades all name a copy after the UTC time it was made.
 */

/** A UTC time for a file name: 2026-11-27T115300Z (no colons, which some file systems refuse). */
export function backupStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/:/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** A backup's file name: `owp-2026-11-27T115300Z.db`. */
export function backupName(at: Date): string {
  return `owp-${backupStamp(at)}.db`;
}
