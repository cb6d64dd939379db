import { writeFileSync } from 'node:fs';

/**
 * Writes a generated file formatted as the repository's Prettier config wants it, so `npm run
 * lint` (`prettier --check .`) stays clean after every `npm run bench`. Prettier is a dev
 * dependency; without it the text is written as generated.
 */
export async function writeFormatted(path: string, text: string): Promise<void> {
  let out = text;
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(path)) ?? {};
    out = await prettier.format(text, { ...options, filepath: path });
  } catch {
    // no Prettier, or a file type it does not know: keep the text as generated
  }
  writeFileSync(path, out);
}
