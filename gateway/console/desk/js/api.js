// The REST API (gateway/api/openapi.yaml), called with the same bearer
// token as the desk socket. Answers are JSON; errors are
// {"error":{"code","message"}}.

/** A refused or failed REST call. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || (status === 0 ? 'unavailable' : 'internal');
  }
}

async function getJSON(path, token) {
  let res;
  try {
    res = await fetch(path, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'unavailable', 'the gateway cannot be reached');
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const e = body && body.error;
    throw new ApiError(res.status, codeOf(res.status, e && e.code), e && e.message);
  }
  return body;
}

/** Maps a REST refusal to the desk protocol's error codes (for the same words). */
function codeOf(status, code) {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 503:
      return 'unavailable';
  }
  return code || 'internal';
}

const seg = (s) => encodeURIComponent(s);

/** GET /api/v1/conversations/{id}: the conversation with its messages (oldest first) and timeline. */
export function conversationDetail(id, token) {
  return getJSON(`/api/v1/conversations/${seg(id)}`, token);
}

/** GET /api/v1/customers/{id}. */
export function customer(id, token) {
  return getJSON(`/api/v1/customers/${seg(id)}`, token);
}

/** GET /api/v1/conversations?customer=ID&limit=N: the client's latest conversations. */
export function customerConversations(id, limit, token) {
  return getJSON(`/api/v1/conversations?customer=${seg(id)}&limit=${limit}`, token);
}

/** GET /api/v1/specialists: the RMs the RM may invite (specialist pools, their own team), with their presence. */
export function specialists(token) {
  return getJSON('/api/v1/specialists', token);
}

/**
 * Asks the API whether token is accepted (after the desk socket failed
 * before its welcome: a browser does not see the upgrade's 401 or 403).
 * Resolves to a plain-words reason when it is refused, else null.
 */
export async function tokenRefusal(token) {
  try {
    await getJSON('/api/v1/offers', token);
    return null;
  } catch (e) {
    if (e.status === 401) return 'The token is invalid or has expired. Paste a new one.';
    if (e.status === 403) return 'This token may not open the RM desk (it is not an RM of the directory, or names another team).';
    return null;
  }
}
