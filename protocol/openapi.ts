/**
 * Builds the OpenAPI 3.1 document from the route table and its zod schemas, so the published
 * contract cannot drift from what the server validates. `scripts/build-openapi.ts` writes it to
 * `protocol/openapi.json`; a test proves the committed file fresh.
 *
 * Schemas go through zod's own `z.toJSONSchema()` (draft 2020-12, the dialect of OAS 3.1).
 * Rejected: zod-to-json-schema, which targets zod 3 and would read zod 4 schemas by guesswork.
 */
import { z } from 'zod';
import packageJson from '../package.json' with { type: 'json' };
import { canonicalJson } from './common.ts';
import { ErrorEnvelope, errorRegistry, type ErrorCode } from './errors.ts';
import { IdempotencyKey } from './leases.ts';
import { routes, type Auth, type RouteName, type RouteSpec } from './routes.ts';

/** A JSON Schema (draft 2020-12) as zod emits it. */
export type JsonSchema = { [key: string]: unknown };

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  /** `application/json` (and `text/csv` beside it), or a download's own media type. */
  content?: Record<string, { schema: JsonSchema }>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  /** The stable error codes (see protocol/errors.ts) this status can carry for the operation. */
  'x-owp-error-codes'?: ErrorCode[];
}

export interface OpenApiOperation {
  operationId: RouteName;
  summary: string;
  description?: string;
  tags: [OperationTag];
  security: Record<string, string[]>[];
  parameters?: (OpenApiParameter | { $ref: string })[];
  requestBody?: {
    required: boolean;
    content: { 'application/json': { schema: JsonSchema } };
  };
  responses: Record<string, OpenApiResponse>;
  /** Present (and true) on routes an OWP v0.1 client calls; their shapes never change. */
  'x-owp-v01'?: true;
}

export interface OpenApiSecurityScheme {
  type: 'http' | 'apiKey';
  description: string;
  /** For `http`: the Authorization scheme. */
  scheme?: string;
  /** For `apiKey`: where and under which name the key travels. */
  in?: 'header';
  name?: string;
}

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: {
    title: string;
    version: string;
    summary: string;
    description: string;
    license: { name: string; identifier: string };
  };
  servers: {
    url: string;
    description: string;
    variables: Record<string, { default: string; enum?: string[]; description?: string }>;
  }[];
  tags: { name: OperationTag; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    securitySchemes: Record<SecuritySchemeName, OpenApiSecurityScheme>;
    parameters: Record<string, OpenApiParameter>;
    schemas: Record<string, JsonSchema>;
  };
}

export const OPERATION_TAGS = {
  workers: 'Registration and liveness of the workers themselves.',
  leases: 'The work a worker holds: fetching, renewing and releasing leases.',
  tasks: 'Reading tasks and moving a leased task along its lifecycle.',
  admin: 'Maintainer operations: repos, review budgets, tasks and workers.',
  events:
    'The append-only event log, as JSON pages. The live feed, `GET /v1/events`, is a ' +
    'Server-Sent Events stream of the same events.',
  audit:
    'Who did what: the event log with the actor of every write (`admin`, `system` or a worker), ' +
    'filtered, paged and exportable as CSV. The admin token only.',
  analytics: "Figures computed from the event log: a repo's throughput, timings and saturation.",
  ops: 'Probes for load balancers and orchestrators.',
} as const;
export type OperationTag = keyof typeof OPERATION_TAGS;

/** Which section of the reference each route belongs to. A Record, so a new route must pick one. */
const routeTags: Record<RouteName, OperationTag> = {
  healthz: 'ops',
  registerWorker: 'workers',
  heartbeat: 'workers',
  getWork: 'leases',
  renewLease: 'leases',
  releaseLease: 'leases',
  updateStatus: 'tasks',
  listTasks: 'tasks',
  getTask: 'tasks',
  upsertRepo: 'admin',
  createTask: 'admin',
  poolState: 'admin',
  updateTask: 'admin',
  cancelTask: 'admin',
  requeueTask: 'admin',
  mergeTask: 'admin',
  explainTask: 'admin',
  listEvents: 'events',
  listWorkers: 'admin',
  getWorker: 'admin',
  pauseWorker: 'admin',
  resumeWorker: 'admin',
  replaceWorkerToken: 'admin',
  listRepos: 'admin',
  getRepo: 'admin',
  deleteRepo: 'admin',
  auditEvents: 'audit',
  backupDatabase: 'ops',
  repoAnalytics: 'analytics',
  listOffers: 'leases',
  explainWork: 'leases',
  acceptOffer: 'leases',
  rejectOffer: 'leases',
  setTrustTier: 'admin',
  workerReputation: 'workers',
};

