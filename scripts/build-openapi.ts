/**
 * Writes protocol/openapi.json from the route table (see protocol/openapi.ts). The file is
 * committed so clients and reviewers can read the contract without running anything.
 * `--check` exits non-zero when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../protocol/openapi.ts';

export const openApiPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'protocol',
  'openapi.json',
);

/** The file's exact text: two-space JSON and a final newline, as Prettier would leave it. */
export function renderOpenApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rendered = renderOpenApiJson();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(openApiPath, 'utf8');
    } catch {
      // A missing file is as stale as an outdated one.
    }
    if (current !== rendered) {
      console.error('protocol/openapi.json is stale: run `npm run gen`.');
      process.exit(1);
    }
  } else {
    writeFileSync(openApiPath, rendered);
    console.log(`wrote ${openApiPath}`);
  }
}
