import { describe, expect, it } from 'vitest';
import { clearCredential, CREDENTIAL_KEY, loadCredential, saveCredential } from './session.ts';

/** sessionStorage's shape, in memory. */
function memoryStorage() {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

describe('the stored credential', () => {
  it('round-trips a role and token, and is gone after sign-out', () => {
    const storage = memoryStorage();
    expect(loadCredential(storage)).toBeNull();
    saveCredential(storage, { role: 'viewer', token: 'v-123' });
    expect(loadCredential(storage)).toEqual({ role: 'viewer', token: 'v-123' });
    clearCredential(storage);
    expect(loadCredential(storage)).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it('treats a damaged or foreign entry as signed out', () => {
    const storage = memoryStorage();
    for (const raw of [
      '{not json',
      '{"role":"root","token":"x"}',
      '{"role":"admin","token":"  "}',
      '42',
    ]) {
      storage.setItem(CREDENTIAL_KEY, raw);
      expect(loadCredential(storage)).toBeNull();
    }
  });
});
