// The RM desk console: logs in with a bearer token, keeps the desk socket
// connected, and turns the RM's clicks into desk requests
// (docs/desk-protocol.md). Nothing here writes to the browser console:
// message texts and clients' addresses are personal data.

import { $ } from './dom.js';
import * as api from './api.js';
import * as tokens from './token.js';
import { DeskSocket } from './socket.js';
import { alertRM, announce, clearAlerts } from './notices.js';
import { refusal } from './words.js';
import {
  state, addLocal, addOffer, applyConversation, applyConversationResult, applyHistory, applyMessage,
  applyMessageStatus, applyResume, applySnapshot, failLocal, select, settleLocal,
} from './state.js';
import { customerName } from './view-card.js';
import { initOffers, renderOffers, setOfferBusy } from './view-offers.js';
import { initSide, renderConnection, renderConversations, renderPresence, renderWho, setPresenceBusy } from './view-side.js';
import { initChat, renderChat } from './view-chat.js';
import { initConsult, onVideoEvent, renderConsult } from './view-consult.js';
import { initPhone, onCallEvent, onPush, resumePhone } from './phone.js';

/** How often typing is signalled while the RM writes (ms). */
const TYPING_EVERY_MS = 3000;
/** How many earlier conversations a card fetched from the REST API lists. */
const RECENT = 5;

let socket = null;
let token = '';
let lastTyping = 0;

/** Redraws every panel from the state; announces offers that are new. */
function render() {
  renderWho();
  renderPresence();
  for (const id of renderOffers()) {
    const o = state.offers.get(id);
    if (o) announce(`New offer: ${customerName(o.data.customer, o.data.conversation)}. Accept or decline.`);
  }
  renderConversations();
  renderChat();
  renderConsult();
}

// --- the socket's reports ---------------------------------------------------

function onWelcome(w) {
  if (w.resumed) applyResume(w);
  else applySnapshot(w, performance.now());
  resumePhone(); // a new session: its softphone line is registered again
  render();
}

function onEvent(f, replayed) {
  const d = f.data || {};
  switch (f.type) {
    case 'offer':
      addOffer(d, performance.now(), replayed);
      break;
    case 'conversation':
      applyConversation(d);
      break;
    case 'message': {
      const k = d.message && applyMessage(d.message);
      if (k && d.message.direction === 'inbound' && state.selected !== k.c.id) {
        announce(`New message from ${customerName(k.card, k.c)}.`);
      }
      break;
    }
    case 'message_status':
      if (d.message) applyMessageStatus(d.message);
      break;
    case 'presence':
      state.presence = d;
      break;
    case 'call':
      onCallEvent(d);
      break;
    case 'video':
      onVideoEvent(d);
      break;
    default:
      return; // a newer server's event: nothing to show
  }
  render();
}

function onSocketState(st) {
  renderConnection(st);
  if (st.state === 'refused') {
    tokens.clear();
    showLogin(st.reason, 'refused');
  }
}

// --- the RM's actions ---------------------------------------------------------

async function ask(what, type, data) {
  try {
    return await socket.request(type, data);
  } catch (err) {
    alertRM(what, err);
    throw err;
  }
}

async function setPresence(st, reason = '') {
  setPresenceBusy(true);
  try {
    state.presence = await ask('Presence', 'presence', { state: st, reason });
  } catch {
    // Shown as an alert.
  } finally {
    setPresenceBusy(false);
    render();
  }
}

async function accept(offerId) {
  const o = state.offers.get(offerId);
  if (!o) return;
  setOfferBusy(offerId, true);
  try {
    const c = await ask('Accept', 'accept', { offer_id: offerId });
    state.offers.delete(offerId);
    applyConversationResult(c);
    selectConversation(c.id);
  } catch (err) {
    if (err.code === 'offer_gone' || err.code === 'not_found') state.offers.delete(offerId);
    setOfferBusy(offerId, false);
  }
  render();
}

async function decline(offerId) {
  setOfferBusy(offerId, true);
  try {
    await ask('Decline', 'decline', { offer_id: offerId, reason: 'declined_at_desk' });
    state.offers.delete(offerId);
  } catch (err) {
    if (err.code === 'offer_gone' || err.code === 'not_found') state.offers.delete(offerId);
    setOfferBusy(offerId, false);
  }
  render();
}

function selectConversation(id) {
  select(id);
  render();
}

async function send(text) {
  const id = state.selected;
  if (!id || !text.trim()) return;
  const local = addLocal(id, text);
  render();
  try {
    const res = await socket.request('send', { conversation_id: id, text });
    settleLocal(id, local, res.message);
  } catch (err) {
    failLocal(id, local, refusal(err).text);
    alertRM('Send', err);
  }
  render();
}

