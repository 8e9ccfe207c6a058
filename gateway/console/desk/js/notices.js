// What the desk tells the RM outside the panels: alerts (refusals and
// failures, in plain words, until dismissed) and announcements for screen
// readers (new offers, new messages).

import { $, h } from './dom.js';
import { refusal } from './words.js';

/** How many alerts stay on screen; older ones give way. */
const MAX_ALERTS = 4;

/**
 * Shows an alert: what failed (e.g. "Accept"), and why in plain words.
 * err is a refusal {code, message} or a sentence.
 */
export function alertRM(what, err) {
  const { text, detail } = typeof err === 'string' ? { text: err, detail: '' } : refusal(err);
  const box = $('alerts');
  const item = h(
    'div',
    { class: 'alert', 'data-code': (err && err.code) || '' },
    h('p', { class: 'alert-text' }, h('strong', { text: what ? `${what}: ` : '' }), text),
    detail ? h('p', { class: 'alert-detail', text: `Details: ${detail}` }) : null,
    h('button', { type: 'button', class: 'quiet', text: 'Dismiss', onclick: () => item.remove() }),
  );
  box.append(item);
  while (box.children.length > MAX_ALERTS) box.firstElementChild.remove();
}

/** Removes every alert (log out). */
export function clearAlerts() {
  $('alerts').replaceChildren();
}

/** Says text to screen readers (a polite live region). */
export function announce(text) {
  $('announcer').textContent = text;
}
