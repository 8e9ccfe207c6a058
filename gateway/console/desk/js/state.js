// The desk's state, changed only by the reducers below (one per protocol
// frame) and read by the views.

/** How far a delivery status has got; it only moves forward. */
const deliveryRank = { sending: -1, queued: 0, sent: 1, delivered: 2, failed: 2, read: 3 };

/** Milliseconds of an RFC 3339 time (0 when absent), for ordering. */
const ms = (iso) => Date.parse(iso) || 0;

/** Conversation statuses the RM works on (the conversation list). */
const working = new Set(['active', 'wrap_up']);

export const state = {
  /** {rm_id, team_id} from the welcome. */
  me: null,
  /** The RM's presence (conversation.Presence). */
  presence: null,
  /** offer id → {data: OfferData, deadline: performance.now() ms}. */
  offers: new Map(),
  /** conversation id → Conv (see conv). */
  convs: new Map(),
  /** The conversation shown in the chat pane, or null. */
  selected: null,
  /** Local ids of messages being sent. */
  nextLocal: 1,
};

/**
 * Conv is what the desk knows of one conversation: c (the conversation),
 * card (customer card or null), messages (id → message), history
 * ("none", "loading", "loaded", "failed"), events (timeline), unread.
 */
function conv(c) {
  let k = state.convs.get(c.id);
  if (!k) {
    k = { c, card: null, messages: new Map(), history: 'none', events: [], unread: 0 };
    state.convs.set(c.id, k);
  } else if ((c.version ?? 0) >= (k.c.version ?? 0)) {
    k.c = c;
  }
  return k;
}

/** Whether the conversation is one the RM works on: theirs, active or in wrap-up. */
export function isWorking(c) {
  if (!state.me || !working.has(c.status)) return false;
  if (c.assignee_id === state.me.rm_id) return true;
  return (c.participants || []).some((p) => p.id === state.me.rm_id && p.role === 'specialist' && !p.left_at);
}

/** The conversations of the list, oldest answered first. */
export function workingConvs() {
  return [...state.convs.values()]
    .filter((k) => isWorking(k.c))
    .sort((a, b) => ms(a.c.answered_at || a.c.created_at) - ms(b.c.answered_at || b.c.created_at));
}

/** Offers by deadline, soonest first. */
export function offerList() {
  return [...state.offers.entries()].sort((a, b) => a[1].deadline - b[1].deadline);
}

/**
 * Applies a welcome without resume: the snapshot replaces the state. The
 * selected conversation stays selected when it is still the RM's.
 */
export function applySnapshot(w, now) {
  state.me = { rm_id: w.rm_id, team_id: w.team_id };
  const snap = w.snapshot || {};
  state.presence = snap.presence || null;
  state.offers.clear();
  for (const o of snap.offers || []) addOffer(o, now, false);
  const keep = state.selected && state.convs.get(state.selected);
  state.convs.clear();
  for (const c of snap.conversations || []) conv(c);
  if (keep) {
    const k = state.convs.get(state.selected);
    if (k) {
      k.card = keep.card;
      k.history = 'none'; // reload: events may have been missed
    } else {
      state.convs.set(keep.c.id, keep); // no longer the RM's: shown as it was
    }
  }
}

/** Records the welcome's identity when resuming (the state is kept). */
export function applyResume(w) {
  state.me = { rm_id: w.rm_id, team_id: w.team_id };
}

/**
 * Adds an offer. Its countdown runs from expires_in_ms at arrival (the
 * browser's clock may differ from the gateway's); a replayed offer (missed
 * while disconnected) counts to expires_at instead.
 */
export function addOffer(d, now, replayed) {
  if (!d || !d.offer) return;
  let left = d.expires_in_ms;
  if (replayed || typeof left !== 'number') left = Date.parse(d.offer.expires_at) - Date.now();
  state.offers.set(d.offer.id, { data: d, deadline: now + (Number.isFinite(left) ? left : 0) });
  const k = conv(d.conversation);
  if (d.customer) k.card = d.customer;
}