/**
 * The errors a route's own logic raises, beyond those that follow from its shape (auth, input,
 * idempotency; see `errorCodesFor`). Kept beside the document rather than guessed from the path,
 * because e.g. renewing a lease can fail in ways reading a task cannot.
 */
const domainErrors: Record<RouteName, readonly ErrorCode[]> = {
  healthz: [],
  registerWorker: ['rate_limited'],
  heartbeat: [],
  getWork: [],
  updateStatus: [
    'task_not_found',
    'lease_not_found',
    'not_lease_holder',
    'invalid_transition',
    'stale_lease',
    'lease_expired',
  ],
  upsertRepo: [],
  createTask: ['unknown_repo', 'dependency_unknown', 'dependency_cycle'],
  poolState: [],
  renewLease: [
    'lease_not_found',
    'not_lease_holder',
    'invalid_transition',
    'stale_lease',
    'lease_expired',
  ],
  releaseLease: [
    'lease_not_found',
    'not_lease_holder',
    'invalid_transition',
    'stale_lease',
    'lease_expired',
  ],
  listTasks: [],
  getTask: ['task_not_found', 'forbidden'],
  updateTask: [
    'task_not_found',
    'stale_version',
    'area_locked',
    'over_capacity',
    'dependency_unknown',
    'dependency_cycle',
  ],
  cancelTask: ['task_not_found', 'invalid_transition'],
  requeueTask: ['task_not_found', 'invalid_transition'],
  mergeTask: ['task_not_found', 'invalid_transition'],
  explainTask: ['task_not_found'],
  listEvents: [],
  listWorkers: [],
  getWorker: ['worker_not_found'],
  pauseWorker: ['worker_not_found'],
  resumeWorker: ['worker_not_found'],
  replaceWorkerToken: ['worker_not_found'],
  listRepos: [],
  getRepo: ['repo_not_found'],
  deleteRepo: ['repo_not_found', 'repo_in_use'],
  auditEvents: [],
  backupDatabase: ['route_not_found'],
  repoAnalytics: ['repo_not_found'],
  listOffers: [],
  explainWork: [],
  acceptOffer: ['offer_not_found', 'not_offer_holder', 'offer_closed'],
  rejectOffer: ['offer_not_found', 'not_offer_holder', 'offer_closed'],
  setTrustTier: ['worker_not_found'],
  workerReputation: ['worker_not_found', 'forbidden'],
};

export type SecuritySchemeName = 'workerToken' | 'adminToken' | 'viewerToken';

const securityFor: Record<Auth, Partial<Record<SecuritySchemeName, string[]>>[]> = {
  none: [],
  worker: [{ workerToken: [] }],
  admin: [{ adminToken: [] }],
  worker_or_admin: [{ workerToken: [] }, { adminToken: [] }],
};

/** Whether the read-only viewer token opens a route: what an admin reads, but not the audit log. */
function viewerMayCall(spec: Pick<RouteSpec, 'auth' | 'method' | 'viewerDenied'>): boolean {
  return (
    spec.auth !== 'none' && spec.auth !== 'worker' && spec.method === 'GET' && !spec.viewerDenied
  );
}

/** The tokens a route takes, as OpenAPI security requirements (any one of them). */
function securityOf(spec: RouteSpec) {
  const base = securityFor[spec.auth];
  return viewerMayCall(spec) ? [...base, { viewerToken: [] }] : base;
}

/**
 * The route table writes a repo key as a trailing `*` because the key may hold a slash; OpenAPI
 * has no wildcard, so the reference names the segment `{repo}` and says how the slash travels.
 */
