/**
 * Obsidian's `normalizePath`: runs of slashes and backslashes become one `/`, slashes at either
 * end go, the empty path is the root `/`, non-breaking spaces become spaces, and the text is
 * Unicode NFC (so a name typed on macOS matches the same name typed elsewhere).
 */
export function normalizePath(path: string): string {
  let out = path.replace(/([\\/])+/g, '/').replace(/(^\/+|\/+$)/g, '');
  if (out === '') out = '/';
  return out.replace(/\u00A0|\u202F/g, ' ').normalize('NFC');
}
