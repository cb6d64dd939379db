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
    });
  });

  it('reads numbers from strings and ignores unrelated variables', () => {
    const config = loadConfig({ OWP_PORT: '9000', OWP_LEASE_TTL: '600', HOME: '/root' });
    expect(config).toMatchObject({ OWP_PORT: 9000, OWP_LEASE_TTL: 600 });
  });

  it.each([
    [{ OWP_PORT: 'eighty' }, /^OWP_PORT: /],
    [{ OWP_PORT: '70000' }, /^OWP_PORT: /],
    [{ OWP_LEASE_TTL: '1' }, /^OWP_LEASE_TTL: /],
    [{ OWP_ADMIN_TOKEN: 'short' }, /^OWP_ADMIN_TOKEN: must be at least 16 characters/],
    [{ OWP_LOG_LEVEL: 'loud' }, /^OWP_LOG_LEVEL: /],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