const WILDCARD_PARAMETER = {
  name: 'repo',
  description:
    'Repo key, `name` or `owner/name`. The one slash may be sent as is ' +
    '(`/v1/admin/repos/owner/name`) or percent-encoded (`/v1/admin/repos/owner%2Fname`).',
};

const IDEMPOTENCY_PARAMETER = 'IdempotencyKey';
const ERROR_ENVELOPE_REF = { $ref: '#/components/schemas/ErrorEnvelope' };
const COMPONENT_PREFIX = '#/components/schemas/';

const httpStatusText: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
};

/** Every error code the operation can answer with, in registry order. */
export function errorCodesFor(name: RouteName, spec: RouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(domainErrors[name]);
  if (spec.auth !== 'none') {
    codes.add('unauthorized');
    // Failed authentications are throttled per client address on every authenticated route.
    codes.add('rate_limited');
  }
  // The viewer token is refused (403) wherever an admin token would be taken but it is not.
  if ((spec.auth === 'admin' || spec.auth === 'worker_or_admin') && !viewerMayCall(spec)) {
    codes.add('forbidden');
  }
  if (spec.params || spec.query || spec.body || spec.idempotent) codes.add('validation_failed');
  // Any request with a method that may carry a body has it parsed, a route that takes none too.
  if (spec.body || spec.method !== 'GET') {
    codes.add('malformed_json');
    codes.add('payload_too_large');
    codes.add('unsupported_media_type');
  }
  if (spec.idempotent) codes.add('idempotency_key_reused');
  const order = Object.keys(errorRegistry) as ErrorCode[];
  return order.filter((code) => codes.has(code));
}

type SchemaIo = 'input' | 'output';

/**
 * Converts zod schemas to JSON Schema, collecting every schema that carries a `.meta({ id })` into
 * one set of components. Requests are converted as input (defaults make fields optional),
 * responses as output; when one id converts differently in the two modes, the input variant is
 * published as `<id>Input` so neither overwrites the other.
 *
 * Which name a reference gets is known only once every schema is converted, so `convert` leaves
 * references tagged with their mode (`#/$defs/input/Artifact`) and `finalize` rewrites them.
 */
class SchemaCollector {
  private readonly defs: Record<SchemaIo, Map<string, JsonSchema>> = {
    input: new Map(),
    output: new Map(),
  };

  /** Converts one schema; its references stay tagged until `finalize`. */
  convert(schema: z.ZodType, io: SchemaIo): JsonSchema {
    const {
      $schema: _dialect,
      $defs,
      ...json
    } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      metadata: z.globalRegistry,
      // A schema used twice is written out twice unless it has an id: ids are the API's names.
      reused: 'inline',
    }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    const tag = (id: string) => `${TAGGED_PREFIX}${io}/${id}`;
    for (const [id, def] of Object.entries($defs ?? {})) {
      const tagged = rewriteRefs(def, UNTAGGED_PREFIX, tag);
      const known = this.defs[io].get(id);
      if (known && canonicalJson(known) !== canonicalJson(tagged)) {
        throw new Error(`Two different schemas carry the meta id ${id}.`);
      }
      this.defs[io].set(id, tagged);
    }
    return rewriteRefs(json, UNTAGGED_PREFIX, tag);
  }

  /** Every component, references final, sorted by name so the file never churns. */
  components(): Record<string, JsonSchema> {
    const named = new Map<string, JsonSchema>();
    for (const io of ['input', 'output'] as const) {
      for (const [id, def] of this.defs[io]) named.set(this.componentName(io, id), def);
    }
    const sorted = [...named.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(sorted.map((name) => [name, this.finalize(named.get(name)!)]));
  }

  /** Rewrites every tagged reference in `value` to its component. */
  finalize<T>(value: T): T {
    return rewriteRefs(value, TAGGED_PREFIX, (taggedId) => {
      const [io, id] = taggedId.split('/') as [SchemaIo, string];
      return COMPONENT_PREFIX + this.componentName(io, id);
    });
  }

  private componentName(io: SchemaIo, id: string): string {
    const input = this.defs.input.get(id);
    const output = this.defs.output.get(id);
    const differs = input && output && canonicalJson(input) !== canonicalJson(output);
    return io === 'input' && differs ? `${id}Input` : id;
  }
}

