/**
 * Part 7 — SECURITY.md stays true. The names it tells operators to use (environment variables,
 * headers, routes, CLI commands) must exist, and the worker-token replacement it gives must
 * really lock the old token out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routes } from '../../protocol/routes.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { ServerConfig } from '../../server/config.ts';
import { FigureSheet, atLeast, zero } from '../support/figures.ts';
import { REPO_ROOT } from '../support/processes.ts';

const sheet = new FigureSheet(7, 'SECURITY.md');
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

describe('SECURITY.md', () => {
  const doc = existsSync(join(REPO_ROOT, 'SECURITY.md')) ? read('SECURITY.md') : '';

  it('covers the threat model, reporting, and token rotation, with names that exist', () => {
    const stale: string[] = [];
    let checked = 0;
    const claim = (ok: boolean, what: string) => {
      checked++;
      if (!ok) stale.push(what);
    };
    for (const heading of [
      '## Reporting a vulnerability',
      '## Who can do what',
      '## What is trusted',
      '## Protections',
      '## Rotating tokens',
    ]) {
      claim(doc.includes(heading), `section ${heading}`);
    }
    claim(
      /security@owp-pool\.invalid/.test(doc) && /placeholder/i.test(doc),
      'the placeholder reporting address, called a placeholder',
    );
    const settings = Object.keys(ServerConfig.shape);
    for (const variable of new Set(doc.match(/OWP_[A-Z_]+/g) ?? []))
      claim(settings.includes(variable), `environment variable ${variable}`);
    const app = read('server/app.ts').toLowerCase();
    for (const header of ['x-admin-token', 'x-viewer-token', 'authorization'])
      claim(app.includes(`'${header}'`), `header ${header}`);
    const paths = Object.values(routes).map((route) => route.path.replace(/\{\w+\}/g, '{}'));
    for (const path of new Set(doc.match(/\/v1\/[\w/{}]+/g) ?? []))
      claim(paths.includes(path.replace(/\{\w+\}/g, '{}')), `route ${path}`);
    const cli = ['server/cli/commands/worker.ts', 'server/cli/commands/github.ts']
      .map(read)
      .join('\n');
    for (const command of ['register', 'import-github-issues'])
      claim(cli.includes(`.command('${command}')`), `CLI command ${command}`);
    claim(read('Dockerfile').includes('USER node'), 'the container runs as node');
    sheet.add(
      atLeast('claims checked against the code', checked, 15),
      zero('stale claims', stale.length),
    );
    for (const what of stale)
      sheet.note(`SECURITY.md names something that does not exist: ${what}`);
    expect(stale).toEqual([]);
  });

  it('gives a worker-token replacement that locks the old token out and keeps the worker', () => {
    const admin = read('server/cli/commands/admin.ts');
    const worker = read('server/cli/commands/worker.ts');
    const told =
      doc.includes('owp admin new-token') &&
      admin.includes(".command('new-token')") &&
      doc.includes('owp worker token') &&
      worker.includes(".command('token')");
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    const engine = new Scheduler({ driver, clock: systemClock });
    const { worker_id, token } = engine.registerWorker({ name: 'leaked' });
    const replaced = engine.replaceWorkerToken(worker_id);
    const lockedOut = engine.authenticateWorker(token) === undefined;
    const renewed = engine.authenticateWorker(replaced.token) === worker_id;
    const kept = engine.getWorker(worker_id).name === 'leaked';
    driver.close();
    sheet.add(
      zero('token replacement: old token still accepted', lockedOut && renewed && kept ? 0 : 1),
    );
    expect(told).toBe(true);
    expect(lockedOut).toBe(true);
    expect(renewed).toBe(true);
    expect(kept).toBe(true);
  });
});
