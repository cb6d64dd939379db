/**
 * Serves the web dashboard (dashboard/, built into dist/dashboard/) at `/`: three static files,
 * read once and kept in memory. The page talks to the API on the same origin with the token in a
 * header, so nothing here needs credentials.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface DashboardOptions {
  /**
   * The folder holding the built `index.html`, `app.js` and `app.css`. By default the first of
   * `dist/dashboard` beside the production bundle (`dist/server/main.js` → `dist/dashboard`) and
   * `dist/dashboard` at the repository root (running from source) that has an `index.html`.
   */
  dir?: string;
}

/** The files of a built dashboard and how each is sent. */
const ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

interface Asset {
  body: Buffer;
  etag: string;
  /** The content hash `index.html` puts in the asset's URL (`app.js?v=…`). */
  version: string;
}

/** Same as dashboard/build.mjs: the first 12 hex digits of the SHA-256 of the file. */
export const contentVersion = (body: Buffer | string): string =>
  createHash('sha256').update(body).digest('hex').slice(0, 12);

/**
 * The page loads only its own files and talks only to its own origin. Inline styles are allowed
 * because Svelte and uPlot set `style` attributes (bar widths, chart layout); scripts are not.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>OWP Pool</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>OWP Pool</h1>
<p>The server is running, but the web dashboard has not been built.</p>
<p>Run <code>npm run build</code> and reload this page. The API is at <code>/v1/…</code>; health at <a href="/healthz"><code>/healthz</code></a>.</p>
</body>
</html>
`;

/**
 * Where the built dashboard is, or null when it has not been built. `moduleUrl` is where this
 * code runs from (tests pass the bundle's location); a folder counts only with all three files, so
 * the sources in dashboard/ (which hold an index.html template) are never served.
 */
export function findDashboardDir(
  options: DashboardOptions = {},
  moduleUrl: string = import.meta.url,
): string | null {
  const candidates = options.dir
    ? [options.dir]
    : [
        // dist/server/main.js (the production bundle) → dist/dashboard
        fileURLToPath(new URL('../dashboard/', moduleUrl)),
        // server/dashboard.ts (from source) → dist/dashboard
        fileURLToPath(new URL('../dist/dashboard/', moduleUrl)),
      ];
  const built = (dir: string) => Object.keys(ASSETS).every((name) => existsSync(join(dir, name)));
  return candidates.find(built) ?? null;
}

/**
 * Adds `GET /`, `/app.js` and `/app.css`. Assets requested with their current content hash
 * (`?v=…`, as `index.html` links them) are cached for a year; `index.html` and anything else are
 * revalidated with an ETag on every load, so a new build shows on the next reload.
 */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions = {}): void {
  let cache: { dir: string; mtimes: string; assets: Record<AssetName, Asset> } | null = null;

  /** The built files, read again only when a rebuild changed them. */
  const load = (): Record<AssetName, Asset> | null => {
    const dir = findDashboardDir(options);
    if (!dir) return null;
    try {
      const names = Object.keys(ASSETS) as AssetName[];
      const mtimes = names
        .map((name) => {
          const stat = statSync(join(dir, name));
          return `${stat.mtimeMs}:${stat.size}`;
        })
        .join(',');
      if (cache?.dir === dir && cache.mtimes === mtimes) return cache.assets;
      const assets = {} as Record<AssetName, Asset>;
      for (const name of names) {
        const body = readFileSync(join(dir, name));
        const version = contentVersion(body);
        assets[name] = { body, version, etag: `"${version}"` };
      }
      cache = { dir, mtimes, assets };
      return assets;
    } catch {
      // Half-written by a build in progress, or removed: answer as if not built.
      return null;
    }
  };

  const send = (name: AssetName) => async (request: FastifyRequest, reply: FastifyReply) => {
    const assets = load();
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    if (!assets) {
      if (name !== 'index.html') {
        return reply
          .status(404)
          .header('cache-control', 'no-store')
          .type('text/plain')
          .send('The dashboard has not been built: run `npm run build`.');
      }
      return reply
        .status(503)
        .header('cache-control', 'no-store')
        .type(ASSETS['index.html'])
        .send(NOT_BUILT_PAGE);
    }
    const asset = assets[name];
    const version = (request.query as Record<string, unknown> | undefined)?.v;
    const immutable = name !== 'index.html' && version === asset.version;
    void reply
      .header('etag', asset.etag)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .type(ASSETS[name]);
    if (name === 'index.html') {
      void reply
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-frame-options', 'DENY');
    }
    const known = request.headers['if-none-match']?.split(',').map((tag) => tag.trim());
    if (known?.includes(asset.etag)) return reply.status(304).send();
    return reply.send(asset.body);
  };

  // Registered once: a second call (the host wiring it twice) leaves the first in place.
  if (app.hasRoute({ method: 'GET', url: '/' })) return;
  app.get('/', send('index.html'));
  app.get('/index.html', send('index.html'));
  app.get('/app.js', send('app.js'));
  app.get('/app.css', send('app.css'));
}
