// Consulting and escalating, in the chat pane of the selected conversation
// (docs/desk-protocol.md): who takes part in it (the client, the assigned
// RM, invited specialists, present or gone), inviting a specialist chosen
// from GET /api/v1/specialists (the specialist pools and the RM's own
// team, with their presence), and moving the conversation to a phone call
// or a video session (the "escalate" request), with the outcome in plain
// words: the new channel, the video room's links (the "video" event), or
// why the server refused. Nothing here writes to the browser console.

import { $, h, clock, fill, setText } from './dom.js';
import { channels, label, presenceStates } from './words.js';
import { state, isWorking, applyConversationResult } from './state.js';
import { customerName } from './view-card.js';
import { alertRM, announce } from './notices.js';
import { specialists as listSpecialists } from './api.js';

/** How long a fetched list of specialists is used before it is asked for again (ms). */
const LIST_FRESH_MS = 30000;

const ROLES = { client: 'client', rm: 'assigned RM', specialist: 'specialist', observer: 'observer' };

/** Refusals of an invitation, in the words of the invitation. */
const INVITE_REFUSED = {
  no_capacity: 'is not available, or has no capacity left for this channel, just now. Nothing was changed; try another specialist or later.',
  forbidden: 'cannot be invited by you: only the RM the conversation is assigned to invites, while it is active, and not themselves.',
  not_found: 'is not in the directory (any more). Refresh the list.',
};

/** Refusals of an escalation, in the words of the escalation. */
const ESCALATE_REFUSED = {
  no_capacity: 'you have no capacity for it next to your other conversations. Nothing was changed: wrap up another conversation first, or transfer this one.',
  forbidden: 'only the RM the conversation is assigned to can move it, while it is active.',
  illegal_transition: 'the conversation is already on that channel, or no longer active.',
  bad_request: 'the client has no address for it in the directory.',
};

let deps = null;
/** The specialists list: items, when fetched (performance.now()), status. */
const list = { items: [], at: -Infinity, status: 'none', token: '' };
/** The conversation the pane was last drawn for (to reset it on a change). */
let shownConv = null;
/** conversation id → {kind: ok|refused, text} of the last escalation. */
const outcomes = new Map();
/** conversation id → the video room's links (room_opened). */
const rooms = new Map();

/**
 * Builds the consult panel in #consult and wires it. d.request(type, data)
 * sends a desk request (resolving to its ack's data, rejecting with
 * {code, message}); d.token() is the bearer token for the REST API;
 * d.render() redraws the desk.
 */
export function initConsult(d) {
  deps = d;
  fill(
    $('consult'),
    h('h3', { id: 'participants-title', text: 'Participants' }),
    h('ul', { id: 'participants', class: 'participants', 'aria-labelledby': 'participants-title' }),
    h(
      'details',
      { id: 'invite-panel', class: 'action-panel', ontoggle: (ev) => ev.target.open && refreshList(false) },
      h('summary', { text: 'Invite specialist…' }),
      h(
        'form',
        { id: 'invite-form', onsubmit: (ev) => { ev.preventDefault(); invite(); } },
        h('label', { for: 'invite-rm', text: 'Specialist to invite' }),
        h('select', { id: 'invite-rm', 'aria-describedby': 'invite-hint' }),
        h('p', { id: 'invite-hint', class: 'hint', 'aria-live': 'polite' }),
        h(
          'div',
          { class: 'buttons' },
          h('button', { type: 'submit', id: 'invite', text: 'Invite' }),
          h('button', { type: 'button', id: 'invite-refresh', class: 'quiet', text: 'Refresh the list', onclick: () => refreshList(true) }),
        ),
      ),
    ),
    h(
      'div',
      { class: 'escalate', role: 'group', 'aria-labelledby': 'escalate-title' },
      h('span', { id: 'escalate-title', class: 'label', text: 'Escalate to' }),
      h('button', { type: 'button', id: 'escalate-voice', 'data-channel': 'voice', text: 'Voice call', onclick: () => escalate('voice') }),
      h('button', { type: 'button', id: 'escalate-video', 'data-channel': 'video', text: 'Video', onclick: () => escalate('video') }),
    ),
    h('div', { id: 'escalate-result', class: 'escalate-result', role: 'status', 'aria-live': 'polite', hidden: true }),
  );
}

