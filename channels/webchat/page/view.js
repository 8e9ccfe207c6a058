// Rendering: the message list, the conversation, queue, typing and
// business-hours notices, the connection status and the login form.

import { $, state } from './state.js';

export function setStatus(st, text) {
  const el = $('status');
  el.dataset.state = st;
  el.textContent = text;
}

export function showLogin(show) {
  $('login').hidden = !show;
  $('chat').hidden = show;
  $('signout').hidden = show;
  $('video').hidden = show;
}

function bubble(from) {
  const li = document.createElement('li');
  li.className = 'msg';
  li.dataset.from = from;
  return li;
}

function fillBubble(li, m) {
  li.replaceChildren();
  if (m.from === 'rm' && m.rm) {
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = m.rm.name;
    li.append(who);
  }
  if (m.text) li.append(document.createTextNode(m.text));
  for (const a of m.attachments || []) li.append(attachmentView(a));
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = m.created_at ? new Date(m.created_at).toLocaleTimeString() : '';
  li.append(meta);
}

function attachmentView(a) {
  const el = document.createElement('span');
  el.className = 'att';
  el.textContent = 'File: ' + (a.name || a.type) + ' (' + Math.ceil(a.size / 1024) + ' KB)';
  if (a.id) {
    el.onclick = () => openAttachment(a, el);
  } else if (/^https?:\/\//.test(a.ref || '')) {
    el.onclick = () => window.open(a.ref, '_blank', 'noopener');
  }
  return el;
}

async function openAttachment(a, el) {
  const r = await fetch('/chat/attachments/' + encodeURIComponent(a.id), { headers: { Authorization: 'Bearer ' + state.token } });
  if (!r.ok) return;
  const url = URL.createObjectURL(await r.blob());
  if (a.type.startsWith('image/')) {
    const img = document.createElement('img');
    img.src = url;
    img.alt = a.name || 'image';
    el.replaceWith(img);
  } else {
    window.open(url, '_blank', 'noopener');
  }
}

function append(li) {
  const list = $('messages');
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

/** Shows message m once; returns true when it is an RM message new here. */
export function showMessage(m) {
  if (state.shown.has(m.id)) return false;
  if (m.from === 'client' && m.client_id && state.shown.has('c:' + m.client_id)) {
    // Our own message echoed before its ack: it is stored.
    const el = state.shown.get('c:' + m.client_id);
    state.shown.delete('c:' + m.client_id);
    el.dataset.id = m.id;
    state.shown.set(m.id, el);
    markStored(el);
    return false;
  }
  const li = bubble(m.from);
  li.dataset.id = m.id;
  fillBubble(li, m);
  state.shown.set(m.id, li);
  append(li);
  if (m.from === 'client') markStored(li);
  if (m.from === 'rm') $('typing').hidden = true;
  return m.from === 'rm';
}

export function showPending(p) {
  if (state.shown.has('c:' + p.id)) return;
  const li = bubble('client');
  li.dataset.state = 'pending';
  fillBubble(li, { from: 'client', text: p.text, attachments: p.refs || [] });
  li.querySelector('.meta').textContent = 'sending…';
  state.shown.set('c:' + p.id, li);
  append(li);
}

export function markStored(li) {
  if (!li) return;
  li.dataset.state = 'stored';
  const meta = li.querySelector('.meta');
  if (meta && !meta.textContent.endsWith('✓')) meta.textContent = (meta.textContent === 'sending…' ? '' : meta.textContent + ' ') + '✓';
}

export function showConversation(c) {
  const el = $('conversation');
  if (!c) {
    el.hidden = true;
    return;
  }
  el.hidden = false;
  el.dataset.state = c.state;
  if (c.state === 'waiting') el.textContent = 'Waiting for a relationship manager…';
  state.rmName = c.state === 'assigned' && c.rm ? c.rm.name : '';
  if (c.state === 'assigned') el.textContent = 'You are chatting with ' + (state.rmName || 'your relationship manager') + '.';
  if (c.state === 'ended') el.textContent = 'This conversation has ended. Write again to start a new one.';
  if (c.state !== 'waiting') $('queue').hidden = true;
}

export function showQueue(q) {
  const el = $('queue');
  el.hidden = false;
  el.dataset.position = q.position;
  const mins = Math.max(1, Math.round(q.estimated_wait_seconds / 60));
  el.textContent = 'You are number ' + q.position + ' in the queue (about ' + mins + ' min).';
}

export function showTyping(t) {
  const el = $('typing');
  el.textContent = (state.rmName || 'Your relationship manager') + ' is typing…';
  el.hidden = false;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => (el.hidden = true), t.ttl_ms || 6000);
}

export function showHours(h) {
  const el = $('hours');
  el.hidden = !h || h.open;
  if (h && !h.open) el.textContent = h.notice || 'We are closed now; we will answer when we open.';
}
