import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiPath, renderOpenApiJson } from '../scripts/build-openapi.ts';
import { errorRegistry } from './errors.ts';
import {
  buildOpenApiDocument,
  errorCodesFor,
  toOpenApiPath,
  type HttpMethod,
  type JsonSchema,
  type OpenApiOperation,
  type OpenApiParameter,
} from './openapi.ts';
import { routes, type RouteName, type RouteSpec } from './routes.ts';

const document = buildOpenApiDocument();
const routeEntries = Object.entries(routes) as [RouteName, RouteSpec][];

function operationOf(spec: RouteSpec): OpenApiOperation {
  const operation =
    document.paths[toOpenApiPath(spec.path)]?.[spec.method.toLowerCase() as HttpMethod];
  if (!operation) throw new Error(`No operation for ${spec.method} ${spec.path}`);
  return operation;
}

/** Every `$ref` string anywhere in the document, with where it was found. */
function collectRefs(node: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(node)) return node.flatMap((child, i) => collectRefs(child, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, child]) =>
    key === '$ref' && typeof child === 'string'
      ? [{ ref: child, at }]
      : collectRefs(child, `${at}/${key}`),
  );
}

/** Follows a local JSON pointer (`#/components/schemas/Task`) through the document. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>(
      (node, token) =>
        node !== null && typeof node === 'object'
          ? (node as Record<string, unknown>)[token]
          : undefined,
      root,
    );
}

describe('the committed protocol/openapi.json', () => {
  it('equals a fresh build from the route table', () => {
    const committed = readFileSync(openApiPath, 'utf8');
    expect(committed, 'protocol/openapi.json is stale: run `npm run gen`').toBe(
      renderOpenApiJson(),
    );
  });

  it('builds the same bytes every time, so regenerating never churns the file', () => {
    expect(renderOpenApiJson()).toBe(renderOpenApiJson());
    const names = Object.keys(document.components.schemas);
    expect(names).toEqual([...names].sort());
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the package version', () => {
    const packageJson = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('OWP Pool API');
    expect(document.info.version).toBe(packageJson.version);
  });

  it('has one operation per route of the table, under its method and path, plus the event stream', () => {
    for (const [name, spec] of routeEntries) {
      expect(operationOf(spec).operationId, `${spec.method} ${spec.path}`).toBe(name);
    }
    const documented = Object.values(document.paths).flatMap((item) => Object.values(item));
    // The one operation outside the table: GET /v1/events, a text/event-stream answer.
    expect(documented).toHaveLength(routeEntries.length + 1);
    expect(document.paths['/v1/events']?.get?.operationId).toBe('streamEvents');
    expect(Object.keys(document.paths['/v1/events']!.get!.responses['200']!.content!)).toEqual([
      'text/event-stream',
    ]);
  });

  it('resolves every $ref', () => {
    const refs = collectRefs(document);
    expect(refs.length).toBeGreaterThan(50);
    const unresolved = refs.filter(({ ref }) => resolvePointer(document, ref) === undefined);
    expect(unresolved).toEqual([]);
  });

  it('publishes no component that nothing references', () => {
    const referenced = new Set(collectRefs(document).map(({ ref }) => ref));
    const unused = Object.keys(document.components.schemas).filter(
      (name) => !referenced.has(`#/components/schemas/${name}`),
    );
    expect(unused).toEqual([]);
  });

  it("lists in ErrorEnvelope's code enum exactly the codes of the error registry", () => {
    const envelope = document.components.schemas.ErrorEnvelope as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(envelope.properties.error.properties.code.enum).toEqual(Object.keys(errorRegistry));
  });

  it('answers every error status with the envelope, under the status its codes have', () => {
    for (const [name, spec] of routeEntries) {
      const errors = Object.entries(operationOf(spec).responses).filter(
        ([status]) => Number(status) >= 400,
      );
      const codes = errors.flatMap(([status, response]) => {
        expect(response.content?.['application/json']?.schema).toEqual({
          $ref: '#/components/schemas/ErrorEnvelope',
        });
        const listed = response['x-owp-error-codes'] ?? [];
        expect(listed.length, `${name} ${status}`).toBeGreaterThan(0);
        for (const code of listed) expect(String(errorRegistry[code].status)).toBe(status);
        return listed;
      });
      // Grouped by status, so compare as sets: no code is lost or invented on the way.
      expect([...codes].sort(), name).toEqual([...errorCodesFor(name, spec)].sort());
    }
  });

  it('documents the errors that follow from each route shape', () => {
    const statusesOf = (name: RouteName) => Object.keys(operationOf(routes[name]).responses);
    expect(statusesOf('healthz')).toEqual(['200']);
    // Worker writes: input, auth, lease ownership, a missing task, lifecycle conflicts, body
    // limits, idempotency and the failed-auth throttle.
    expect(statusesOf('updateStatus')).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      '415',
      '422',
      '429',
    ]);
    expect(operationOf(routes.deleteRepo).responses['409']?.['x-owp-error-codes']).toEqual([
      'repo_in_use',
    ]);
    expect(operationOf(routes.createTask).responses['400']?.['x-owp-error-codes']).toContain(
      'unknown_repo',
    );
  });

  it('requires the credentials each route checks', () => {
    const expected = {
      none: [],
      worker: [{ workerToken: [] }],
      admin: [{ adminToken: [] }],
      worker_or_admin: [{ workerToken: [] }, { adminToken: [] }],
    };
    // The read-only viewer token opens what an admin reads, the audit log excepted.
    const viewerReads = (spec: RouteSpec) =>
      (spec.auth === 'admin' || spec.auth === 'worker_or_admin') &&
      spec.method === 'GET' &&
      !spec.viewerDenied;
    for (const [name, spec] of routeEntries) {
      expect(operationOf(spec).security, name).toEqual([
        ...expected[spec.auth],
        ...(viewerReads(spec) ? [{ viewerToken: [] }] : []),
      ]);
      // Where the viewer token is not taken, sending it answers 403.
      const codes = operationOf(spec).responses['403']?.['x-owp-error-codes'] ?? [];
      if (spec.auth === 'admin' && !viewerReads(spec)) expect(codes, name).toContain('forbidden');
    }
    expect(operationOf(routes.poolState).security).toContainEqual({ viewerToken: [] });
    expect(operationOf(routes.auditEvents).security).not.toContainEqual({ viewerToken: [] });
    expect(document.components.securitySchemes).toMatchObject({
      workerToken: { type: 'http', scheme: 'bearer' },
      adminToken: { type: 'apiKey', in: 'header', name: 'X-Admin-Token' },
      viewerToken: { type: 'apiKey', in: 'header', name: 'X-Viewer-Token' },
    });
  });

  it('offers the Idempotency-Key header exactly on idempotent routes', () => {
    for (const [name, spec] of routeEntries) {
      const refs = (operationOf(spec).parameters ?? []).filter((p) => '$ref' in p);
      expect(refs, name).toEqual(
        spec.idempotent ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : [],
      );
    }
    expect(document.components.parameters.IdempotencyKey).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
    });
  });

  it('marks exactly the v0.1 routes with x-owp-v01', () => {
    for (const [name, spec] of routeEntries) {
      expect(operationOf(spec)['x-owp-v01'], name).toBe(spec.v01 ? true : undefined);
    }
  });

  it('tags every operation with a declared tag', () => {
    const declared = document.tags.map((tag) => tag.name);
    expect(declared).toEqual([
      'workers',
      'leases',
      'tasks',
      'admin',
      'events',
      'audit',
      'analytics',
      'ops',
    ]);
    for (const [name, spec] of routeEntries) {
      expect(declared, name).toContain(operationOf(spec).tags[0]);
    }
  });

  it('documents the repo wildcard as {repo}, with both ways to send the slash', () => {
    expect(document.paths['/v1/admin/repos/*']).toBeUndefined();
    const item = document.paths['/v1/admin/repos/{repo}']!;
    expect(Object.keys(item)).toEqual(['get', 'delete']);
    const [repo] = item.get!.parameters as OpenApiParameter[];
    expect(repo).toMatchObject({ name: 'repo', in: 'path', required: true });
    expect(repo!.description).toContain('owner/name');
    expect(repo!.description).toContain('owner%2Fname');
  });

  it('lists path and query parameters from the zod schemas, optional where they may be left out', () => {
    const [taskId] = operationOf(routes.getTask).parameters as OpenApiParameter[];
    expect(taskId).toMatchObject({ name: 'task_id', in: 'path', required: true });
    const query = operationOf(routes.listTasks).parameters as OpenApiParameter[];
    expect(query.map((p) => p.name)).toEqual([
      'repo',
      'status',
      'assignee',
      'area',
      'skill',
      'depends_on',
      'order',
      'limit',
      'cursor',
    ]);
    expect(query.every((p) => p.in === 'query' && !p.required)).toBe(true);
    expect(query.find((p) => p.name === 'limit')!.schema).toMatchObject({
      type: 'integer',
      default: 50,
      maximum: 500,
    });
  });

  it('describes requests as clients send them: fields with defaults are optional', () => {
    const create = operationOf(routes.createTask);
    expect(create.requestBody).toEqual({
      required: true,
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/TaskCreateRequest' } },
      },
    });
    expect(document.components.schemas.TaskCreateRequest!.required).toEqual(['repo', 'title']);
    // Every heartbeat field has a default, so the body itself may be left out.
    expect(operationOf(routes.heartbeat).requestBody?.required).toBe(false);
  });

  it('describes responses as the server sends them: every field present, none extra', () => {
    const task = document.components.schemas.Task as JsonSchema & { properties: object };
    expect(task.required).toEqual(Object.keys(task.properties));
    expect(task.additionalProperties).toBe(false);
    expect(operationOf(routes.getTask).responses['200']?.content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Task' } },
    });
  });

  it('publishes a schema used both ways under two names when its two forms differ', () => {
    // Artifact is strict in responses but tolerant of extra keys in requests (zod strips them).
    const { Artifact, ArtifactInput } = document.components.schemas;
    expect(Artifact?.additionalProperties).toBe(false);
    expect(ArtifactInput).toBeDefined();
    expect(ArtifactInput?.additionalProperties).toBeUndefined();
    const statusRequest = document.components.schemas.StatusUpdateRequest as {
      properties: { artifact: JsonSchema };
    };
    expect(JSON.stringify(statusRequest.properties.artifact)).toContain(
      '#/components/schemas/ArtifactInput',
    );
  });
});