/** The selected conversation's Conv, or null. */
function selected() {
  return (state.selected && state.convs.get(state.selected)) || null;
}

/** Whether the RM may invite and escalate on c: its assignee, while active. */
function canAct(c) {
  return Boolean(state.me && isWorking(c) && c.status === 'active' && c.assignee_id === state.me.rm_id);
}

function rmName(id) {
  if (state.me && id === state.me.rm_id) return `${id} (you)`;
  const s = list.items.find((it) => it.id === id);
  return s ? `${s.name} (${id})` : id;
}

function participantEl(p, k) {
  const gone = Boolean(p.left_at);
  const who = p.role === 'client' ? customerName(k.card, k.c) : rmName(p.id);
  const s = list.items.find((it) => it.id === p.id);
  const parts = [label(ROLES, p.role)];
  if (p.role === 'specialist' && s) parts.push(s.team_name);
  parts.push(gone ? `left ${clock(p.left_at)}` : `since ${clock(p.joined_at)}`);
  return h(
    'li',
    { 'data-participant-id': p.id, 'data-role': p.role, 'data-present': String(!gone) },
    h('span', { class: 'who', text: who }),
    ' ',
    h('span', { class: 'meta', text: parts.filter(Boolean).join(' · ') }),
  );
}

/** The participants as shown: the conversation's list, with its assignee when missing from it. */
function participants(c) {
  const ps = [...(c.participants || [])];
  if (c.assignee_id && !ps.some((p) => p.role === 'rm' && p.id === c.assignee_id && !p.left_at)) {
    ps.push({ role: 'rm', id: c.assignee_id, joined_at: c.answered_at || '' });
  }
  return ps;
}

