import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlugin, ROOT } from './plugin-build.mjs';

const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as Record<
  string,
  unknown
>;
const versions = JSON.parse(readFileSync(join(ROOT, 'versions.json'), 'utf8')) as Record<
  string,
  string
>;

describe('manifest.json and versions.json, by Obsidian’s rules', () => {
  it('names the plugin owp-pool, describes it in one sentence, and runs on mobile too', () => {
    expect(manifest.id).toBe('owp-pool');
    const description = manifest.description as string;
    expect(description.length).toBeGreaterThanOrEqual(10);
    expect(description.length).toBeLessThanOrEqual(250);
    expect(description).toMatch(/\.$/);
    expect(description).not.toMatch(/obsidian|^this plugin/i);
    expect(manifest.isDesktopOnly).toBe(false);
    expect(manifest.minAppVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('maps this version to its minimum app version', () => {
    expect(versions[manifest.version as string]).toBe(manifest.minAppVersion);
  });
});

describe('the plugin build', () => {
  let outdir: string;
  let main: string;

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'owp-plugin-build-'));
    await buildPlugin({ outdir });
    main = readFileSync(join(outdir, 'main.js'), 'utf8');
  }, 60_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('writes the three files Obsidian installs', () => {
    expect(readdirSync(outdir).sort()).toEqual(['main.js', 'manifest.json', 'styles.css']);
    expect(readFileSync(join(outdir, 'styles.css'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'styles.css'), 'utf8'),
    );
  });

  it('is CommonJS that needs nothing but Obsidian at run time, the WASM inlined', () => {
    const required = new Set([...main.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    expect([...required]).toEqual(['obsidian']);
    expect(main).toMatch(/module\.exports/);
    // sql.js's WebAssembly as inline bytes (base64 of the "\0asm" magic), not a file to fetch.
    expect(main).toContain('AGFzbQ');
    expect(main).not.toContain('sql-wasm.wasm');
  });

  it('never writes innerHTML (Svelte builds its DOM node by node)', () => {
    expect(main).not.toMatch(/\.innerHTML\s*=[^=]/);
    expect(main).not.toMatch(/insertAdjacentHTML|outerHTML\s*=[^=]/);
  });
});
