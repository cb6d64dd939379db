/**
 * Part 3 — bad input. Every endpoint of the route table is fed invalid values derived from its
 * zod schemas, then raw junk: broken JSON, wrong content types, 10 MB bodies, odd Unicode and
 * path tricks. Every answer must be a 4xx carrying the JSON error envelope, the server must stay
 * up, and the database must be exactly as it was.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorEnvelope } from '../../protocol/errors.ts';
import { routes, type RouteName, type RouteSpec } from '../../protocol/routes.ts';
import { startAppFixture, snapshotDb, type AppFixture } from '../support/app-fixture.ts';
import { FigureSheet, atLeast, measured, required, zero } from '../support/figures.ts';
import {
  keepAliveAgent,
  rawRequest,
  type RawRequest,
  type RawResponse,
} from '../support/raw-http.ts';
import { runSeed } from '../support/seeded-random.ts';
import { ODD_UNICODE, hasFields, invalidArbitrary, validArbitrary } from './zod-arbitrary.ts';

const RUNS_PER_PART = 200;
const sheet = new FigureSheet(3, 'Bad input');
const routeTable = Object.entries(routes) as Array<[RouteName, RouteSpec]>;

let fx: AppFixture;
let before: ReturnType<typeof snapshotDb>;
let beforeState: unknown;
const agent = keepAliveAgent();

/** What the answers were, over every malformed request sent. */
const tally = { sent: 0, notSendable: 0, fourxx: 0, byCategory: {} as Record<string, number> };
const failures = {
  noEnvelope: [] as string[],
  serverErrors: [] as string[],
  accepted: [] as string[],
  noAnswer: [] as string[],
};

beforeAll(async () => {
  fx = await startAppFixture();
  before = snapshotDb(fx.dbPath);
  beforeState = fx.engine.state();
});
afterAll(async () => {
  agent.destroy();
  await fx?.close();
});

/** The credentials that get a request past authentication to validation, or none at all. */
function credentials(spec: RouteSpec, withAuth: boolean): Record<string, string> {
  if (!withAuth || spec.auth === 'none') return {};
  return spec.auth === 'worker'
    ? { authorization: `Bearer ${fx.workerA.token}` }
    : { 'x-admin-token': fx.adminToken };
}

/** Real ids for each path parameter, so the only thing wrong with a request is what we broke. */
function validParams(name: RouteName): Record<string, string> {
  if (name === 'updateStatus' || name === 'getTask') return { task_id: fx.heldTask };
  if (name === 'renewLease' || name === 'releaseLease') return { lease_id: fx.lease.id };
  if (name === 'pauseWorker' || name === 'resumeWorker' || name === 'replaceWorkerToken') {
    return { worker_id: fx.workerB.id };
  }
  if (name === 'getRepo' || name === 'deleteRepo' || name === 'repoAnalytics') {
    return { '*': 'fuzz' };
  }
  return { task_id: fx.readyTask };
}

const safeEncode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as the UTF-8 bytes a raw client could still send
  }
};

/** The path with parameters filled in; `raw` values go in unencoded (path tricks). */
/**
 * A drawn value as text. `String()` would throw on the objects fast-check likes to draw, such as
 * `{"toString": 1}`; those are written as JSON instead, which a server sees as just as wrong.
 */
function textOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return String(value);
  } catch {
    return JSON.stringify(value);
  }
}

function pathOf(spec: RouteSpec, params: Record<string, unknown>, raw = false): string {
  const fill = (value: unknown) => (raw ? textOf(value) : safeEncode(textOf(value)));
  let path = spec.path.replace(/\{(\w+)\}/g, (_, key: string) => fill(params[key]));
  if (path.endsWith('*')) {
    const value = textOf(params['*']);
    path = path.slice(0, -1) + (raw ? value : value.split('/').map(safeEncode).join('/'));
  }
  return path;
}

/** The query string for values as the server's parser will see them, or null if they would pass. */
function queryOf(spec: RouteSpec, values: Record<string, unknown>): string | null {
  // Only an object of values can be written as a query string.
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return null;
  const search = new URLSearchParams();
  const seen: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const list = Array.isArray(value) ? value.map(textOf) : [textOf(value)];
    for (const item of list) search.append(key, item);
    if (list.length > 0) seen[key] = list.length === 1 ? list[0]! : list;
  }
  return spec.query!.safeParse(seen).success ? null : search.toString();
}

