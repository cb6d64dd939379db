import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../scheduler/clock.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { buildApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { contentVersion, findDashboardDir, registerDashboard } from './dashboard.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A built dashboard in a temp folder, linked the way dashboard/build.mjs links it. */
function builtDashboard(js = 'console.log("owp")', css = 'body{margin:0}') {
  const dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'app.js'), js);
  writeFileSync(join(dir, 'app.css'), css);
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><link rel="stylesheet" href="/app.css?v=${contentVersion(css)}"><script type="module" src="/app.js?v=${contentVersion(js)}"></script>`,
  );
  return dir;
}

/** The real app with the dashboard added, as server/main.ts wires it. */
function appWithDashboard(dir: string) {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock: systemClock,
  });
  const app = buildApp({ engine, adminToken: 'dashboard-test-admin-token' });
  registerDashboard(app, { dir });
  return app;
}

describe('the dashboard at /', () => {
  it('serves the page with an ETag, revalidated on every load, and a strict content policy', async () => {
    const app = appWithDashboard(builtDashboard());
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const etag = page.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{12}"$/);

    const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    await app.close();
  });

  it('caches assets for a year when asked for by their current hash, and only then', async () => {
    const js = 'console.log("v1")';
    const app = appWithDashboard(builtDashboard(js));
    const current = await app.inject({ method: 'GET', url: `/app.js?v=${contentVersion(js)}` });
    expect(current.statusCode).toBe(200);
    expect(current.body).toBe(js);
    expect(current.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(current.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const stale = await app.inject({ method: 'GET', url: '/app.js?v=000000000000' });
    expect(stale.headers['cache-control']).toBe('no-cache');
    const css = await app.inject({ method: 'GET', url: '/app.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    await app.close();
  });

  it('picks up a rebuild without a restart', async () => {
    const dir = builtDashboard('console.log("old")');
    const app = appWithDashboard(dir);
    const before = await app.inject({ method: 'GET', url: '/app.js' });
    writeFileSync(join(dir, 'app.js'), 'console.log("new build")');
    const after = await app.inject({ method: 'GET', url: '/app.js' });
    expect(after.body).toBe('console.log("new build")');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    await app.close();
  });

  it('says to run npm run build when the dashboard is not built, and leaves the API alone', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'owp-no-dashboard-'));
    dirs.push(empty);
    const app = appWithDashboard(empty);
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('npm run build');
    expect((await app.inject({ method: 'GET', url: '/app.js' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });
    await app.close();
  });

  it('finds dist/dashboard at the repository root when running from source, never dashboard/', () => {
    const found = findDashboardDir();
    const root = fileURLToPath(new URL('../dist/dashboard/', import.meta.url));
    // Built or not, the sources (dashboard/index.html is a template) are never taken for a build.
    expect(found === null || found === root).toBe(true);
    expect(findDashboardDir({ dir: '/nonexistent/owp' })).toBeNull();
  });

  it('also works on a bare Fastify instance, and a second registration changes nothing', async () => {
    const app = Fastify();
    registerDashboard(app, { dir: builtDashboard() });
    registerDashboard(app, { dir: '/nonexistent/owp' });
    expect((await app.inject({ method: 'GET', url: '/index.html' })).statusCode).toBe(200);
    await app.close();
  });
});

describe('the production bundle', () => {
  it('finds dist/dashboard next to dist/server/, where it runs from', () => {
    const dist = mkdtempSync(join(tmpdir(), 'owp-dist-'));
    dirs.push(dist);
    const bundle = `file://${dist}/server/main.js`;
    expect(findDashboardDir({}, bundle)).toBeNull();
    mkdirSync(join(dist, 'dashboard'));
    for (const name of ['index.html', 'app.js', 'app.css']) {
      writeFileSync(join(dist, 'dashboard', name), '');
    }
    expect(findDashboardDir({}, bundle)).toBe(join(dist, 'dashboard') + '/');
  });
});
