/**
 * Part 4 — who may do what. A matrix generated from the route table: every route, every kind of
 * credential (none, wrong, truncated, in the wrong header, in the query string, another role's),
 * with the status each must get. Then one worker against another's leases and tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../protocol/routes.ts';
import { SseReader } from '../../server/testing/sse-reader.ts';
import { startAppFixture, type AppFixture } from '../support/app-fixture.ts';
import { FigureSheet, atLeast, zero } from '../support/figures.ts';

const sheet = new FigureSheet(4, 'Who may do what', 'a-matrix');
const WRONG = {
  admin: 'owpa_wrong_admin_token_000000000000000000',
  bearer: 'owpw_wrong_worker_token_00000000000000000',
  viewer: 'owpv_wrong_viewer_token_00000000000000000',
};

let fx: AppFixture;
beforeAll(async () => {
  fx = await startAppFixture();
});
afterAll(async () => {
  await fx?.close();
});

/** A way of presenting credentials, and the query string it adds (tokens in URLs must not work). */
interface Credential {
  name: string;
  headers: () => Record<string, string>;
  query?: () => string;
  /** Which role this credential really proves, if any. */
  role: 'none' | 'admin' | 'viewer' | 'worker';
}

const credentials: Credential[] = [
  { name: 'none', role: 'none', headers: () => ({}) },
  { name: 'wrong admin token', role: 'none', headers: () => ({ 'x-admin-token': WRONG.admin }) },
  { name: 'empty admin token', role: 'none', headers: () => ({ 'x-admin-token': '' }) },
  {
    name: 'admin token minus its last char',
    role: 'none',
    headers: () => ({ 'x-admin-token': fx.adminToken.slice(0, -1) }),
  },
  {
    name: 'admin token plus a char',
    role: 'none',
    headers: () => ({ 'x-admin-token': `${fx.adminToken}x` }),
  },
  {
    name: 'admin token upper-cased',
    role: 'none',
    headers: () => ({ 'x-admin-token': fx.adminToken.toUpperCase() }),
  },
  {
    name: 'admin token as a bearer token',
    role: 'none',
    headers: () => ({ authorization: `Bearer ${fx.adminToken}` }),
  },
  {
    name: 'admin token in the query string',
    role: 'none',
    headers: () => ({}),
    query: () => `admin_token=${fx.adminToken}&token=${fx.adminToken}`,
  },
  {
    name: 'wrong bearer token',
    role: 'none',
    headers: () => ({ authorization: `Bearer ${WRONG.bearer}` }),
  },
  {
    name: 'worker token without "Bearer"',
    role: 'none',
    headers: () => ({ authorization: fx.workerA.token }),
  },
  {
    name: 'worker token as Basic auth',
    role: 'none',
    headers: () => ({
      authorization: `Basic ${Buffer.from(`x:${fx.workerA.token}`).toString('base64')}`,
    }),
  },
  {
    name: 'worker token in X-Admin-Token',
    role: 'none',
    headers: () => ({ 'x-admin-token': fx.workerA.token }),
  },
  {
    name: 'worker token in the query string',
    role: 'none',
    headers: () => ({}),
    query: () => `token=${fx.workerA.token}&access_token=${fx.workerA.token}`,
  },
  { name: 'wrong viewer token', role: 'none', headers: () => ({ 'x-viewer-token': WRONG.viewer }) },
  {
    name: 'worker token',
    role: 'worker',
    headers: () => ({ authorization: `Bearer ${fx.workerA.token}` }),
  },
  { name: 'viewer token', role: 'viewer', headers: () => ({ 'x-viewer-token': fx.viewerToken }) },
  { name: 'admin token', role: 'admin', headers: () => ({ 'x-admin-token': fx.adminToken }) },
];

/**
 * The status a credential must get on a route: 401 when it proves nothing the route accepts,
 * 403 when a viewer tries to change something, 'pass' when authentication must let it through.
 */
function expected(spec: RouteSpec, credential: Credential): 401 | 403 | 'pass' {
  const { role } = credential;
  if (spec.auth === 'none') return 'pass';
  if (role === 'none') return 401;
  if (role === 'admin') return spec.auth === 'worker' ? 401 : 'pass';
  if (role === 'worker') return spec.auth === 'admin' ? 401 : 'pass';
  // A viewer reads what an admin reads (but the audit log) and changes nothing; worker routes
  // ignore it.
  if (spec.auth === 'worker') return 401;
  return spec.method === 'GET' && !spec.viewerDenied ? 'pass' : 403;
}