const UNTAGGED_PREFIX = '#/$defs/';
const TAGGED_PREFIX = '#/$defs/owp-io/';

/** Replaces each `$ref` that starts with `prefix` by `target(rest of the ref)`. */
function rewriteRefs<T>(value: T, prefix: string, target: (rest: string) => string): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, child]) =>
        key === '$ref' && typeof child === 'string' && child.startsWith(prefix)
          ? [key, target(child.slice(prefix.length))]
          : [key, walk(child)],
      ),
    );
  };
  return walk(value) as T;
}

/** The properties of a params/query object, each as one OpenAPI parameter. */
function parametersOf(
  collector: SchemaCollector,
  object: z.ZodObject,
  location: 'path' | 'query',
): OpenApiParameter[] {
  const shape = object.shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([key, property]) => {
    const { description, ...schema } = collector.convert(property, 'input');
    const wildcard = key === '*';
    const text = wildcard ? WILDCARD_PARAMETER.description : description;
    return {
      name: wildcard ? WILDCARD_PARAMETER.name : key,
      in: location,
      required: location === 'path' || !property.safeParse(undefined).success,
      ...(typeof text === 'string' ? { description: text } : {}),
      schema,
    };
  });
}

/** What a reader needs beyond the route's one-line summary. */
const operationNotes: Partial<Record<RouteName, string>> = {
  getTask:
    'A worker may read only the tasks it holds (403 `forbidden` otherwise); the admin token reads any.',
  listEvents:
    'With a worker token, only the events whose `worker_id` is that worker. With the viewer token, every event without its `actor` (who made it is the audit log, for the admin token only).',
  auditEvents: [
    'Every filter given must hold; `since` is inclusive and `until` exclusive (ISO 8601; a `+`',
    'offset must be sent as `%2B`). Pages run in sequence order: pass `next_after` as `after` for',
    'the next one; it is null on the last.',
    '',
    '`format=csv` (or `Accept: text/csv`) answers `text/csv; charset=utf-8` (RFC 4180, CRLF, a',
    'header row `seq,at,type,actor,repo,task_id,worker_id,data`, `data` as JSON) with the next',
    'page in the `X-OWP-Next-After` header. With `format` given, either form comes as a download',
    '(`Content-Disposition: attachment; filename="owp-audit.csv"` or `.json`).',
    '',
    'The admin token only: the viewer token gets 403 `forbidden`.',
  ].join('\n'),
  backupDatabase: [
    'One consistent snapshot (`VACUUM INTO`: every commit up to its start, none after), checked',
    '(`PRAGMA quick_check`) before it is sent; the server keeps answering meanwhile. Put in place',
    'of the database file of a stopped server, it restores the pool. The admin token only: the',
    "file holds every task, and the workers' token hashes.",
  ].join('\n'),
  repoAnalytics: [
    'The period is `since` (inclusive) to `until` (exclusive), by default the 30 days up to now.',
    'Lead time runs from creation to merge over the tasks merged in the period; cycle time from',
    'the grant of a lease to the PR opened under it. The requeue rate is (expired + released +',
    'requeued) per grant. Worker utilization is the point-time this repo held of the points',
    'capacity of the workers online; review-budget saturation the share of the time the budget was',
    'full. The offer rate is null when no offer was answered or lapsed in the period. Definitions:',
    'README, "Analytics". A viewer token may read it, like every admin read.',
  ].join('\n'),
};

function describeOperation(name: RouteName, spec: RouteSpec): string | undefined {
  const notes: string[] = [];
  const note = operationNotes[name];
  if (note) notes.push(note);
  if (spec.v01) notes.push('Part of OWP v0.1: its request and response shapes never change.');
  if (spec.idempotent) {
    notes.push(
      'Safe to retry with an `Idempotency-Key` header: a replay with the same key and request ' +
        'returns the first answer, with `Idempotent-Replayed: true`, and changes nothing. ' +
        'Keys are kept for a day.',
    );
  }
  return notes.length ? notes.join('\n\n') : undefined;
}

