// The chat pane of the selected conversation: header, customer card,
// timeline, messages (the RM's own with their delivery status), and which
// of the send box and the actions may be used now.

import { $, h, clock, fill, setText } from './dom.js';
import { channels, deliveries, label, statuses } from './words.js';
import { state, isWorking, orderedMessages } from './state.js';
import { card, customerName } from './view-card.js';

let actions = null;
/** The conversation whose messages are on screen, and message id → element. */
let shownConv = null;
const msgEls = new Map();
/** The card and timeline last drawn (redrawn only when they change). */
let shownCard = null;
let shownEvents = -1;

/** Sets what the pane asks for: actions.needHistory(conv), actions.needCard(conv). */
export function initChat(a) {
  actions = a;
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
    $('close-form').reset();
    $('disposition-other').disabled = true;
  }
  if (k.history === 'none') actions.needHistory(k);
  if (!k.card && !k.cardAsked) actions.needCard(k);
}