/** Sends one malformed request and judges the answer. */
async function send(category: string, label: string, request: RawRequest): Promise<RawResponse> {
  const response = await rawRequest(fx.port, request, agent);
  const what = `${category}: ${request.method} ${request.path.slice(0, 120)} ${label}`.trim();
  if (response.error?.startsWith('not sendable')) {
    tally.notSendable++;
    return response;
  }
  tally.sent++;
  tally.byCategory[category] = (tally.byCategory[category] ?? 0) + 1;
  if (response.status === 0) {
    failures.noAnswer.push(`${what} → ${response.error}`);
    return response;
  }
  if (response.status >= 500)
    failures.serverErrors.push(`${what} → ${response.status} ${response.body.slice(0, 200)}`);
  else if (response.status < 400)
    failures.accepted.push(`${what} → ${response.status} ${response.body.slice(0, 200)}`);
  else {
    let envelope = false;
    try {
      envelope =
        String(response.headers['content-type']).includes('application/json') &&
        ErrorEnvelope.safeParse(JSON.parse(response.body)).success;
    } catch {
      envelope = false;
    }
    if (envelope) tally.fourxx++;
    else failures.noEnvelope.push(`${what} → ${response.status} ${response.body.slice(0, 160)}`);
  }
  return response;
}

const jsonHeaders = { 'content-type': 'application/json' };

