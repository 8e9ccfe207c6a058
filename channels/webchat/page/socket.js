// The connection: one WebSocket to /ws/chat (subprotocols
// "airbranch.chat.v1" and "bearer.<token>"), reconnected with backoff and
// resumed after the last seq seen; the frames of channels/webchat/
// PROTOCOL.md; unacknowledged messages re-sent with their ids; delivered
// and read receipts for the RM's messages.

import { $, state, savePending } from './state.js';
import { setStatus, showLogin, showMessage, showPending, markStored, showConversation, showQueue, showTyping, showHours } from './view.js';

const SUBPROTOCOL = 'airbranch.chat.v1';
/** Backoff between connection attempts: 0.5 s doubling to 15 s. */
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
/** Close code the server uses when the token expired. */
const CLOSE_TOKEN_EXPIRED = 4001;

export function connect() {
  clearTimeout(state.timer);
  if (!state.token) return;
  state.stopped = false;
  state.welcomed = false;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const after = state.lastSeq === null ? '' : '?after=' + state.lastSeq;
  setStatus(state.attempt ? 'reconnecting' : 'connecting', state.attempt ? 'reconnecting…' : 'connecting…');
  let ws;
  try {
    ws = new WebSocket(proto + '//' + location.host + '/ws/chat' + after, [SUBPROTOCOL, 'bearer.' + state.token]);
  } catch (e) {
    refused('the token cannot be used: ' + e.message);
    return;
  }
  state.ws = ws;
  ws.onmessage = (ev) => {
    let f;
    try {
      f = JSON.parse(ev.data);
    } catch {
      return;
    }
    onFrame(f);
  };
  ws.onclose = (ev) => onClose(ws, ev);
}

async function onClose(ws, ev) {
  if (state.ws !== ws) return;
  state.ws = null;
  if (state.stopped) return;
  if (ev.code === CLOSE_TOKEN_EXPIRED) {
    refused('Your session expired: get a new token from the app.');
    return;
  }
  if (!state.welcomed) {
    const reason = await probe();
    if (reason) {
      refused(reason);
      return;
    }
  }
  state.attempt++;
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (state.attempt - 1)) * (0.75 + Math.random() / 2);
  setStatus('reconnecting', 'reconnecting…');
  state.timer = setTimeout(connect, delay);
}

/** After a failed connection: a reason when the server refuses the token. */
async function probe() {
  try {
    const r = await fetch('/chat/attachments/-', { headers: { Authorization: 'Bearer ' + state.token } });
    if (r.status === 401 || r.status === 403) return 'The token was refused: ' + (await r.text()).trim();
  } catch {
    // unreachable: keep trying
  }
  return null;
}

function refused(reason) {
  state.stopped = true;
  setStatus('refused', 'signed out');
  $('login-error').textContent = reason;
  showLogin(true);
}

export function send(frame) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.welcomed) return false;
  state.ws.send(JSON.stringify({ v: 1, ...frame }));
  return true;
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome':
      return onWelcome(f.data);
    case 'ack':
      return onAck(f.id, f.data || {});
    case 'error':
      return onError(f.id, f.data || {});
    case 'queue':
      return showQueue(f.data);
    case 'typing':
      return showTyping(f.data);
    case 'hours':
      return showHours(f.data);
  }
  if (f.seq) onEvent(f);
}

function onWelcome(w) {
  state.welcomed = true;
  state.attempt = 0;
  state.limits = w.limits;
  setStatus('connected', 'connected');
  if (!w.resumed) {
    // A fresh state replaces ours.
    state.shown.clear();
    $('messages').replaceChildren();
    $('queue').hidden = true;
    showConversation(w.state && w.state.conversation);
    for (const m of (w.state && w.state.messages) || []) shown(m);
    state.lastSeq = w.last_seq;
  }
  // Resumed: the events after our last seq follow.
  showHours(w.hours);
  // In-flight receipts of the lost connection may not have been taken.
  for (const id of [...state.receiptsInFlight.keys()]) receiptAnswered(id, true, 1);
  flushReceipts();
  for (const p of state.pending) {
    showPending(p);
    send({ type: 'message', id: p.id, data: { text: p.text, attachments: p.attachments } });
  }
}

