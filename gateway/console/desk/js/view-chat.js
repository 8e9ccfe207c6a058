// The chat pane of the selected conversation: header, customer card,
// timeline, messages (the RM's own with their delivery status), and which
// of the send box and the actions may be used now.

import { $, h, clock, fill, setText } from './dom.js';
import { channels, deliveries, label, statuses } from './words.js';
import { state, isWorking, orderedMessages } from './state.js';
import { card, customerName } from './view-card.js';
import { load as loadToken } from './token.js';

let actions = null;
/** The conversation whose messages are on screen, and message id → element. */
let shownConv = null;
const msgEls = new Map();
/** The card and timeline last drawn (redrawn only when they change). */
let shownCard = null;
let shownEvents = -1;

/**
 * Sets what the pane asks for: actions.needHistory(conv), actions.needCard(conv);
 * and follows the send box for the SMS preview.
 */
export function initChat(a) {
  actions = a;
  $('composer-text').addEventListener('input', schedulePreview);
  // After the send handler has emptied the box.
  $('composer').addEventListener('submit', schedulePreview);
}

// The SMS preview under the send box: how the text would go out (GSM-7 or
// UCS-2, the number of segments, what fits before another one), from POST
// /api/v1/sms/segments, shown while the selected conversation is on SMS.

/** Milliseconds of quiet typing before the preview is asked for. */
const PREVIEW_DELAY = 150;
let previewTimer = 0;
/** Numbers the requests, so that a late answer never replaces a newer one. */
let previewSeq = 0;
/** The text the preview on screen is for ('' when hidden). */
let previewText = '';

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, PREVIEW_DELAY);
}

function smsSelected() {
  const k = state.selected && state.convs.get(state.selected);
  return Boolean(k && k.c.channel === 'sms');
}

function hidePreview() {
  previewSeq++;
  previewText = '';
  const el = $('composer-segments');
  el.hidden = true;
  el.removeAttribute('data-encoding');
  el.removeAttribute('data-segments');
  setText(el, '');
}

/** Words for a plan: encoding, segments, units left in the last one. */
function planWords(p) {
  const unit = p.encoding === 'UCS-2' ? 'character' : 'GSM-7 character';
  const why = p.encoding === 'UCS-2' ? ' (a character outside GSM-7, e.g. Chinese, makes the whole text UCS-2)' : '';
  const segs = `${p.segments} ${p.segments === 1 ? 'segment' : 'segments'}`;
  const per = p.segments > 1 ? ` of up to ${p.per_segment} each` : '';
  const left = `${p.remaining} ${unit}${p.remaining === 1 ? '' : 's'} left before another segment`;
  return `SMS: ${p.encoding}${why} · ${segs}${per} · ${left}`;
}

