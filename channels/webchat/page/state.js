// The page's state, shared by its modules, and the unacknowledged
// messages kept in localStorage so that a reload loses none.

export const TOKEN_KEY = 'airbranch.chat.token';
export const PENDING_KEY = 'airbranch.chat.pending';

export const $ = (id) => document.getElementById(id);

export const state = {
  token: localStorage.getItem(TOKEN_KEY) || '',
  ws: null,
  welcomed: false,
  lastSeq: null,
  attempt: 0,
  timer: 0,
  stopped: true,
  limits: null,
  /** Messages shown, by key (server id, or "c:" + client id while pending). */
  shown: new Map(),
  /** Unacknowledged messages: {id, text, attachments}, in send order. */
  pending: loadPending(),
  /** Resend timers of refused messages, by client id. */
  retry: new Map(),
  /** RM message ids whose delivered / read receipt has been sent. */
  delivered: new Set(),
  read: new Set(),
  receiptQueue: { delivered: [], read: [] },
  receiptTimer: 0,
  /** Receipt frames awaiting their answer, by frame id. */
  receiptsInFlight: new Map(),
  attachments: [],
  typingTimer: 0,
  /** The assigned RM's name, for the typing indicator. */
  rmName: '',
  lastTyping: 0,
  n: 0,
};

function loadPending() {
  try {
    const v = JSON.parse(localStorage.getItem(PENDING_KEY) || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export function savePending() {
  localStorage.setItem(PENDING_KEY, JSON.stringify(state.pending));
}

export function newID() {
  if (crypto.randomUUID) return 'c-' + crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 'c-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