function errorResponses(codes: ErrorCode[]): Record<string, OpenApiResponse> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorRegistry[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const statuses = [...byStatus.keys()].sort((a, b) => a - b);
  return Object.fromEntries(
    statuses.map((status) => {
      const list = byStatus.get(status)!;
      const lines = list.map((code) => `- \`${code}\`: ${errorRegistry[code].summary}`);
      return [
        String(status),
        {
          description: `${httpStatusText[status] ?? 'Error'}.\n\n${lines.join('\n')}`,
          content: { 'application/json': { schema: ERROR_ENVELOPE_REF } },
          'x-owp-error-codes': list,
        },
      ];
    }),
  );
}

function buildOperation(
  collector: SchemaCollector,
  name: RouteName,
  spec: RouteSpec,
): OpenApiOperation {
  const description = describeOperation(name, spec);
  const parameters: NonNullable<OpenApiOperation['parameters']> = [
    ...(spec.params ? parametersOf(collector, spec.params, 'path') : []),
    ...(spec.query ? parametersOf(collector, spec.query, 'query') : []),
    ...(spec.idempotent ? [{ $ref: `#/components/parameters/${IDEMPOTENCY_PARAMETER}` }] : []),
  ];
  const requestBody: OpenApiOperation['requestBody'] = spec.body && {
    // The server reads a missing body as `{}`, so a body whose fields all default may be left out.
    required: !spec.body.safeParse({}).success,
    content: {
      'application/json': { schema: collector.convert(spec.body, 'input') },
    },
  };
  const success = spec.successStatus ?? 200;
  const successResponse: OpenApiResponse = { description: httpStatusText[success]! };
  if (spec.download) {
    successResponse.content = {
      [spec.download]: { schema: { type: 'string', contentMediaType: spec.download } },
    };
    successResponse.headers = {
      'Content-Disposition': {
        description: '`attachment` and the file name of the download.',
        schema: { type: 'string' },
      },
    };
  } else if (success !== 204) {
    successResponse.content = {
      'application/json': { schema: collector.convert(spec.response, 'output') },
      ...(spec.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}),
    };
  }
  if (spec.csv) {
    successResponse.headers = {
      'X-OWP-Next-After': {
        description: 'CSV only: the `after` of the next page; absent on the last page.',
        schema: { type: 'integer', minimum: 0 },
      },
      'Content-Disposition': {
        description: 'With `format` given: `attachment` and the file name of the download.',
        schema: { type: 'string' },
      },
    };
  }
  // Assembled in one literal so every operation lists its keys in the same order.
  return {
    operationId: name,
    summary: spec.summary,
    ...(description ? { description } : {}),
    tags: [routeTags[name]],
    security: securityOf(spec),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [String(success)]: successResponse,
      ...errorResponses(errorCodesFor(name, spec)),
    },
    ...(spec.v01 ? { 'x-owp-v01': true as const } : {}),
  };
}

/** `/v1/admin/repos/*` → `/v1/admin/repos/{repo}`; `{param}` segments are already OpenAPI's. */
export function toOpenApiPath(path: string): string {
  return path.endsWith('/*') ? `${path.slice(0, -1)}{${WILDCARD_PARAMETER.name}}` : path;
}

/** The OpenAPI 3.1 document for every route of the protocol's route table. */
/**
 * `GET /v1/events` is not in the route table: it answers a stream, not JSON, and the server
 * registers it by hand (server/event-stream.ts). Documented here so the reference is whole.
 */