/** Real ids, so a request refused for its credentials would otherwise have reached real data. */
function paramsFor(name: RouteName): Record<string, string> {
  if (name === 'updateStatus' || name === 'getTask') return { task_id: fx.heldTask };
  if (name === 'renewLease' || name === 'releaseLease') return { lease_id: fx.lease.id };
  if (
    name === 'pauseWorker' ||
    name === 'resumeWorker' ||
    name === 'setTrustTier' ||
    name === 'replaceWorkerToken'
  ) {
    return { worker_id: fx.workerB.id };
  }
  // The worker token is A's: its own reputation is what it may read.
  if (name === 'workerReputation') return { worker_id: fx.workerA.id };
  if (name === 'acceptOffer' || name === 'rejectOffer') return { offer_id: 'o_nosuchoffer' };
  if (name === 'getRepo' || name === 'deleteRepo' || name === 'repoAnalytics') {
    return { '*': 'fuzz' };
  }
  return { task_id: fx.readyTask };
}

/** A body no schema accepts: a request that gets past authentication stops at validation. */
const POISON = JSON.stringify({
  name: 42,
  status: 42,
  repo: 42,
  title: 42,
  reason: 42,
  expected_version: 0,
});
/** Routes whose handler would change data even with no (or an empty) body. */
const CHANGES_WITHOUT_BODY = new Set<RouteName>([
  'cancelTask',
  'requeueTask',
  'mergeTask',
  'pauseWorker',
  'resumeWorker',
  'replaceWorkerToken',
  'renewLease',
  'deleteRepo',
  'acceptOffer',
]);

function urlFor(
  name: RouteName,
  spec: RouteSpec,
  credential: Credential,
  control: boolean,
): string {
  // A control request (credentials that pass) on a route that changes data with no body names
  // an id that does not exist, so it proves authentication passed without changing anything.
  const params =
    control && CHANGES_WITHOUT_BODY.has(name)
      ? Object.fromEntries(
          Object.keys(paramsFor(name)).map((key) => [
            key,
            key === '*' ? 'no-such-repo' : 'no_such_id',
          ]),
        )
      : paramsFor(name);
  let path = spec.path.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(params[key]!));
  if (path.endsWith('*')) path = path.slice(0, -1) + params['*']!;
  const query = credential.query?.();
  return `${fx.base}${path}${query ? `?${query}` : ''}`;
}

/** Every answer body and header seen, to search for leaked secrets afterwards. */
const answers: string[] = [];

async function call(method: string, url: string, headers: Record<string, string>, body?: string) {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body,
  });
  const text = await response.text();
  answers.push(`${JSON.stringify([...response.headers])}\n${text}`);
  return { status: response.status, text };
}