function optionText(s) {
  const skills = Object.entries(s.skills || {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([k, v]) => `${k} ${v}`);
  return [s.name || s.id, label(presenceStates, s.state), ...skills].join(' · ');
}

/** What the invite list was last drawn from (redrawn only when it changes, not under the RM's keys). */
let shownList = '';

function renderList(k) {
  const sel = $('invite-rm');
  const present = new Set((k.c.participants || []).filter((p) => !p.left_at).map((p) => p.id));
  const key = JSON.stringify([k.c.id, list.status, list.at, [...present]]);
  if (key === shownList) return sel.options.length > 0;
  shownList = key;
  const keep = sel.value;
  const groups = new Map();
  for (const s of list.items) {
    if (present.has(s.id)) continue;
    const key = `${s.pool}:${s.team_id}`;
    if (!groups.has(key)) groups.set(key, { label: s.pool === 'team' ? `${s.team_name} (your team)` : s.team_name, items: [] });
    groups.get(key).items.push(s);
  }
  fill(
    sel,
    [...groups.values()].map((g) =>
      h('optgroup', { label: g.label }, g.items.map((s) => h('option', { value: s.id, 'data-state': s.state, text: optionText(s) }))),
    ),
  );
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
  else {
    const avail = [...sel.options].find((o) => o.dataset.state === 'available');
    if (avail) sel.value = avail.value;
  }
  const hint = $('invite-hint');
  hint.dataset.status = list.status;
  if (list.status === 'loading') setText(hint, 'Loading the specialists…');
  else if (list.status === 'failed') setText(hint, 'The list of specialists could not be loaded. Try “Refresh the list”.');
  else if (sel.options.length === 0) setText(hint, 'Nobody you may invite is listed.');
  else setText(hint, 'Specialist pools and your team; only an available specialist can join.');
  return sel.options.length > 0;
}

function renderOutcome(id) {
  const box = $('escalate-result');
  const o = outcomes.get(id);
  const room = rooms.get(id);
  box.hidden = !o && !room;
  box.dataset.outcome = o ? o.kind : '';
  const items = [];
  if (o) items.push(h('p', { class: 'outcome', text: o.text }));
  if (room && room.join) {
    items.push(h('p', {}, h('a', { id: 'video-join', href: room.join.url, target: '_blank', rel: 'noopener noreferrer', text: 'Join the video room' })));
  }
  if (room && room.client) {
    items.push(
      h(
        'p',
        { class: 'client-link' },
        h('span', { text: 'The client’s invitation (single use, hand it over): ' }),
        h('code', { id: 'video-client-link', text: room.client.url }),
      ),
    );
  }
  fill(box, items);
}

/** Brings the consult panel in line with the selected conversation. */
export function renderConsult() {
  if (!deps || !state.me) return;
  sameRM();
  const k = selected();
  if (!k) return;
  const c = k.c;
  if (shownConv !== c.id) {
    shownConv = c.id;
    $('invite-panel').open = false;
  }
  fill($('participants'), participants(c).map((p) => participantEl(p, k)));
  const may = canAct(c);
  const any = renderList(k);
  $('invite-rm').disabled = !may || !any;
  $('invite').disabled = !may || !any;
  $('invite-panel').classList.toggle('disabled', !may);
  for (const ch of ['voice', 'video']) {
    const b = $(`escalate-${ch}`);
    b.disabled = !may || c.channel === ch;
    b.setAttribute('aria-pressed', String(c.channel === ch));
  }
  renderOutcome(c.id);
  if (may && list.status === 'none') refreshList(false);
}

/** Forgets what was another RM's when another RM logged in on this page. */
function sameRM() {
  if (list.token === deps.token()) return;
  Object.assign(list, { items: [], at: -Infinity, status: 'none', token: deps.token() });
  outcomes.clear();
  rooms.clear();
}

/** Fetches the specialists when the list is stale (or always, when forced). */
async function refreshList(force) {
  sameRM();
  if (list.status === 'loading' || (!force && list.status === 'loaded' && performance.now() - list.at < LIST_FRESH_MS)) return;
  const token = deps.token();
  list.status = 'loading';
  deps.render();
  try {
    const body = await listSpecialists(token);
    if (token !== list.token) return; // asked for the RM who logged out
    list.items = body.items || [];
    list.status = 'loaded';
    list.at = performance.now();
  } catch (err) {
    if (token !== list.token) return;
    list.status = 'failed';
    alertRM('Specialists', err);
  }
  deps.render();
}

async function invite() {
  const k = selected();
  const rmId = $('invite-rm').value;
  if (!k || !rmId) return;
  const who = rmName(rmId);
  $('invite').disabled = true;
  try {
    applyConversationResult(await deps.request('invite', { conversation_id: k.c.id, rm_id: rmId }));
    announce(`${who} joined the conversation.`);
    $('invite-panel').open = false;
  } catch (err) {
    const why = INVITE_REFUSED[err && err.code];
    alertRM('Invite', why ? `${who} ${why}` : err);
    refreshList(true); // their presence has probably changed
  }
  deps.render();
}

async function escalate(channel) {
  const k = selected();
  if (!k) return;
  const id = k.c.id;
  const from = label(channels, k.c.channel);
  const to = label(channels, channel);
  for (const ch of ['voice', 'video']) $(`escalate-${ch}`).disabled = true;
  let o;
  try {
    const c = await deps.request('escalate', { conversation_id: id, channel });
    applyConversationResult(c);
    const now = label(channels, c.channel);
    o = { kind: 'ok', text: `Moved from ${from} to ${now}. You keep the conversation.${c.channel === 'video' ? ' The video room’s links follow.' : ''}` };
  } catch (err) {
    const why = ESCALATE_REFUSED[err && err.code];
    const detail = err && err.message && (err.code === 'bad_request' || err.code === 'illegal_transition') ? ` (${err.message})` : '';
    o = { kind: 'refused', text: `Not moved to ${to}: ${why || 'the server refused it.'}${detail}` };
  }
  outcomes.set(id, o);
  announce(o.text);
  deps.render();
}

/** Takes a "video" event of the RM's stream: the room's links are kept to show with its conversation. */
export function onVideoEvent(d) {
  if (!d || !d.conversation_id) return;
  if (d.kind === 'room_opened') rooms.set(d.conversation_id, { join: d.join || null, client: d.client || null });
  else if (d.kind === 'room_ended') rooms.delete(d.conversation_id);
}
