/**
 * The dashboard's credential, kept in session storage: it lives as long as the tab, is never put
 * in a URL, and is not shared with other tabs. (localStorage was rejected: an admin token should
 * not outlive the tab that was given it.)
 */

/** Who signed in: the admin (everything) or a viewer (read-only, `X-Viewer-Token`). */
export type Role = 'admin' | 'viewer';

export interface Credential {
  role: Role;
  token: string;
}

export const CREDENTIAL_KEY = 'owp-dashboard.credential';

type SessionStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The stored credential, or null when there is none or it is unreadable. */
export function loadCredential(storage: SessionStore): Credential | null {
  const raw = storage.getItem(CREDENTIAL_KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Credential>;
    if ((value.role === 'admin' || value.role === 'viewer') && typeof value.token === 'string') {
      return value.token.trim() ? { role: value.role, token: value.token } : null;
    }
  } catch {
    // A damaged entry is treated as signed out; the next sign-in overwrites it.
  }
  return null;
}

export function saveCredential(storage: SessionStore, credential: Credential): void {
  storage.setItem(CREDENTIAL_KEY, JSON.stringify(credential));
}

export function clearCredential(storage: SessionStore): void {
  storage.removeItem(CREDENTIAL_KEY);
}
