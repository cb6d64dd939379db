import { afterEach, describe, expect, it } from 'vitest';
import {
  createGithubClient,
  githubOptionsFromEnv,
  GithubRateLimitError,
  rateLimitWaitMs,
  type RateLimitWait,
} from './github-client.ts';
import { FakeGithub } from './testing/fake-github.ts';

const NOW = 1_700_000_000_000;

describe('rateLimitWaitMs', () => {
  it('honours retry-after, in seconds', () => {
    expect(rateLimitWaitMs(403, { 'retry-after': '7' }, NOW)).toBe(7000);
    expect(rateLimitWaitMs(429, { 'retry-after': '0' }, NOW)).toBe(0);
  });

  it('waits until x-ratelimit-reset when none remain, a little past it', () => {
    const reset = String(NOW / 1000 + 10);
    expect(
      rateLimitWaitMs(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }, NOW),
    ).toBe(10_250);
  });

  it('does not retry a 403 that is a real permission error, nor other statuses', () => {
    expect(rateLimitWaitMs(403, { 'x-ratelimit-remaining': '4999' }, NOW)).toBeNull();
    expect(rateLimitWaitMs(404, { 'retry-after': '1' }, NOW)).toBeNull();
    expect(rateLimitWaitMs(500, {}, NOW)).toBeNull();
  });

  it('gives a bare 429 a minute, and a 403 that names the secondary rate limit', () => {
    expect(rateLimitWaitMs(429, {}, NOW)).toBe(60_000);
    const secondary =
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
    expect(rateLimitWaitMs(403, {}, NOW, secondary)).toBe(60_000);
    expect(rateLimitWaitMs(403, {}, NOW, 'Resource not accessible by integration')).toBeNull();
  });
});

describe('githubOptionsFromEnv', () => {
  it('reads GITHUB_TOKEN and GITHUB_API_URL, defaulting to the public API', () => {
    expect(githubOptionsFromEnv({})).toEqual({
      token: undefined,
      baseUrl: 'https://api.github.com',
    });
    expect(
      githubOptionsFromEnv({ GITHUB_TOKEN: 't', GITHUB_API_URL: 'https://ghe.example/api/v3/' }),
    ).toEqual({ token: 't', baseUrl: 'https://ghe.example/api/v3' });
  });
});

describe('createGithubClient against the fake GitHub', () => {
  const fake = new FakeGithub('ghp_client_test_token');
  afterEach(() => fake.close());

  it('waits out a rate limit a bounded number of times, then gives up', async () => {
    await fake.start();
    fake.addIssues('acme/app', [{ title: 'One', labels: ['pool:ready'] }]);
    fake.rateLimitNext('GET', /\/issues$/, 3);
    const waits: RateLimitWait[] = [];
    const slept: number[] = [];
    const octokit = createGithubClient({
      token: 'ghp_client_test_token',
      baseUrl: fake.baseUrl,
      rateLimitRetries: 2,
      onRateLimit: (wait) => waits.push(wait),
      sleep: async (ms) => void slept.push(ms),
    });
    await expect(
      octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'app' }),
    ).rejects.toMatchObject({ status: 403 });
    expect(waits.map((w) => w.attempt)).toEqual([1, 2]);
    expect(slept.every((ms) => ms >= 250 && ms <= 1250)).toBe(true);

    // One rate limit left in the script: the next call waits once and succeeds.
    const { data } = await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'app' });
    expect(data.map((i) => i.title)).toEqual(['One']);
  });

  it('refuses to wait longer than its bound', async () => {
    await fake.start();
    fake.addIssues('acme/app', [{ title: 'One' }]);
    fake.failNext('GET', /\/issues$/, 429, { headers: { 'retry-after': '3600' } });
    const octokit = createGithubClient({
      token: 'ghp_client_test_token',
      baseUrl: fake.baseUrl,
      maxRateLimitWaitMs: 5_000,
    });
    await expect(
      octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'app' }),
    ).rejects.toBeInstanceOf(GithubRateLimitError);
  });
});
