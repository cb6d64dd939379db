import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      OWP_HOST: '127.0.0.1',
      OWP_PORT: 8787,
      OWP_DB_PATH: 'data/owp.db',
      OWP_LEASE_TTL: 1800,
      OWP_HEARTBEAT_TTL: 90,
      OWP_HEARTBEAT_COALESCE_MS: 1000,
      OWP_GROUP_COMMIT: true,
      OWP_MAX_ATTEMPTS: 5,
      OWP_OFFER_TTL: 900,
      OWP_LOG_LEVEL: 'info',
      OWP_REGISTRATIONS_PER_MINUTE: 20,
      OWP_AUTH_FAILURES_PER_MINUTE: 30,
      OWP_MAX_EVENT_STREAMS: 1000,
      OWP_REQUEST_TIMEOUT: 30,
      OWP_BACKUP_EVERY: 0,
      OWP_BACKUP_KEEP: 7,
    });
  });

  it('reads numbers from strings and ignores unrelated variables', () => {
    const config = loadConfig({ OWP_PORT: '9000', OWP_LEASE_TTL: '600', HOME: '/root' });
    expect(config).toMatchObject({ OWP_PORT: 9000, OWP_LEASE_TTL: 600 });
    // Spaces around the digits, as a CRLF .env leaves them, are not part of the number.
    expect(loadConfig({ OWP_PORT: ' 8080\r', OWP_HEARTBEAT_TTL: '120 ' })).toMatchObject({
      OWP_PORT: 8080,
      OWP_HEARTBEAT_TTL: 120,
    });
  });

  it.each([
    [{ OWP_PORT: 'eighty' }, /^OWP_PORT: /],
    [{ OWP_PORT: '70000' }, /^OWP_PORT: /],
    [{ OWP_LEASE_TTL: '1' }, /^OWP_LEASE_TTL: /],
    [{ OWP_ADMIN_TOKEN: 'short' }, /^OWP_ADMIN_TOKEN: must be at least 16 characters/],
    [{ OWP_LOG_LEVEL: 'loud' }, /^OWP_LOG_LEVEL: /],
    // Read as 0 (a random port), 1000 and 8931 by a coercion; digits only now.
    [{ OWP_PORT: '   ' }, /^OWP_PORT: must be a whole number from 0 to 65535, written in digits$/],
    [{ OWP_PORT: '1e3' }, /^OWP_PORT: must be a whole number/],
    [{ OWP_REQUEST_TIMEOUT: '0x1e' }, /^OWP_REQUEST_TIMEOUT: must be a whole number/],
    // HTTP drops spaces at the ends of a header: such a token could never be presented.
    [
      { OWP_ADMIN_TOKEN: 'abcdefghijklmnopq ' },
      /^OWP_ADMIN_TOKEN: must not start or end with a space/,
    ],
    [{ OWP_VIEWER_TOKEN: ' '.repeat(20) }, /^OWP_VIEWER_TOKEN: must not start or end with a space/],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
