// What the RM reads: labels of the protocol's values, and refusals and
// connection troubles in plain words.

export const segments = {
  mass: 'Mass',
  mass_affluent: 'Mass affluent',
  affluent: 'Affluent',
  private: 'Private bank',
  small_business: 'Small business',
  retail_lending: 'Retail lending',
};

export const channels = {
  voice: 'Phone call',
  video: 'Video',
  sms: 'SMS',
  wechat: 'WeChat',
  webchat: 'Web chat',
};

export const statuses = {
  new: 'New',
  queued: 'Queued',
  offered: 'Offered',
  active: 'Active',
  wrap_up: 'Wrap-up',
  closed: 'Closed',
  abandoned: 'Abandoned',
};

export const presenceStates = {
  available: 'Available',
  away: 'Away',
  offline: 'Offline',
  wrap_up: 'Wrap-up',
};

export const awayReasons = {
  not_responding: 'missed offers in a row',
  lease_expired: 'shift lease ended',
};

export const deliveries = {
  sending: 'Sending…',
  queued: 'Queued',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not delivered',
};

/** Returns the label of value in table, or the value itself. */
export function label(table, value) {
  return (value && table[value]) || value || '';
}

const errors = {
  bad_frame: 'The desk sent something the server could not read. Reload the page.',
  unknown_type: 'The server does not know this action. The console may be out of date: reload the page.',
  bad_request: 'The server refused the request as it was filled in.',
  forbidden: 'Only the RM the conversation is assigned (or offered) to can do this. Nothing was changed.',
  not_found: 'That conversation or offer no longer exists.',
  offer_gone: 'This offer is no longer open: it expired, was withdrawn, or was already answered.',
  no_capacity: 'You have no capacity left for this conversation. Wrap up or close another one first.',
  illegal_transition: 'That is not possible in the conversation’s present state.',
  not_sent: 'The message could not be sent on the client’s channel. It is kept as not delivered.',
  opted_out: 'The client has opted out of this channel, so the message was not sent.',
  unavailable: 'The service is briefly unavailable. Try again in a moment.',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, tell your supervisor.',
  connection_lost: 'The connection dropped before the server answered. Check whether it took effect once the desk reconnects.',
  timeout: 'The server did not answer in time. Check whether it took effect before trying again.',
  not_connected: 'The desk is not connected. Wait for it to reconnect and try again.',
};

/** Codes whose server message helps the RM (it names the field or the allowed values). */
const detailed = new Set(['bad_request', 'illegal_transition', 'not_sent']);

/**
 * Returns the plain-words sentence for a refusal {code, message}, and the
 * server's own message as a detail when it helps.
 */
export function refusal(err) {
  const code = err && err.code;
  const text = errors[code] || errors.internal;
  const detail = detailed.has(code) && err.message ? err.message : '';
  return { text, detail };
}

/** The connection's state as the header shows it. */
export function connection(st) {
  switch (st.state) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return 'Connected';
    case 'reconnecting':
      return `Connection lost. Reconnecting in ${Math.max(1, Math.round(st.delayMs / 1000))} s (attempt ${st.attempt})…`;
    case 'refused':
      return 'Not connected: the token was refused.';
    default:
      return 'Not logged in';
  }
}