describe('bad input: every endpoint refuses what its schema forbids, with a 4xx envelope', () => {
  it(
    'schema-derived invalid bodies, queries and path parameters, with and without credentials',
    { timeout: 120_000 },
    async () => {
      const seed = runSeed();
      let n = 0;
      for (const [name, spec] of routeTable) {
        for (const withAuth of spec.auth === 'none' ? [true] : [true, false]) {
          const headers = credentials(spec, withAuth);
          const params = validParams(name);
          const bodyOk = spec.body
            ? (fc.sample(validArbitrary(spec.body), { numRuns: 1, seed })[0] ?? {})
            : undefined;
          const jobs: Array<() => Promise<unknown>> = [];
          if (hasFields(spec.body)) {
            for (const body of fc.sample(invalidArbitrary(spec.body), {
              numRuns: RUNS_PER_PART,
              seed: seed + ++n,
            })) {
              jobs.push(() =>
                send('schema: body', JSON.stringify(body).slice(0, 80), {
                  method: spec.method,
                  path: pathOf(spec, params),
                  headers: { ...headers, ...jsonHeaders },
                  body: JSON.stringify(body),
                }),
              );
            }
          }
          if (hasFields(spec.query)) {
            for (const query of fc.sample(invalidArbitrary(spec.query), {
              numRuns: RUNS_PER_PART,
              seed: seed + ++n,
            })) {
              const qs = queryOf(spec, query as Record<string, unknown>);
              if (qs === null) continue;
              jobs.push(() =>
                send('schema: query', '', {
                  method: spec.method,
                  path: `${pathOf(spec, params)}?${qs}`,
                  headers,
                }),
              );
            }
          }
          if (hasFields(spec.params)) {
            for (const bad of fc.sample(invalidArbitrary(spec.params), {
              numRuns: RUNS_PER_PART / 2,
              seed: seed + ++n,
            })) {
              // Only an object of values can be written into a path.
              if (typeof bad !== 'object' || bad === null || Array.isArray(bad)) continue;
              jobs.push(() =>
                send('schema: path', '', {
                  method: spec.method,
                  path: pathOf(spec, bad as Record<string, unknown>),
                  headers: { ...headers, ...(bodyOk !== undefined ? jsonHeaders : {}) },
                  body: bodyOk !== undefined ? JSON.stringify(bodyOk) : undefined,
                }),
              );
            }
          }
          // Eight at a time: enough to interleave requests on the server, few enough to stay quick.
          for (let i = 0; i < jobs.length; i += 8)
            await Promise.all(jobs.slice(i, i + 8).map((job) => job()));
        }
      }
      expect(failures.serverErrors).toEqual([]);
      expect(failures.accepted).toEqual([]);
    },
  );

  it(
    'raw junk: broken JSON, wrong content types, 10 MB bodies, odd Unicode bytes, path tricks',
    { timeout: 120_000 },
    async () => {
      const postRoutes = routeTable.filter(
        ([, spec]) => spec.method === 'POST' || spec.method === 'PATCH',
      );
      const brokenJson = [
        '{',
        '{"name":',
        '{"name":"a",}',
        "{'name':'a'}",
        '{"name":"a"}}',
        '[',
        'nul',
        'undefined',
        'NaN',
        '{"a":NaN}',
        '{"a":Infinity}',
        '\u0000',
        '\ufeff{"status":',
        '{"status":"idle"} trailing',
        '{"status":"idle"\u0000}',
        '['.repeat(100_000),
        '{"a":'.repeat(20_000),
        '',
      ];
      // Broken JSON is refused before any handler runs, on every route that takes a body.
      for (const [, spec] of postRoutes) {
        const path = pathOf(spec, validParams(routeTable.find(([, s]) => s === spec)![0]));
        for (const body of brokenJson) {
          await send('raw: broken JSON', JSON.stringify(body.slice(0, 20)), {
            method: spec.method,
            path,
            headers: { ...credentials(spec, true), ...jsonHeaders },
            body,
          });
        }
      }
      // Well-formed JSON of the wrong shape, where a body schema exists: prototype keys, duplicate
      // keys, numbers past double range, invalid UTF-8 bytes in a constrained field.
      const shaped: Array<[RouteName, string | Buffer]> = [
        ['registerWorker', '{"__proto__":{"admin":true},"name":"proto"}'],
        ['registerWorker', '{"constructor":{"prototype":{"admin":true}},"name":"ctor"}'],
        ['registerWorker', '{"name":"dup","name":5}'],
        ['registerWorker', '{"name":"big","capacity_points":1e999}'],
        ['registerWorker', '{"name":"neg","capacity_points":-0.0000001}'],
        ['registerWorker', '"just a string"'],
        ['registerWorker', 'null'],
        ['registerWorker', '12345678901234567890123456789'],
        // Nested thousands deep in a few kilobytes: it overflowed the stack of the Unicode check.
        ['registerWorker', `{"name":"deep","skills":${'['.repeat(5000)}${']'.repeat(5000)}}`],
        [
          'updateStatus',
          `{"status":"in_progress","artifact":{"extra":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`,
        ],
        ['heartbeat', '{"status":"idle","status":"asleep"}'],
        [
          'heartbeat',
          Buffer.concat([
            Buffer.from('{"status":"idle'),
            Buffer.from([0xff, 0xfe]),
            Buffer.from('"}'),
          ]),
        ],
        [
          'heartbeat',
          Buffer.concat([Buffer.from('{"status":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
        ],
        [
          'createTask',
          Buffer.concat([
            Buffer.from('{"repo":"fuzz'),
            Buffer.from([0xed, 0xa0, 0x80]),
            Buffer.from('","title":"x"}'),
          ]),
        ],
        ['createTask', '{"repo":"fuzz","title":"x","tier":1e308}'],
        ['createTask', '{"repo":"../fuzz","title":"x"}'],
        ['createTask', '{"repo":"fuzz","title":"x","required_skills":"a"}'],
        ['updateStatus', '{"status":"merged","epoch":1.0000001}'],
        ['updateStatus', '{"status":"in_progress","epoch":-1}'],
        ['updateStatus', '{"status":"ready"}'],
        ['updateStatus', '{"status":"cancelled"}'],
        ['upsertRepo', '{"repo":"a/b/c"}'],
        ['upsertRepo', '{"repo":"fuzz","max_open_prs":"3"}'],
        ['updateTask', '{"expected_version":0}'],
        ['updateTask', '{"title":"   "}'],
      ];
      for (const [name, body] of shaped) {
        const spec = routes[name] as RouteSpec;
        await send('raw: wrong-shaped JSON', String(body).slice(0, 40), {
          method: spec.method,
          path: pathOf(spec, validParams(name)),
          headers: { ...credentials(spec, true), ...jsonHeaders },
          body,
        });
      }
      // Valid bodies in the wrong content type: had they been read, they would have changed data.
      const wrongTypes = [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/json-patch+json',
        'text/json',
        'application/octet-stream',
      ];
      for (const [name, spec] of routeTable.filter(([, s]) => hasFields(s.body))) {
        const valid = fc.sample(validArbitrary(spec.body!), { numRuns: 1, seed: 1 })[0] ?? {};
        for (const type of wrongTypes) {
          await send('raw: wrong content type', type, {
            method: spec.method,
            path: pathOf(spec, validParams(name)),
            headers: { ...credentials(spec, true), 'content-type': type },
            body: JSON.stringify(valid),
          });
        }
      }
      // Bodies far past the 1 MiB limit, announced and streamed.
      const huge = `{"name":"${'a'.repeat(10 * 1024 * 1024)}"}`;
      for (const [name, chunked] of [
        ['registerWorker', false],
        ['registerWorker', true],
        ['createTask', false],
        ['updateStatus', true],
        ['heartbeat', false],
      ] as Array<[RouteName, boolean]>) {
        const spec = routes[name] as RouteSpec;
        await send('raw: 10 MB body', chunked ? 'chunked' : 'content-length', {
          method: spec.method,
          path: pathOf(spec, validParams(name)),
          headers: {
            ...credentials(spec, true),
            ...jsonHeaders,
            ...(chunked ? { 'transfer-encoding': 'chunked' } : {}),
          },
          body: huge,
          chunked,
        });
      }
      // A wrong Idempotency-Key on an otherwise valid worker write.
      for (const key of ['', 'k'.repeat(201)]) {
        await send('raw: bad Idempotency-Key', `${key.length} chars`, {
          method: 'POST',
          path: '/v1/workers/heartbeat',
          headers: {
            ...credentials(routes.heartbeat, true),
            ...jsonHeaders,
            'idempotency-key': key,
          },
          body: '{"status":"working"}',
        });
      }
      // Path tricks in every id, sent byte for byte.
      const tricks = [
        '..',
        '.',
        '%2e%2e',
        '%2E%2E%2F',
        '..%2F..%2Fv1%2Fadmin%2Fstate',
        '%2F',
        'a%2Fb',
        '%00',
        'a%00b',
        '%ZZ',
        '%',
        '%E0%A4%A',
        '%ED%A0%80',
        '%C0%AF',
        '%EF%BB%BF',
        '%E2%80%AE',
        '%20',
        't_%27%20OR%201%3D1--',
        '*',
        '%2A',
        '%5C..%5C',
        'x'.repeat(101),
        'x'.repeat(8000),
        '%F0%9F%92%A9'.repeat(30),
      ];
      for (const [name, spec] of routeTable.filter(([, s]) => s.params)) {
        const key = Object.keys(validParams(name))[0]!;
        const extra =
          name === 'getRepo' || name === 'deleteRepo' || name === 'repoAnalytics'
            ? ['../../healthz', 'a/b/c', '/fuzz', 'fuzz/', 'fuzz//x']
            : [];
        for (const trick of [...tricks, ...extra]) {
          await send('raw: path trick', '', {
            method: spec.method,
            path: pathOf(spec, { ...validParams(name), [key]: trick }, true),
            headers: { ...credentials(spec, true), ...(spec.body ? jsonHeaders : {}) },
            body: spec.body ? '{"status":"in_progress"}' : undefined,
          });
        }
      }
      for (const path of [
        '/v1/tasks/../admin/state',
        '//v1/admin/state',
        '/v1/admin/state/',
        '/V1/ADMIN/STATE',
        '/v1/admin/state%00',
        '/v1/admin/state;x=1',
        '/v1/%2e%2e/healthz',
        '/v1/admin/%73tate',
      ]) {
        await send('raw: path trick', '', {
          method: 'POST',
          path,
          headers: { 'x-admin-token': fx.adminToken },
        });
      }
    },
  );

  it('left the data unchanged and the server up', async () => {
    const after = snapshotDb(fx.dbPath);
    const health = await rawRequest(fx.port, { method: 'GET', path: '/healthz' }, agent);
    const internalErrors = fx.logLines.filter((line) => /"level":(50|60)/.test(line));
    const nonEnvelope = failures.noEnvelope.length;
    sheet.add(
      atLeast('malformed requests sent', tally.sent, 3000),
      measured(
        '… by kind',
        Object.entries(tally.byCategory)
          .map(([category, count]) => `${category.replace(/^(schema|raw): /, '')} ${count}`)
          .join(', '),
      ),
      zero('5xx answers', failures.serverErrors.length),
      zero('accepted (2xx/3xx) answers', failures.accepted.length),
      zero('4xx without the JSON error envelope', nonEnvelope),
      zero('no answer at all', failures.noAnswer.length),
      required(
        'database unchanged (every row of every table)',
        after.hash === before.hash ? 'yes' : 'NO',
        'yes',
        after.hash === before.hash,
      ),
      required('server still answering /healthz', health.status, '200', health.status === 200),
      zero('internal errors logged', internalErrors.length),
    );
    // Group the failures by what went wrong, with one example each, for the summary.
    const groups = new Map<string, { count: number; example: string }>();
    const group = (kind: string, list: string[], keyOf: (line: string) => string) => {
      for (const line of list) {
        const key = `${kind}: ${keyOf(line)}`;
        const entry = groups.get(key) ?? { count: 0, example: line.slice(0, 160) };
        entry.count++;
        groups.set(key, entry);
      }
    };
    const codeOf = (line: string) =>
      /→ (\d+).*?"code":"(\w+)"/.exec(line)?.slice(1).join(' ') ?? line.slice(0, 60);
    group('4xx without envelope', failures.noEnvelope, codeOf);
    group('5xx', failures.serverErrors, codeOf);
    group('accepted', failures.accepted, (line) =>
      line
        .split(' → ')[0]!
        .replace(/^[^:]+: [^:]+: /, '')
        .split(' ')
        .slice(0, 2)
        .join(' '),
    );
    group('no answer', failures.noAnswer, (line) => line.split(' → ')[1] ?? '');
    for (const [key, { count, example }] of groups)
      sheet.note(`${key} ×${count} — e.g. ${example}`);
    expect(failures.serverErrors).toEqual([]);
    expect(failures.accepted).toEqual([]);
    expect(failures.noAnswer).toEqual([]);
    expect(after).toEqual(before);
    expect(fx.engine.state()).toEqual(beforeState);
    expect(health.status).toBe(200);
    expect(internalErrors).toEqual([]);
    expect(failures.noEnvelope).toEqual([]);
  });
});

describe('odd but valid input', () => {
  it('is stored exactly, and fields the schema does not know are ignored (no mass assignment)', async () => {
    const admin = { 'x-admin-token': fx.adminToken, ...jsonHeaders };
    let exact = 0;
    let refusedAsMalformed = 0;
    let refusedInTitle = 0;
    const altered: string[] = [];
    const create = (title: string, description: string) =>
      rawRequest(
        fx.port,
        {
          method: 'POST',
          path: '/v1/admin/tasks',
          headers: admin,
          body: JSON.stringify({ repo: 'owner/held', title, description }),
        },
        agent,
      );
    for (const [i, odd] of ODD_UNICODE.entries()) {
      // A lone surrogate cannot be stored as UTF-8 without being mangled: it is refused at the edge.
      const malformed = /\p{Cs}/u.test(odd);
      // A title is one line: a control character or line break there is refused, naming the field;
      // the description (any text) still takes it, exactly.
      // eslint-disable-next-line no-control-regex -- control characters are the point.
      const breaksALine = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(odd);
      let title = `odd ${odd} title`;
      const description = `${odd}\n${odd.repeat(3)}`;
      let created = await create(title, description);
      if (malformed) {
        expect(created.status, created.body).toBe(400);
        expect(JSON.parse(created.body)).toMatchObject({ error: { code: 'validation_failed' } });
        refusedAsMalformed++;
        continue;
      }
      if (breaksALine) {
        expect(created.status, created.body).toBe(400);
        expect(JSON.parse(created.body)).toMatchObject({
          error: { code: 'validation_failed', details: { issues: [{ path: 'title' }] } },
        });
        refusedInTitle++;
        title = `odd #${i} title`;
        created = await create(title, description);
      }
      expect(created.status, created.body).toBe(200);
      const id = (JSON.parse(created.body) as { task_id: string }).task_id;
      const read = JSON.parse(
        (
          await rawRequest(
            fx.port,
            { method: 'GET', path: `/v1/tasks/${id}`, headers: admin },
            agent,
          )
        ).body,
      ) as { title: string; description: string };
      if (read.title === title.trim() && read.description === description) exact++;
      else altered.push(`${JSON.stringify(odd)} came back as ${JSON.stringify(read.title)}`);
    }
    const forged = await rawRequest(
      fx.port,
      {
        method: 'POST',
        path: '/v1/admin/tasks',
        headers: admin,
        body: JSON.stringify({
          repo: 'owner/held',
          title: 'forged',
          task_id: 't_forged',
          status: 'merged',
          assignee: fx.workerA.id,
          version: 99,
          attempts: 7,
          lease_epoch: 9,
          created_at: '2000-01-01T00:00:00Z',
        }),
      },
      agent,
    );
    const task = (JSON.parse(forged.body) as { task: Record<string, unknown> }).task;
    const registered = await rawRequest(
      fx.port,
      {
        method: 'POST',
        path: '/v1/workers/register',
        headers: jsonHeaders,
        body: JSON.stringify({
          name: 'forger',
          trust_tier: 'maintainer',
          max_tier: 3,
          token_hash: 'x',
          paused_by_admin: true,
          reputation: 1,
        }),
      },
      agent,
    );
    const forger = fx.engine.getWorker(
      (JSON.parse(registered.body) as { worker_id: string }).worker_id,
    );
    const massAssigned = [
      task.task_id === 't_forged',
      task.status !== 'ready',
      task.assignee !== null,
      task.version !== 1,
      task.attempts !== 0,
      forger.trust_tier !== 'basic',
      forger.paused_by_admin,
      forger.reputation === 1,
    ].filter(Boolean).length;
    sheet.add(
      measured(
        'odd Unicode stored and read back exactly / lone surrogates refused (of which refused in a one-line title)',
        `${exact} / ${refusedAsMalformed} of ${ODD_UNICODE.length} (${refusedInTitle})`,
      ),
      zero('unknown fields that reached the database (mass assignment)', massAssigned),
    );
    if (altered.length) sheet.note(`odd Unicode altered in storage: ${altered.join('; ')}`);
    expect(massAssigned).toBe(0);
    expect(exact + refusedAsMalformed).toBe(ODD_UNICODE.length);
  });
});

/** What the fuzzing above found, each pinned by name so a fix shows up as a passing test. */
describe('regressions found by the fuzzing', () => {
  it('a JSON null body is refused, not read as an empty object (it released a lease)', async () => {
    const worker = { authorization: `Bearer ${fx.workerB.token}`, ...jsonHeaders };
    const release = await rawRequest(
      fx.port,
      {
        method: 'POST',
        path: `/v1/leases/${fx.leaseOfB.id}/release`,
        headers: worker,
        body: 'null',
      },
      agent,
    );
    const heartbeat = await rawRequest(
      fx.port,
      { method: 'POST', path: '/v1/workers/heartbeat', headers: worker, body: 'null' },
      agent,
    );
    const stillHeld = fx.engine.getTask(fx.taskOfB).lease?.lease_id === fx.leaseOfB.id;
    expect({ release: release.status, heartbeat: heartbeat.status, stillHeld }).toEqual({
      release: 400,
      heartbeat: 400,
      stillHeld: true,
    });
  });

  it('a path id that is too long or badly percent-encoded gets the error envelope', async () => {
    const admin = { 'x-admin-token': fx.adminToken };
    for (const id of ['x'.repeat(101), '%ZZ', '%ED%A0%80']) {
      const response = await rawRequest(
        fx.port,
        { method: 'GET', path: `/v1/tasks/${id}`, headers: admin },
        agent,
      );
      expect(response.status, id).toBeGreaterThanOrEqual(400);
      expect(response.status, id).toBeLessThan(500);
      expect(ErrorEnvelope.safeParse(JSON.parse(response.body)).success, response.body).toBe(true);
    }
  });
});
