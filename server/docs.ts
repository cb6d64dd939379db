/**
 * Serves the OpenAPI document and an HTML reference rendered from it on the server, so the docs
 * work offline and behind a firewall. Rejected: Redoc or Swagger UI from a CDN, which would make
 * the page depend on the network and on scripts we do not ship.
 */
import type { FastifyInstance } from 'fastify';
import type {
  JsonSchema,
  OpenApiDocument,
  OpenApiOperation,
  OpenApiParameter,
  SecuritySchemeName,
} from '../protocol/openapi.ts';

/**
 * Nothing but the inline stylesheet may load: the page has no scripts, images or fonts, and a
 * schema description can never smuggle one in.
 */
const DOCS_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** Adds `GET /openapi.json` (the document as given) and `GET /docs` (its HTML reference). */
export function registerDocs(app: FastifyInstance, document: OpenApiDocument): void {
  // Rendered once: the document is fixed for the life of the process.
  const page = renderDocsPage(document);
  app.get('/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(document),
  );
  app.get('/docs', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', DOCS_CSP)
      .header('x-content-type-options', 'nosniff')
      .send(page),
  );
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** The small Markdown the document's descriptions use: paragraphs, `- ` lists and `code`. */
function renderProse(text: string): string {
  const inline = (line: string) => escapeHtml(line).replace(/`([^`]+)`/g, '<code>$1</code>');
  return text
    .split(/\n{2,}/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((line) => line.startsWith('- '))) {
        return `<ul>${lines.map((line) => `<li>${inline(line.slice(2))}</li>`).join('')}</ul>`;
      }
      return `<p>${inline(lines.join(' '))}</p>`;
    })
    .join('\n');
}

const schemaAnchor = (name: string) => `schema-${name}`;
const operationAnchor = (id: string) => `op-${id}`;

/** A one-line, linked rendering of a schema's type: `Task[]`, `string | null`, `{ ok: true }`. */
function schemaLabel(schema: JsonSchema | undefined): string {
  if (!schema || Object.keys(schema).length === 0) return 'any';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop()!;
    return `<a href="#${escapeHtml(schemaAnchor(name))}">${escapeHtml(name)}</a>`;
  }
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return union.map(schemaLabel).join(' | ');
  if ('const' in schema) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
  if (Array.isArray(schema.enum)) {
    return schema.enum
      .map((value) => `<code>${escapeHtml(JSON.stringify(value))}</code>`)
      .join(' | ');
  }
  if (Array.isArray(schema.type)) return schema.type.map((t) => escapeHtml(String(t))).join(' | ');
  if (schema.type === 'array') return `${schemaLabel(schema.items as JsonSchema)}[]`;
  if (schema.type === 'object') {
    const properties = schema.properties as Record<string, JsonSchema> | undefined;
    if (properties && Object.keys(properties).length) {
      const fields = Object.entries(properties).map(
        ([key, value]) => `${escapeHtml(key)}: ${schemaLabel(value)}`,
      );
      return `{ ${fields.join(', ')} }`;
    }
    const values = schema.additionalProperties;
    if (values && typeof values === 'object')
      return `map&lt;string, ${schemaLabel(values as JsonSchema)}&gt;`;
    return 'object';
  }
  const type = typeof schema.type === 'string' ? schema.type : 'any';
  return typeof schema.format === 'string'
    ? `${escapeHtml(type)} (${escapeHtml(schema.format)})`
    : escapeHtml(type);
}

function authLabel(document: OpenApiDocument, security: OpenApiOperation['security']): string {
  if (security.length === 0) return 'none';
  return security
    .flatMap((requirement) => Object.keys(requirement))
    .map((name) => {
      const scheme = document.components.securitySchemes[name as SecuritySchemeName];
      const how =
        scheme?.type === 'http'
          ? `Authorization: ${(scheme.scheme ?? '').replace(/^./, (c) => c.toUpperCase())}`
          : `${scheme?.name ?? ''} header`;
      return `${escapeHtml(name)} <span class="muted">(${escapeHtml(how.trim())})</span>`;
    })
    .join(' or ');
}

function resolveParameter(
  document: OpenApiDocument,
  parameter: OpenApiParameter | { $ref: string },
): OpenApiParameter | undefined {
  if (!('$ref' in parameter)) return parameter;
  return document.components.parameters[parameter.$ref.split('/').pop()!];
}

function renderParameters(document: OpenApiDocument, operation: OpenApiOperation): string {
  const parameters = (operation.parameters ?? [])
    .map((parameter) => resolveParameter(document, parameter))
    .filter((parameter): parameter is OpenApiParameter => parameter !== undefined);
  if (!parameters.length) return '';
  const rows = parameters.map(
    (p) =>
      `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td>` +
      `<td>${p.required ? 'required' : 'optional'}</td><td>${schemaLabel(p.schema)}</td>` +
      `<td>${p.description ? renderProse(p.description) : ''}</td></tr>`,
  );
  return (
    '<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th></th><th>Type</th>' +
    `<th>Description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function renderResponses(operation: OpenApiOperation): string {
  const rows = Object.entries(operation.responses).map(([status, response]) => {
    // The event stream answers text/event-stream; everything else JSON.
    const schema = response.content?.['application/json']?.schema;
    const codes = (response['x-owp-error-codes'] ?? [])
      .map((code) => `<code>${escapeHtml(code)}</code>`)
      .join(' ');
    const kind = status.startsWith('2') ? 'ok' : 'error';
    return (
      `<tr><td><span class="status status-${kind}">${escapeHtml(status)}</span></td>` +
      `<td>${schema ? schemaLabel(schema) : '—'}</td><td>${codes}</td></tr>`
    );
  });
  return (
    '<h4>Responses</h4><table><thead><tr><th>Status</th><th>Body</th><th>Error codes</th>' +
    `</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function renderOperation(
  document: OpenApiDocument,
  path: string,
  method: string,
  operation: OpenApiOperation,
): string {
  const badges = [
    operation['x-owp-v01'] ? '<span class="badge">OWP v0.1</span>' : '',
    (operation.parameters ?? []).some(
      (p) => resolveParameter(document, p)?.name === 'Idempotency-Key',
    )
      ? '<span class="badge">idempotent</span>'
      : '',
  ].join('');
  const body = operation.requestBody
    ? `<h4>Request body</h4><p>${schemaLabel(operation.requestBody.content['application/json'].schema)}` +
      ` <span class="muted">(application/json, ${operation.requestBody.required ? 'required' : 'optional'})</span></p>`
    : '';
  return `<article class="operation" id="${escapeHtml(operationAnchor(operation.operationId))}">
<h3><span class="method method-${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code class="path">${escapeHtml(path)}</code>${badges}</h3>
<p class="summary">${escapeHtml(operation.summary)}</p>
<p class="meta"><span class="muted">Operation</span> <code>${escapeHtml(operation.operationId)}</code> · <span class="muted">Auth</span> ${authLabel(document, operation.security)}</p>
${operation.description ? renderProse(operation.description) : ''}
${renderParameters(document, operation)}${body}${renderResponses(operation)}
</article>`;
}

function renderSchema(name: string, schema: JsonSchema): string {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties ?? {}).map(([key, value]) => {
    const description = typeof value.description === 'string' ? renderProse(value.description) : '';
    return (
      `<tr><td><code>${escapeHtml(key)}</code></td><td>${schemaLabel(value)}</td>` +
      `<td>${required.has(key) ? 'required' : 'optional'}</td><td>${description}</td></tr>`
    );
  });
  const variants = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  const table = rows.length
    ? '<table><thead><tr><th>Field</th><th>Type</th><th></th><th>Description</th></tr></thead>' +
      `<tbody>${rows.join('')}</tbody></table>`
    : Array.isArray(variants)
      ? `<p>One of:</p><ul class="variants">${variants.map((v) => `<li>${schemaLabel(v)}</li>`).join('')}</ul>`
      : `<p>${schemaLabel(schema)}</p>`;
  return `<article class="schema" id="${escapeHtml(schemaAnchor(name))}"><h3>${escapeHtml(name)}</h3>${table}</article>`;
}

const STYLE = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --panel: #f6f8fa; --accent: #0969da; --get: #1a7f37; --post: #0969da; --patch: #9a6700;
  --delete: #cf222e; --error: #cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23;
    --accent: #4493f8; --get: #3fb950; --post: #4493f8; --patch: #d29922; --delete: #f85149;
    --error: #f85149; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
header, main, nav { max-width: 72rem; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1.5rem; border-bottom: 1px solid var(--line); }
a { color: var(--accent); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em;
  background: var(--panel); padding: 0.05em 0.3em; border-radius: 4px; }
nav ul { list-style: none; padding: 0; columns: 2 22rem; }
nav li { break-inside: avoid; margin: 0.1rem 0; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: 0.3rem; margin-top: 2.5rem; }
.operation, .schema { border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem;
  margin: 1rem 0; background: var(--bg); }
.operation h3 { margin: 0; font-size: 1.05rem; display: flex; gap: 0.5rem; align-items: center;
  flex-wrap: wrap; }
.method { font: 700 0.8rem ui-monospace, monospace; color: #fff; padding: 0.15rem 0.5rem;
  border-radius: 4px; min-width: 4.2rem; text-align: center; }
.method-get { background: var(--get); } .method-post { background: var(--post); }
.method-patch { background: var(--patch); } .method-delete { background: var(--delete); }
.badge { font-size: 0.75rem; border: 1px solid var(--line); border-radius: 999px;
  padding: 0 0.5rem; color: var(--muted); }
.muted { color: var(--muted); }
.summary { margin: 0.4rem 0; }
table { border-collapse: collapse; width: 100%; margin: 0.25rem 0 0.75rem; font-size: 0.9rem; }
th, td { text-align: left; border-top: 1px solid var(--line); padding: 0.3rem 0.5rem;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td p { margin: 0; }
.variants li { margin: 0.2rem 0; }
h4 { margin: 0.75rem 0 0.25rem; font-size: 0.9rem; }
.status { font-family: ui-monospace, monospace; font-weight: 700; }
.status-ok { color: var(--get); } .status-error { color: var(--error); }
`;

/** The whole reference page: operations grouped by tag, then every component schema. */
export function renderDocsPage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation: operation! })),
  );
  const tags = document.tags.map((tag) => ({
    ...tag,
    operations: operations.filter(({ operation }) => operation.tags.includes(tag.name)),
  }));
  const toc = tags
    .map(
      (tag) =>
        `<li><a href="#tag-${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</a><ul>` +
        tag.operations
          .map(
            ({ path, method, operation }) =>
              `<li><a href="#${escapeHtml(operationAnchor(operation.operationId))}">` +
              `${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</a></li>`,
          )
          .join('') +
        '</ul></li>',
    )
    .join('');
  const sections = tags
    .map(
      (tag) =>
        `<section id="tag-${escapeHtml(tag.name)}"><h2>${escapeHtml(tag.name)}</h2>` +
        `${renderProse(tag.description)}\n` +
        tag.operations
          .map(({ path, method, operation }) => renderOperation(document, path, method, operation))
          .join('\n') +
        '</section>',
    )
    .join('\n');
  const schemas = Object.entries(document.components.schemas)
    .map(([name, schema]) => renderSchema(name, schema))
    .join('\n');
  const { info } = document;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} ${escapeHtml(info.version)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(info.title)} <span class="muted">${escapeHtml(info.version)}</span></h1>
${renderProse(info.description)}
<p>Machine-readable: <a href="/openapi.json">openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p>
</header>
<nav><h2>Contents</h2><ul>${toc}<li><a href="#schemas">schemas</a></li></ul></nav>
<main>
${sections}
<section id="schemas"><h2>schemas</h2>
${schemas}
</section>
</main>
</body>
</html>
`;
}