async function preview() {
  const text = $('composer-text').value.trim();
  if (!smsSelected() || text === '') {
    hidePreview();
    return;
  }
  if (text === previewText) return;
  const seq = ++previewSeq;
  let plan = null;
  try {
    const res = await fetch('/api/v1/sms/segments', {
      method: 'POST',
      headers: { Authorization: `Bearer ${loadToken()}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ text }),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (res.ok) plan = await res.json();
  } catch {
    plan = null;
  }
  if (seq !== previewSeq) return;
  const el = $('composer-segments');
  if (!plan) {
    // Not counted (offline, or a text the API refuses): say nothing rather than something wrong.
    hidePreview();
    return;
  }
  previewText = text;
  el.dataset.encoding = plan.encoding;
  el.dataset.segments = String(plan.segments);
  setText(el, planWords(plan));
  el.hidden = false;
}

function who(m, k) {
  if (m.direction === 'inbound') return customerName(k.card, k.c);
  if (state.me && m.sender === state.me.rm_id) return 'You';
  return m.sender || 'The bank';
}

function messageEl(m, k) {
  const status = h('p', { class: 'status' });
  const el = h(
    'li',
    { class: `message ${m.direction}`, 'data-message-id': m.id },
    h('p', { class: 'who' }, h('span', { class: 'sender', text: who(m, k) }), ' ', h('time', { datetime: m.created_at || '', text: m.local ? '' : clock(m.created_at) })),
    m.text ? h('p', { class: 'text', text: m.text }) : null,
    (m.attachments || []).map((a) => h('p', { class: 'attachment', text: `Attachment: ${a.name || a.type || 'file'}${a.size ? ` (${Math.ceil(a.size / 1024)} KB)` : ''}` })),
    m.direction === 'outbound' ? status : null,
  );
  updateMessageEl(el, m);
  return el;
}

function updateMessageEl(el, m) {
  el.dataset.status = m.status;
  const st = el.querySelector('.status');
  if (!st) return;
  let text = label(deliveries, m.status);
  if (m.status === 'failed' && m.error_code) text += ` (provider code ${m.error_code})`;
  if (m.status === 'failed' && m.error) text += `: ${m.error}`;
  setText(st, text);
}

function renderMessages(k) {
  const list = $('messages');
  if (shownConv !== k.c.id) {
    list.replaceChildren();
    msgEls.clear();
    shownConv = k.c.id;
  }
  const want = orderedMessages(k);
  const keep = new Set(want.map((m) => m.id));
  for (const [id, el] of msgEls) {
    if (!keep.has(id)) {
      el.remove();
      msgEls.delete(id);
    }
  }
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  let added = false;
  let prev = null;
  for (const m of want) {
    let el = msgEls.get(m.id);
    if (!el) {
      el = messageEl(m, k);
      msgEls.set(m.id, el);
      added = true;
    } else {
      updateMessageEl(el, m);
    }
    const at = prev ? prev.nextSibling : list.firstChild;
    if (el !== at) list.insertBefore(el, at);
    prev = el;
  }
  if (added && atBottom) list.scrollTop = list.scrollHeight;
}

function renderTimeline(k) {
  if (shownEvents === k.events.length && shownConv === k.c.id) return;
  shownEvents = k.events.length;
  fill(
    $('timeline-list'),
    k.events.map((e) => {
      const parts = [clock(e.at), e.type.replaceAll('_', ' ')];
      if (e.rm_id) parts.push(e.rm_id);
      if (e.to_status) parts.push(`→ ${label(statuses, e.to_status)}`);
      if (e.reason) parts.push(`(${e.reason})`);
      return h('li', { text: parts.join(' ') });
    }),
  );
}

function historyText(k) {
  switch (k.history) {
    case 'loading':
      return 'Loading the history…';
    case 'failed':
      return 'The history could not be loaded; only new messages are shown.';
    default:
      return k.messages.size === 0 && k.history === 'loaded' ? 'No messages yet.' : '';
  }
}

/** The note under the title when the conversation is no longer being worked on. */
function note(k) {
  if (k.c.status === 'closed') return `Closed${k.c.disposition ? ` with disposition “${k.c.disposition}”` : ''}.`;
  if (k.c.status === 'abandoned') return 'The client left this conversation.';
  if (!isWorking(k.c)) return 'This conversation is no longer assigned to you (transferred or re-queued).';
  if (k.c.status === 'wrap_up') return 'In wrap-up: choose a disposition and close.';
  return '';
}

/** Brings the chat pane in line with the state. */
export function renderChat() {
  const k = state.selected && state.convs.get(state.selected);
  $('chat-placeholder').hidden = Boolean(k);
  const pane = $('chat');
  pane.hidden = !k;
  if (!k) {
    shownConv = null;
    shownCard = null;
    return;
  }
  const c = k.c;
  const changed = pane.dataset.conversationId !== c.id;
  pane.dataset.conversationId = c.id;
  pane.dataset.status = c.status;
  setText($('chat-title'), customerName(k.card, c));
  const since = c.answered_at ? ` · answered ${clock(c.answered_at)}` : '';
  setText($('chat-meta'), `${label(channels, c.channel)} · ${label(statuses, c.status)}${since}`);
  const n = note(k);
  $('chat-note').hidden = !n;
  setText($('chat-note'), n);
  if (changed || shownCard !== k.card) {
    shownCard = k.card;
    shownEvents = -1;
    fill($('customer-card'), card(k.card, c));
  }
  renderTimeline(k);
  renderMessages(k);
  setText($('history-state'), historyText(k));

  const mine = isWorking(c);
  const active = mine && c.status === 'active';
  $('composer-text').disabled = !active;
  if (previewText && (!active || c.channel !== 'sms')) hidePreview();
  $('send').disabled = !active;
  $('wrap-up').disabled = !active;
  $('transfer').disabled = !active;
  $('transfer-panel').classList.toggle('disabled', !active);
  $('close-conversation').disabled = !mine;
  $('disposition').disabled = !mine;
  if (changed) {
    $('transfer-panel').open = false;
    $('transfer-form').reset();
    $('transfer-target').disabled = true;
    $('composer-text').value = '';
    hidePreview();
    $('close-form').reset();
    $('disposition-other').disabled = true;
  }
  if (k.history === 'none') actions.needHistory(k);
  if (!k.card && !k.cardAsked) actions.needCard(k);
}
