// The header (who is logged in, the connection), the presence panel and
// the list of the RM's conversations.

import { $, h, clock, setText } from './dom.js';
import { awayReasons, channels, connection, label, presenceStates, statuses } from './words.js';
import { state, workingConvs } from './state.js';
import { customerName } from './view-card.js';

let actions = null;
/** conversation id → {el, name, meta, unread} */
const items = new Map();

/** Sets what a click on a conversation does: actions.select(id). */
export function initSide(a) {
  actions = a;
}

/** Shows the connection state st (from DeskSocket) in the header. */
export function renderConnection(st) {
  const el = $('conn');
  el.dataset.state = st.state;
  if (st.welcomes !== undefined) el.dataset.welcomes = String(st.welcomes);
  if (st.resumed !== undefined) el.dataset.resumed = String(st.resumed);
  setText(el, connection(st));
}

/** Shows who is logged in. */
export function renderWho() {
  const el = $('whoami');
  el.hidden = !state.me;
  if (state.me) setText(el, `${state.me.rm_id} · team ${state.me.team_id}`);
}

/** Shows the RM's presence and which presence button is on. */
export function renderPresence() {
  const p = state.presence;
  const el = $('presence');
  const st = p ? p.state : '';
  el.dataset.state = st;
  let text = p ? label(presenceStates, st) : 'Unknown';
  if (p && p.reason) text += ` (${label(awayReasons, p.reason)})`;
  if (p && p.since) text += ` since ${clock(p.since)}`;
  setText(el, text);
  for (const [id, s] of [['presence-available', 'available'], ['presence-away', 'away'], ['presence-offline', 'offline']]) {
    $(id).setAttribute('aria-pressed', String(st === s));
  }
}

/** Disables or enables the presence buttons (while a change is on its way). */
export function setPresenceBusy(busy) {
  for (const id of ['presence-available', 'presence-away', 'presence-offline']) $(id).disabled = busy;
}

function itemFor(id) {
  const name = h('span', { class: 'name' });
  const meta = h('span', { class: 'meta' });
  const unread = h('span', { class: 'unread', hidden: true });
  const button = h('button', { type: 'button', class: 'conversation', onclick: () => actions.select(id) }, name, meta, unread);
  const el = h('li', { 'data-conversation-id': id }, button);
  return { el, button, name, meta, unread };
}

/** Brings the conversation list in line with the state. */
export function renderConversations() {
  const list = $('conversations');
  const convs = workingConvs();
  const want = new Set(convs.map((k) => k.c.id));
  for (const [id, it] of items) {
    if (!want.has(id)) {
      it.el.remove();
      items.delete(id);
    }
  }
  let prev = null;
  for (const k of convs) {
    const id = k.c.id;
    let it = items.get(id);
    if (!it) {
      it = itemFor(id);
      items.set(id, it);
    }
    setText(it.name, customerName(k.card, k.c));
    const since = k.c.answered_at ? ` · since ${clock(k.c.answered_at)}` : '';
    setText(it.meta, `${label(channels, k.c.channel)} · ${label(statuses, k.c.status)}${since}`);
    it.unread.hidden = k.unread === 0;
    setText(it.unread, k.unread ? `${k.unread} new` : '');
    it.el.dataset.status = k.c.status;
    if (state.selected === id) it.button.setAttribute('aria-current', 'true');
    else it.button.removeAttribute('aria-current');
    const at = prev ? prev.nextSibling : list.firstChild;
    if (it.el !== at) list.insertBefore(it.el, at);
    prev = it.el;
  }
  $('conversations-empty').hidden = convs.length > 0;
}