function onEvent(f) {
  if (state.lastSeq !== null && f.seq <= state.lastSeq) return; // seen
  state.lastSeq = f.seq;
  if (f.type === 'message') shown(f.data);
  if (f.type === 'conversation') showConversation(f.data);
}

function onAck(id, data) {
  if (receiptAnswered(id, false)) return;
  const i = state.pending.findIndex((p) => p.id === id);
  if (i < 0) return; // a receipt's ack
  state.pending.splice(i, 1);
  savePending();
  const el = state.shown.get('c:' + id);
  if (el) {
    state.shown.delete('c:' + id);
    if (state.shown.has(data.message_id)) {
      el.remove(); // the echo came first
    } else {
      el.dataset.id = data.message_id;
      state.shown.set(data.message_id, el);
    }
    markStored(state.shown.get(data.message_id));
  }
}

function onError(id, data) {
  const transient = data.code === 'rate_limited' || data.code === 'unavailable';
  if (receiptAnswered(id, transient, data.retry_after_ms)) return;
  const p = state.pending.find((x) => x.id === id);
  if (!p) {
    if (data.code !== 'rate_limited') $('compose-error').textContent = data.message || data.code;
    return;
  }
  if (transient) {
    clearTimeout(state.retry.get(id));
    state.retry.set(id, setTimeout(() => {
      state.retry.delete(id);
      if (state.pending.includes(p)) send({ type: 'message', id: p.id, data: { text: p.text, attachments: p.attachments } });
    }, data.retry_after_ms || 1000));
    return;
  }
  // Refused for good: show it and forget it.
  state.pending.splice(state.pending.indexOf(p), 1);
  savePending();
  const el = state.shown.get('c:' + id);
  if (el) {
    el.dataset.state = 'failed';
    el.querySelector('.meta').textContent = 'not sent: ' + (data.message || data.code);
  }
}

/** Shows message m and sends the receipts its arrival calls for. */
function shown(m) {
  if (!showMessage(m)) return;
  // History carries how far the RM's message got: send only what is new.
  if (m.status !== 'delivered' && m.status !== 'read') receipt('delivered', m.id);
  if (m.status !== 'read' && document.visibilityState === 'visible') receipt('read', m.id);
}

function receipt(kind, id) {
  const seen = kind === 'read' ? state.read : state.delivered;
  if (seen.has(id)) return;
  seen.add(id);
  state.receiptQueue[kind].push(id);
  clearTimeout(state.receiptTimer);
  state.receiptTimer = setTimeout(flushReceipts, 50);
}

function flushReceipts() {
  for (const kind of ['delivered', 'read']) {
    const ids = state.receiptQueue[kind];
    while (ids.length) {
      const batch = ids.slice(0, 100);
      const id = 'r' + ++state.n;
      if (!send({ type: kind, id, data: { message_ids: batch } })) return; // sent on the next welcome
      ids.splice(0, batch.length);
      state.receiptsInFlight.set(id, { kind, batch });
    }
  }
}

/** A receipt frame answered: forget it, or queue it again when refused for now. */
function receiptAnswered(id, retry, afterMS) {
  const r = state.receiptsInFlight.get(id);
  if (!r) return false;
  state.receiptsInFlight.delete(id);
  if (retry) {
    state.receiptQueue[r.kind].push(...r.batch);
    clearTimeout(state.receiptTimer);
    state.receiptTimer = setTimeout(flushReceipts, afterMS || 1000);
  }
  return true;
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  for (const [id, el] of state.shown) if (el.dataset.from === 'rm') receipt('read', id);
});
