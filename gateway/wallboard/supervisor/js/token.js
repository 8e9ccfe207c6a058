// The bearer token: kept in this tab's sessionStorage only (never in the
// URL, never in storage that outlives the tab), and read (not verified:
// the gateway does that) to tell the supervisor early when it cannot open
// the wallboard.

const KEY = 'airbranch.wallboard.token';

/** The roles that may read the figures. */
const ROLES = new Set(['supervisor', 'admin']);

/** The token of this tab, or "". */
export function load() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

/** Keeps token for this tab. */
export function save(token) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage refused (private mode): the token lives until the page closes.
  }
}

/** Forgets the token (log out, refusal). */
export function clear() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing kept.
  }
}

/**
 * Reads a pasted token. Returns {token, claims}, or {reason, problem} (a
 * code, and plain words) when it cannot be a supervisor's or an admin's
 * valid token (RFC 7519 claims sub, role, team, exp).
 */
export function check(pasted) {
  const token = pasted.trim().replace(/^Bearer\s+/i, '');
  if (token === '') return { reason: 'empty', problem: 'Paste your token first.' };
  const parts = token.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_\-.]+$/.test(token)) {
    return { reason: 'format', problem: 'This does not look like a token (three parts separated by dots). Paste it again, in full.' };
  }
  let claims;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    claims = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
  } catch {
    return { reason: 'unreadable', problem: 'This token cannot be read. Paste it again, in full.' };
  }
  if (!claims || !ROLES.has(claims.role)) {
    const role = (claims && claims.role) || 'none';
    return { reason: 'role', problem: `This token is for the role “${role}”; the wallboard needs a supervisor’s or an admin’s token.` };
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now() - 30000) {
    return { reason: 'expired', problem: 'This token has expired. Ask for a new one.' };
  }
  return { token, claims };
}