/**
 * Applies a conversation event: the conversation as it is now and the
 * timeline events of the change. An offer of it that ended leaves the
 * offers.
 */
export function applyConversation(d) {
  const c = d.conversation;
  if (!c) return;
  const ended = new Set();
  for (const ev of d.events || []) {
    if (ev.offer_id && ['accept', 'decline', 'offer_expired', 'offer_withdrawn'].includes(ev.type)) ended.add(ev.offer_id);
  }
  for (const [id, o] of state.offers) {
    if (o.data.conversation.id === c.id && (ended.has(id) || c.status !== 'offered')) state.offers.delete(id);
  }
  const k = state.convs.get(c.id);
  if (!k && !isWorking(c)) return;
  const kk = conv(c);
  for (const ev of d.events || []) {
    if (!kk.events.some((e) => e.id === ev.id)) kk.events.push(ev);
  }
  if (!isWorking(kk.c) && state.selected !== c.id) state.convs.delete(c.id);
}

/** Applies the answer of an action that returned the conversation. */
export function applyConversationResult(c) {
  if (c && c.id) applyConversation({ conversation: c, events: [] });
}

/** Adds or updates a message; a status never moves back. */
export function putMessage(m) {
  const k = state.convs.get(m.conversation_id);
  if (!k) return null;
  const old = k.messages.get(m.id);
  if (old && (deliveryRank[old.status] ?? -1) > (deliveryRank[m.status] ?? -1)) return k;
  k.messages.set(m.id, old ? { ...old, ...m } : m);
  return k;
}

/** Applies a message event (from the client, or another participant). */
export function applyMessage(m) {
  const k = putMessage(m);
  if (k && state.selected !== m.conversation_id) k.unread++;
  return k;
}

/** Applies a message_status event (the RM's own message moved on). */
export function applyMessageStatus(m) {
  return putMessage(m);
}

/** Applies GET /api/v1/conversations/{id}: history merged with what arrived meanwhile. */
export function applyHistory(detail) {
  const { messages = [], events = [], ...c } = detail;
  const k = conv(c);
  for (const m of messages) putMessage(m);
  const seen = new Set(k.events.map((e) => e.id));
  k.events = [...events.filter((e) => !seen.has(e.id)), ...k.events].sort((a, b) => ms(a.at) - ms(b.at));
  k.history = 'loaded';
  return k;
}

/** Adds a message being sent; returns its local id. */
export function addLocal(conversationId, text) {
  const id = `local-${state.nextLocal++}`;
  const k = state.convs.get(conversationId);
  if (k) {
    k.messages.set(id, {
      id,
      local: true,
      conversation_id: conversationId,
      direction: 'outbound',
      sender: state.me?.rm_id || '',
      text,
      status: 'sending',
      created_at: new Date().toISOString(),
    });
  }
  return id;
}

/** Replaces a local message with the stored one (the send's ack). */
export function settleLocal(conversationId, localId, m) {
  const k = state.convs.get(conversationId);
  if (!k) return;
  k.messages.delete(localId);
  putMessage(m);
}

/** Marks a local message as not sent, with the words of the refusal. */
export function failLocal(conversationId, localId, words) {
  const k = state.convs.get(conversationId);
  const m = k && k.messages.get(localId);
  if (m) k.messages.set(localId, { ...m, status: 'failed', error: words });
}

/**
 * The messages of a conversation in order: stored ones by creation time,
 * then those still being sent (the browser's clock is not the gateway's).
 */
export function orderedMessages(k) {
  const all = [...k.messages.values()];
  const stored = all
    .filter((m) => !m.local)
    .sort((a, b) => ms(a.created_at) - ms(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return [...stored, ...all.filter((m) => m.local)];
}

/** Selects a conversation (null: none); drops one that is no longer the RM's. */
export function select(id) {
  const prev = state.selected && state.convs.get(state.selected);
  if (prev && !isWorking(prev.c) && prev.c.id !== id) state.convs.delete(prev.c.id);
  state.selected = id;
  const k = id && state.convs.get(id);
  if (k) {
    k.unread = 0;
    if (k.history === 'failed') k.history = 'none'; // selecting again retries
  }
}
