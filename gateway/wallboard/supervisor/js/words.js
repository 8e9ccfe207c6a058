// What the supervisor reads when something goes wrong: refusals, lost
// connections and missing figures in plain words.

/** Why the stream is being reconnected, or a figure is missing. */
const problems = {
  unreachable: 'The gateway cannot be reached (the network or the gateway is down).',
  unavailable: 'The figures are not available on the gateway right now.',
  internal: 'The gateway could not send the figures.',
  stalled: 'No figures arrived for 20 seconds.',
  lost: 'The connection to the gateway dropped.',
  bad_window: 'The gateway refused the time window; the wallboard shows the last 24 hours instead.',
  ended: 'The gateway renews the figures’ stream every 5 minutes.',
};

/** The plain-words reason for a stream problem's code. */
export function problem(code) {
  return problems[code] || problems.internal;
}

/** Why a token was refused by the gateway (HTTP 401 or 403). */
export function refusal(status) {
  if (status === 401) return 'The token is invalid or has expired. Paste a new one.';
  return 'This token may not see the wallboard (it is not a supervisor’s or an admin’s, or names a team the directory does not know).';
}

/** A failed REST call (ApiError) for the RM list and scorecards, in plain words. */
export function apiProblem(err) {
  switch (err && err.status) {
    case 0:
      return problems.unreachable;
    case 401:
      return refusal(401);
    case 403:
      return 'You may not see this: it belongs to another team.';
    case 404:
      return 'The directory has no such RM.';
    case 503:
      return problems.unavailable;
    default:
      return 'The gateway could not answer. Try again in a moment.';
  }
}

/** The connection's state as the header shows it. */
export function connection(st) {
  switch (st.state) {
    case 'connecting':
      return st.attempt ? 'Reconnecting…' : 'Connecting…';
    case 'live':
      return 'Live';
    case 'reconnecting':
      if (st.reason === 'ended') return 'Renewing the stream…';
      return `Not connected. Retrying in ${Math.max(1, Math.round(st.delayMs / 1000))} s (attempt ${st.attempt})…`;
    case 'refused':
      return 'Not connected: the token was refused.';
    default:
      return 'Not logged in';
  }
}