function typing() {
  const id = state.selected;
  const now = performance.now();
  if (!id || !socket || now - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = now;
  socket.request('typing', { conversation_id: id }).catch(() => {
    // Typing is a hint: a refusal is not worth an alert.
  });
}

async function conversationAction(what, type, data) {
  try {
    applyConversationResult(await ask(what, type, { conversation_id: state.selected, ...data }));
    return true;
  } catch {
    return false;
  } finally {
    render();
  }
}

function needHistory(k) {
  k.history = 'loading';
  queueMicrotask(render);
  api
    .conversationDetail(k.c.id, token)
    .then((detail) => applyHistory(detail))
    .catch((err) => {
      k.history = 'failed';
      alertRM('History', err);
    })
    .finally(render);
}

function needCard(k) {
  k.cardAsked = true;
  Promise.all([api.customer(k.c.customer_id, token), api.customerConversations(k.c.customer_id, RECENT + 1, token)])
    .then(([cust, page]) => {
      if (k.card) return; // an offer brought one meanwhile
      k.card = {
        id: cust.id,
        display_name: cust.display_name,
        segment: cust.segment,
        aum_band: cust.aum_band,
        own_rm: cust.own_rm,
        language: cust.preferred_language,
        prospect: cust.prospect,
        recent: (page.items || []).filter((c) => c.id !== k.c.id).slice(0, RECENT).map((c) => ({
          conversation_id: c.id, channel: c.channel, status: c.status, assignee_id: c.assignee_id,
          disposition: c.disposition, created_at: c.created_at,
        })),
      };
      render();
    })
    .catch(() => {
      // The card stays short (id, segment, language); the chat works without it.
    });
}

// --- logging in and out -------------------------------------------------------

function showLogin(problem = '', reason = '') {
  $('login').hidden = false;
  $('desk').hidden = true;
  $('logout').hidden = true;
  const err = $('login-error');
  err.hidden = !problem;
  err.textContent = problem;
  err.dataset.reason = reason;
  $('token').setAttribute('aria-invalid', String(Boolean(problem)));
  $('token').focus();
}

function startDesk(checked) {
  token = checked.token;
  $('login').hidden = true;
  $('desk').hidden = false;
  $('logout').hidden = false;
  $('token').value = '';
  state.me = { rm_id: checked.claims.sub, team_id: checked.claims.team || '' };
  render();
  socket = new DeskSocket(token, {
    welcome: onWelcome,
    event: onEvent,
    error: (d) => alertRM('', d),
    push: onPush,
    state: onSocketState,
    probe: () => api.tokenRefusal(token),
  });
  socket.start();
}

async function logOut() {
  if (socket) {
    // Going offline first, so routing stops offering to an empty desk.
    await socket.request('presence', { state: 'offline', reason: 'logged_out' }).catch(() => {});
    socket.stop();
    socket = null;
  }
  tokens.clear();
  token = '';
  state.me = null;
  state.presence = null;
  state.offers.clear();
  state.convs.clear();
  state.selected = null;
  clearAlerts();
  render();
  renderConnection({ state: 'logged_out' });
  showLogin();
}

// --- wiring -------------------------------------------------------------------

function wire() {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const checked = tokens.check($('token').value);
    if (checked.problem) {
      showLogin(checked.problem, checked.reason);
      return;
    }
    tokens.save(checked.token);
    startDesk(checked);
  });
  $('logout').addEventListener('click', () => logOut());
  $('presence-available').addEventListener('click', () => setPresence('available'));
  $('presence-offline').addEventListener('click', () => setPresence('offline'));
  $('away-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    setPresence('away', $('away-reason').value);
  });
  $('composer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const box = $('composer-text');
    const text = box.value;
    box.value = '';
    send(text);
  });
  $('composer-text').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer-text').addEventListener('input', typing);
  $('wrap-up').addEventListener('click', () => conversationAction('Wrap up', 'wrap_up', {}));
  for (const radio of document.querySelectorAll('input[name="transfer-to"]')) {
    radio.addEventListener('change', () => {
      $('transfer-target').disabled = radio.value === 'queue' && radio.checked;
    });
  }
  $('transfer-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const to = document.querySelector('input[name="transfer-to"]:checked').value;
    const target = $('transfer-target').value.trim();
    if (to !== 'queue' && !target) {
      alertRM('Transfer', `Type the ${to === 'team' ? 'team' : 'RM'} id to transfer to.`);
      return;
    }
    const data = { to, reason: $('transfer-reason').value.trim() };
    if (to === 'team') data.team_id = target;
    if (to === 'rm') data.rm_id = target;
    if (await conversationAction('Transfer', 'transfer', data)) $('transfer-panel').open = false;
  });
  $('disposition').addEventListener('change', () => {
    const other = $('disposition').value === '';
    $('disposition-other').disabled = !other;
    if (other) $('disposition-other').focus();
    else $('disposition-other').value = '';
  });
  $('close-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const disposition = $('disposition').value || $('disposition-other').value.trim();
    if (!disposition) {
      alertRM('Close', 'Choose a disposition, or type one, before closing.');
      return;
    }
    conversationAction('Close', 'close', { disposition });
  });
  initOffers({ accept, decline });
  initSide({ select: selectConversation });
  initChat({ needHistory, needCard });
  initConsult({ request: (type, data) => socket.request(type, data), token: () => token, render });
  initPhone((type, data) => socket.request(type, data));
}

function boot() {
  wire();
  const saved = tokens.load();
  const checked = saved ? tokens.check(saved) : null;
  if (checked && checked.token) {
    startDesk(checked);
  } else {
    if (saved) tokens.clear();
    showLogin(checked ? checked.problem : '', checked ? checked.reason : '');
  }
}

boot();