describe('who may do what: the access matrix from the route table', () => {
  it('refuses every credential that does not prove the role a route needs', async () => {
    const failures: string[] = [];
    let rows = 0;
    for (const [name, spec] of Object.entries(routes) as Array<[RouteName, RouteSpec]>) {
      if (spec.auth === 'none') continue;
      for (const credential of credentials) {
        const want = expected(spec, credential);
        const hasBody = spec.method === 'POST' || spec.method === 'PATCH';
        const { status, text } = await call(
          spec.method,
          urlFor(name, spec, credential, want === 'pass'),
          credential.headers(),
          hasBody && (spec.body || want !== 'pass') ? POISON : undefined,
        );
        rows++;
        const ok =
          want === 'pass' ? status !== 401 && status !== 403 && status < 500 : status === want;
        if (!ok)
          failures.push(
            `${spec.method} ${spec.path} with ${credential.name}: ${status}, want ${want} — ${text.slice(0, 100)}`,
          );
      }
    }
    // The live event stream is not in the route table but takes the same credentials.
    for (const credential of credentials) {
      const want = expected({ ...routes.listEvents, method: 'GET' }, credential);
      const query = credential.query?.();
      const reader = await new SseReader().open(
        `${fx.base}/v1/events${query ? `?${query}` : ''}`,
        credential.headers(),
      );
      await reader.close();
      rows++;
      const ok = want === 'pass' ? reader.status === 200 : reader.status === want;
      if (!ok)
        failures.push(`GET /v1/events with ${credential.name}: ${reader.status}, want ${want}`);
    }
    sheet.add(
      atLeast('access matrix rows (route × credential)', rows, 300),
      zero('access matrix failures', failures.length),
    );
    for (const failure of failures.slice(0, 5)) sheet.note(failure);
    expect(failures).toEqual([]);
  });

  it("keeps a worker off another worker's leases and tasks", async () => {
    const before = [fx.engine.getTask(fx.heldTask), fx.engine.getTask(fx.taskOfB)];
    const asB = { authorization: `Bearer ${fx.workerB.token}` };
    const asA = { authorization: `Bearer ${fx.workerA.token}` };
    const cases: Array<[string, () => Promise<{ status: number; text: string }>, number]> = [];
    for (const [who, headers, task, lease] of [
      ['B on A', asB, fx.heldTask, fx.lease],
      ['A on B', asA, fx.taskOfB, fx.leaseOfB],
    ] as const) {
      const status = (body: object) =>
        call('POST', `${fx.base}/v1/tasks/${task}/status`, headers, JSON.stringify(body));
      cases.push(
        [`${who}: status (v0.1, no lease named)`, () => status({ status: 'in_progress' }), 403],
        [
          `${who}: status naming the other's lease`,
          () => status({ status: 'in_progress', lease_id: lease.id, epoch: lease.epoch }),
          403,
        ],
        [
          `${who}: status naming the other's epoch`,
          () => status({ status: 'pr_opened', epoch: lease.epoch }),
          403,
        ],
        [`${who}: merge`, () => status({ status: 'merged', lease_id: lease.id }), 403],
        [
          `${who}: renew`,
          () => call('POST', `${fx.base}/v1/leases/${lease.id}/renew`, headers, '{}'),
          403,
        ],
        [
          `${who}: release`,
          () => call('POST', `${fx.base}/v1/leases/${lease.id}/release`, headers, '{}'),
          403,
        ],
        [`${who}: read the task`, () => call('GET', `${fx.base}/v1/tasks/${task}`, headers), 403],
      );
    }
    const failures: string[] = [];
    for (const [label, run, want] of cases) {
      const { status, text } = await run();
      if (status !== want)
        failures.push(`${label}: ${status}, want ${want} — ${text.slice(0, 100)}`);
    }
    // History and the live stream show a worker only its own events.
    const history = JSON.parse(
      (await call('GET', `${fx.base}/v1/events/history?task_id=${fx.heldTask}`, asB)).text,
    ) as {
      events: Array<{ worker_id: string | null }>;
    };
    const all = JSON.parse((await call('GET', `${fx.base}/v1/events/history`, asB)).text) as {
      events: Array<{ worker_id: string | null }>;
    };
    const stream = await new SseReader().open(`${fx.base}/v1/events`, asB);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stream.close();
    const streamed = stream.frames.map(
      (frame) => JSON.parse(frame.data!) as { worker_id: string | null },
    );
    const foreign = [...history.events, ...all.events, ...streamed].filter(
      (event) => event.worker_id !== fx.workerB.id,
    );
    if (history.events.length) failures.push(`B read ${history.events.length} events of A's task`);
    if (foreign.length) failures.push(`B saw ${foreign.length} events about others`);
    if (all.events.length === 0 || streamed.length === 0)
      failures.push('B saw none of its own events (the check would be empty)');
    const after = [fx.engine.getTask(fx.heldTask), fx.engine.getTask(fx.taskOfB)];
    if (JSON.stringify(after) !== JSON.stringify(before)) failures.push('a task changed');

    sheet.add(
      atLeast('cross-worker attempts (status, renew, release, read, events)', cases.length + 3, 17),
      zero('cross-worker attempts not refused', failures.length),
    );
    for (const failure of failures.slice(0, 5)) sheet.note(failure);
    expect(failures).toEqual([]);
  });

  it('never puts a token in an answer: bodies, headers and error messages', () => {
    const secrets = [
      fx.adminToken,
      fx.viewerToken,
      fx.workerA.token,
      fx.workerB.token,
      ...Object.values(WRONG),
    ];
    const leaks = answers.filter((answer) =>
      secrets.some((secret) => answer.includes(secret) || answer.includes(secret.slice(6, 26))),
    );
    sheet.add(zero(`answers quoting a token (of ${answers.length})`, leaks.length));
    expect(leaks).toEqual([]);
  });
});
