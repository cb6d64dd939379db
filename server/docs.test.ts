import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, toOpenApiPath, type OpenApiDocument } from '../protocol/openapi.ts';
import { routes, type RouteName, type RouteSpec } from '../protocol/routes.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { escapeHtml, renderDocsPage } from './docs.ts';

const ADMIN = 'admin-secret-for-docs-tests';
const committedDocument = JSON.parse(
  readFileSync(new URL('../protocol/openapi.json', import.meta.url), 'utf8'),
) as OpenApiDocument;
const routeEntries = Object.entries(routes) as [RouteName, RouteSpec][];

let app: ReturnType<typeof buildApp> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function setup() {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock: new ManualClock(),
  });
  // buildApp registers the docs itself, as the server runs them.
  app = buildApp({ engine, adminToken: ADMIN });
  return app;
}

/** The HTML of one operation's `<article>`. */
function articleOf(page: string, name: RouteName): string {
  const start = page.indexOf(`<article class="operation" id="op-${name}">`);
  expect(start, `article for ${name}`).toBeGreaterThan(-1);
  return page.slice(start, page.indexOf('</article>', start));
}

describe('GET /openapi.json', () => {
  it('serves, without credentials, the document that is committed', async () => {
    const response = await setup().inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual(committedDocument);
  });
});

describe('GET /docs', () => {
  it('is a self-contained HTML page: no scripts, nothing loaded from elsewhere', async () => {
    const response = await setup().inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    const page = response.body;
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toMatch(/<script|<link|<img|<iframe|\ssrc=/i);
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain('@media (prefers-color-scheme: dark)');
  });

  it('lists every operation under its tag, with method, path, auth and summary', async () => {
    const page = (await setup().inject({ method: 'GET', url: '/docs' })).body;
    const sectionOf = (index: number) =>
      [...page.slice(0, index).matchAll(/<section id="tag-(\w+)">/g)].pop()?.[1];
    for (const [name, spec] of routeEntries) {
      const operation =
        committedDocument.paths[toOpenApiPath(spec.path)]![spec.method.toLowerCase() as 'get']!;
      const article = articleOf(page, name);
      expect(sectionOf(page.indexOf(article)), name).toBe(operation.tags[0]);
      expect(article).toContain(`>${spec.method}</span>`);
      expect(article).toContain(
        `<code class="path">${escapeHtml(toOpenApiPath(spec.path))}</code>`,
      );
      expect(article).toContain(escapeHtml(spec.summary));
      const auth = { none: 'none', worker: 'workerToken', admin: 'adminToken' };
      if (spec.auth === 'worker_or_admin') {
        expect(article).toMatch(/workerToken .* or adminToken/);
      } else {
        expect(article).toContain(`<span class="muted">Auth</span> ${auth[spec.auth]}`);
      }
    }
  });

  it('shows parameters, request and response schema names, and error codes', async () => {
    const page = (await setup().inject({ method: 'GET', url: '/docs' })).body;

    const updateStatus = articleOf(page, 'updateStatus');
    expect(updateStatus).toContain('<code>task_id</code></td><td>path</td><td>required</td>');
    expect(updateStatus).toContain('<code>Idempotency-Key</code></td><td>header</td>');
    expect(updateStatus).toContain('<a href="#schema-StatusUpdateRequest">StatusUpdateRequest</a>');
    expect(updateStatus).toContain(
      '<a href="#schema-StatusUpdateResponse">StatusUpdateResponse</a>',
    );
    for (const code of ['not_lease_holder', 'stale_lease', 'lease_expired', 'invalid_transition']) {
      expect(updateStatus).toContain(`<code>${code}</code>`);
    }
    expect(updateStatus).toContain('OWP v0.1');

    const deleteRepo = articleOf(page, 'deleteRepo');
    expect(deleteRepo).toContain('<code class="path">/v1/admin/repos/{repo}</code>');
    expect(deleteRepo).toContain('<code>repo_in_use</code>');
    expect(deleteRepo).toContain('owner%2Fname');

    // An inline response shape is spelled out, its items linked.
    expect(articleOf(page, 'listWorkers')).toContain(
      '{ workers: <a href="#schema-Worker">Worker</a>[] }',
    );
  });

  it('links only to anchors the page has', async () => {
    const page = (await setup().inject({ method: 'GET', url: '/docs' })).body;
    const ids = new Set([...page.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
    const targets = new Set([...page.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]));
    expect(targets.size).toBeGreaterThan(40);
    expect([...targets].filter((target) => !ids.has(target))).toEqual([]);
    for (const name of Object.keys(committedDocument.components.schemas)) {
      expect(ids.has(`schema-${name}`), name).toBe(true);
    }
  });
});

describe('renderDocsPage', () => {
  it('escapes every text it takes from the document', () => {
    const document = structuredClone(buildOpenApiDocument());
    const attack = `<script>alert("owned")</script> & 'quotes'`;
    document.info.title = attack;
    document.tags[0]!.description = `<img src=x onerror="alert(1)">`;
    document.paths['/healthz']!.get!.summary = attack;
    const page = renderDocsPage(document);
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<img');
    expect(page).toContain(
      '&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;',
    );
    expect(page).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  });
});

describe('the documented repo key path', () => {
  it('accepts the slash of owner/name both as is and percent-encoded', async () => {
    const server = setup();
    const admin = { 'x-admin-token': ADMIN };
    const created = await server.inject({
      method: 'POST',
      url: '/v1/admin/repos',
      headers: admin,
      payload: { repo: 'owner/name', max_open_prs: 2 },
    });
    expect(created.statusCode).toBe(200);
    for (const url of ['/v1/admin/repos/owner/name', '/v1/admin/repos/owner%2Fname']) {
      const response = await server.inject({ method: 'GET', url, headers: admin });
      expect(response.statusCode, url).toBe(200);
      expect(response.json()).toMatchObject({ repo: 'owner/name', max_open_prs: 2 });
    }
  });
});
