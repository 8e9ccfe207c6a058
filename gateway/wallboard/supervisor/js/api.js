// The REST API (gateway/api/openapi.yaml), called with the supervisor's
// bearer token in the Authorization header. Answers are JSON; errors are
// {"error":{"code","message"}}.

/** A refused or failed REST call: status 0 when the gateway was not reached. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || (status === 0 ? 'unreachable' : 'internal');
  }
}

/** The request options of every call: the token in a header, no cookie, no referrer. */
export function requestInit(token, accept, signal) {
  return {
    headers: { Authorization: `Bearer ${token}`, Accept: accept },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    signal,
  };
}

/** Reads the {"error":{code, message}} of a refusal; {} when the body is not one. */
export async function refusalOf(res) {
  try {
    const body = await res.json();
    return (body && body.error) || {};
  } catch {
    return {};
  }
}

async function getJSON(path, token) {
  let res;
  try {
    res = await fetch(path, requestInit(token, 'application/json'));
  } catch {
    throw new ApiError(0, 'unreachable', '');
  }
  if (!res.ok) {
    const e = await refusalOf(res);
    throw new ApiError(res.status, e.code, e.message);
  }
  try {
    return await res.json();
  } catch {
    throw new ApiError(res.status, 'internal', 'the answer is not JSON');
  }
}

const seg = (v) => encodeURIComponent(v);

/** GET /api/v1/presence: {items: [{rm_id, team_id, state, reason, since, load, capacity, missed_in_row}]}. */
export function presence(token) {
  return getJSON('/api/v1/presence', token);
}

/** GET /api/v1/stats/rms/{id}[?since=]: the RM's scorecard. since is RFC 3339 or "" (the gateway's 24 hours). */
export function scorecard(id, since, token) {
  const q = since ? `?since=${seg(since)}` : '';
  return getJSON(`/api/v1/stats/rms/${seg(id)}${q}`, token);
}
