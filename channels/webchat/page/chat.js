// The web chat page: signs in with a token (pasted, or anonymous when the
// gateway allows it), writes messages and attaches files; the connection
// is socket.js, the rendering view.js. Protocol: channels/webchat/PROTOCOL.md.

import { $, state, TOKEN_KEY, PENDING_KEY, savePending, newID } from './state.js';
import { setStatus, showLogin, showPending } from './view.js';
import { connect, send } from './socket.js';

/** Least time between two typing notices. */
const TYPING_EVERY_MS = 2000;

function sendMessage(text) {
  const p = { id: newID(), text, attachments: state.attachments.map((a) => ({ id: a.id })), refs: state.attachments.slice() };
  state.attachments = [];
  $('chips').replaceChildren();
  state.pending.push(p);
  savePending();
  showPending(p);
  send({ type: 'message', id: p.id, data: { text: p.text, attachments: p.attachments } });
}

async function upload(file) {
  $('compose-error').textContent = '';
  const lim = state.limits;
  if (lim && file.size > lim.max_attachment_bytes) {
    $('compose-error').textContent = 'The file is larger than ' + Math.floor(lim.max_attachment_bytes / 1024) + ' KB.';
    return;
  }
  const r = await fetch('/chat/attachments?name=' + encodeURIComponent(file.name), {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': file.type || 'application/octet-stream' },
    body: file,
  });
  if (!r.ok) {
    $('compose-error').textContent = 'Not attached: ' + (await r.text()).trim();
    return;
  }
  const a = await r.json();
  state.attachments.push({ id: a.id, type: a.type, size: a.size, name: a.name });
  const chip = document.createElement('span');
  chip.className = 'chip';
  chip.textContent = 'Attached: ' + (a.name || a.type);
  $('chips').append(chip);
}

function start(token) {
  state.token = token.trim();
  if (!state.token) return;
  localStorage.setItem(TOKEN_KEY, state.token);
  $('login-error').textContent = '';
  state.lastSeq = null;
  state.attempt = 0;
  showLogin(false);
  connect();
}

/**
 * Asks the bank for a video call (POST /video/requests with the chat
 * token): a video conversation is opened and routed like this chat, and
 * the answer carries the /video/ join link, where the client waits in the
 * lobby until the RM admits them. The link opens in this tab; the chat's
 * history is back when the client returns.
 */
async function requestVideo() {
  const b = $('video');
  $('video-error').textContent = '';
  b.disabled = true;
  try {
    const r = await fetch('/video/requests', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + state.token, 'Content-Type': 'application/json' },
      body: '{}',
    });
    if (r.status !== 201) {
      const why = r.status === 404 ? 'video calls are not available' : (await r.text()).trim();
      $('video-error').textContent = 'No video call: ' + why;
      return;
    }
    location.assign((await r.json()).url);
  } catch (e) {
    $('video-error').textContent = 'No video call: ' + e.message;
  } finally {
    b.disabled = false;
  }
}

function signOut() {
  state.stopped = true;
  if (state.ws) state.ws.close(1000);
  state.ws = null;
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(PENDING_KEY);
  state.pending = [];
  state.token = '';
  $('messages').replaceChildren();
  state.shown.clear();
  setStatus('idle', 'not connected');
  showLogin(true);
}

async function init() {
  $('connect').onclick = () => start($('token').value);
  $('signout').onclick = signOut;
  $('video').onclick = requestVideo;
  $('anonymous').onclick = async () => {
    const r = await fetch('/chat/anonymous', { method: 'POST' });
    if (!r.ok) {
      $('login-error').textContent = 'Anonymous chat is not available: ' + (await r.text()).trim();
      return;
    }
    start((await r.json()).token);
  };
  $('compose').onsubmit = (ev) => {
    ev.preventDefault();
    const text = $('text').value.trim();
    if (!text && !state.attachments.length) return;
    $('text').value = '';
    $('compose-error').textContent = '';
    sendMessage(text);
  };
  $('text').onkeydown = (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      $('compose').requestSubmit();
    }
  };
  $('text').oninput = () => {
    const now = Date.now();
    if (now - state.lastTyping > TYPING_EVERY_MS && send({ type: 'typing' })) state.lastTyping = now;
  };
  $('file').onchange = (ev) => {
    const f = ev.target.files[0];
    ev.target.value = '';
    if (f) upload(f);
  };
  window.addEventListener('online', () => {
    if (!state.stopped && !state.ws) connect();
  });
  try {
    const cfg = await (await fetch('/chat/config.json')).json();
    $('anonymous').hidden = !cfg.anonymous;
    state.limits = cfg.limits;
  } catch {
    // the page works without it
  }
  if (state.token) start(state.token);
  else showLogin(true);
}

init();