function eventStreamOperation(): OpenApiOperation {
  const error = (description: string, codes: string[]) => ({
    description: `${description}\n\n${codes.map((c) => `- \`${c}\``).join('\n')}`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
    'x-owp-error-codes': codes,
  });
  return {
    operationId: 'streamEvents',
    summary: 'The live event stream (Server-Sent Events).',
    description: [
      'Each event is sent as `id: <seq>`, `event: <type>`, `data: <OwpEvent as JSON>`. A client',
      'that reconnects with `Last-Event-ID` (or `?after=`) first receives every event it missed,',
      'from the event table, then live ones, with no gap and no repeat. Comment lines keep idle',
      'connections alive. Admins (and viewers) see every event; a worker sees its own.',
    ].join('\n'),
    tags: ['events'],
    security: [{ workerToken: [] }, { adminToken: [] }, { viewerToken: [] }],
    parameters: [
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'Resume after this event sequence number.',
        schema: { type: 'integer', minimum: 0 },
      },
      {
        name: 'after',
        in: 'query',
        required: false,
        description: 'Resume after this event sequence number (when the header cannot be set).',
        schema: { type: 'integer', minimum: 0 },
      },
    ],
    responses: {
      '200': {
        description: 'A stream of `OwpEvent`s.',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      '400': error('Bad request.', ['validation_failed']),
      '401': error('Unauthorized.', ['unauthorized']),
      '429': error('Too many failed authentications.', ['rate_limited']),
      '503': error('Too many open streams.', ['not_ready']),
    },
  } as unknown as OpenApiOperation;
}

export function buildOpenApiDocument(): OpenApiDocument {
  const collector = new SchemaCollector();
  const paths: OpenApiDocument['paths'] = {};
  for (const [name, spec] of Object.entries(routes) as [RouteName, RouteSpec][]) {
    const path = toOpenApiPath(spec.path);
    const method = spec.method.toLowerCase() as HttpMethod;
    (paths[path] ??= {})[method] = buildOperation(collector, name, spec);
  }
  paths['/v1/events'] = { get: eventStreamOperation() };
  // Every error response points at the one envelope; converting it adds it to the components.
  collector.convert(ErrorEnvelope, 'output');

  const { description: idempotencyDescription, ...idempotencySchema } = collector.convert(
    IdempotencyKey,
    'input',
  );
  // Finalized as a whole, so no reference can leave here still tagged with its mode.
  return collector.finalize<OpenApiDocument>({
    openapi: '3.1.0',
    info: {
      title: 'OWP Pool API',
      version: packageJson.version,
      summary: 'A scheduler for the Open Work Protocol.',
      description: [
        'OWP Pool hands tasks to independent workers as time-bound leases, within per-repo',
        'review budgets and area locks.',
        '',
        'Workers authenticate with `Authorization: Bearer <token>` (the token is returned once by',
        '`POST /v1/workers/register`); maintainer operations need the `X-Admin-Token` header.',
        'Every error answers with `{"error": {"code", "message", "details"}}`; the `code` is',
        'stable and each operation lists the codes it can return.',
      ].join('\n'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // OWP Pool is self-hosted: there is no canonical URL, so the server is a template whose
    // defaults are those of OWP_HOST and OWP_PORT.
    servers: [
      {
        url: '{scheme}://{host}:{port}',
        description: 'A self-hosted OWP Pool server.',
        variables: {
          scheme: { enum: ['http', 'https'], default: 'http' },
          host: { default: '127.0.0.1', description: 'OWP_HOST of the server.' },
          port: { default: '8787', description: 'OWP_PORT of the server.' },
        },
      },
    ],
    tags: (Object.entries(OPERATION_TAGS) as [OperationTag, string][]).map(
      ([tag, description]) => ({ name: tag, description }),
    ),
    paths,
    components: {
      securitySchemes: {
        workerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The worker token returned once by `POST /v1/workers/register`.',
        },
        adminToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Admin-Token',
          description: "The server's admin token (`OWP_ADMIN_TOKEN`).",
        },
        viewerToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Viewer-Token',
          description:
            'The read-only viewer token (`OWP_VIEWER_TOKEN`): every `GET` an admin may make except the audit log; anything else answers `403 forbidden`.',
        },
      },
      parameters: {
        [IDEMPOTENCY_PARAMETER]: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            typeof idempotencyDescription === 'string'
              ? idempotencyDescription
              : 'Makes a mutating worker call safe to retry: a repeat with the same key returns ' +
                'the first answer; reusing the key for a different request is refused with 422.',
          schema: idempotencySchema,
        },
      },
      schemas: collector.components(),
    },
  });
}
