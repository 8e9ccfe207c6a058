// Offers: one card per offer, with the customer card, a live countdown to
// the offer's expiry, and Accept and Decline.

import { $, h, duration, setText } from './dom.js';
import { channels, label } from './words.js';
import { state, offerList } from './state.js';
import { customerName, facts, recent } from './view-card.js';

/** An offer whose countdown ran out leaves the desk this long after (ms), if the gateway said nothing. */
const EXPIRED_LINGER_MS = 15000;

let actions = null;
/** offer id → {el, left, bar, accept, decline, busy} */
const cards = new Map();
let ticker = 0;

/** Sets what the buttons do: actions.accept(offerId), actions.decline(offerId). */
export function initOffers(a) {
  actions = a;
}

/** Marks an offer as being answered (buttons off) or not. */
export function setOfferBusy(id, busy) {
  const c = cards.get(id);
  if (!c) return;
  c.busy = busy;
  update(id);
}

function cardFor(id, o) {
  const d = o.data;
  const cust = d.customer || {};
  const nameId = `offer-${id}-name`;
  const left = h('span', { class: 'left' });
  const bar = h('progress', { class: 'bar', max: String(Math.max(1, d.expires_in_ms || 1)), value: '0', 'aria-hidden': 'true' });
  const accept = h('button', { type: 'button', class: 'accept primary', text: 'Accept', onclick: () => actions.accept(id) });
  const decline = h('button', { type: 'button', class: 'decline', text: 'Decline', onclick: () => actions.decline(id) });
  const badges = [label(channels, d.conversation.channel)];
  const el = h(
    'article',
    { class: 'offer', 'data-offer-id': id, 'data-conversation-id': d.conversation.id, 'aria-labelledby': nameId },
    h('h3', { class: 'customer-name', id: nameId, text: customerName(cust, d.conversation) }),
    h('p', { class: 'badges' }, badges.filter(Boolean).map((b) => h('span', { class: 'badge', text: b })),
      cust.prospect ? h('span', { class: 'badge prospect', text: 'Prospect' }) : null),
    facts(cust, d.conversation),
    recent(cust),
    h('p', { class: 'countdown' }, left, ' ', bar),
    h('div', { class: 'buttons' }, accept, decline),
  );
  return { el, left, bar, accept, decline, busy: false };
}

function update(id) {
  const c = cards.get(id);
  const o = state.offers.get(id);
  if (!c || !o) return;
  const ms = o.deadline - performance.now();
  const expired = ms <= 0;
  setText(c.left, expired ? 'Expired' : `${duration(ms)} left to accept`);
  c.bar.value = Math.max(0, ms);
  c.el.classList.toggle('expired', expired);
  c.el.classList.toggle('urgent', !expired && ms < 10000);
  c.accept.disabled = expired || c.busy;
  c.decline.disabled = expired || c.busy;
  if (c.busy) setText(c.accept, 'Accepting…');
  else setText(c.accept, 'Accept');
}

/** Brings the offer cards in line with the state; returns the ids that are new. */
export function renderOffers() {
  const list = $('offers');
  const offers = offerList();
  const fresh = [];
  for (const [id, c] of cards) {
    if (!state.offers.has(id)) {
      c.el.remove();
      cards.delete(id);
    }
  }
  let prev = null;
  for (const [id, o] of offers) {
    let c = cards.get(id);
    if (!c) {
      c = cardFor(id, o);
      cards.set(id, c);
      fresh.push(id);
    }
    const at = prev ? prev.nextSibling : list.firstChild;
    if (c.el !== at) list.insertBefore(c.el, at);
    prev = c.el;
    update(id);
  }
  $('offers-empty').hidden = offers.length > 0;
  setText($('offers-count'), offers.length ? `(${offers.length})` : '');
  if (offers.length && !ticker) ticker = setInterval(tick, 500);
  if (!offers.length && ticker) {
    clearInterval(ticker);
    ticker = 0;
  }
  return fresh;
}

function tick() {
  const now = performance.now();
  let dropped = false;
  for (const [id, o] of state.offers) {
    if (now - o.deadline > EXPIRED_LINGER_MS) {
      state.offers.delete(id);
      dropped = true;
    } else {
      update(id);
    }
  }
  if (dropped) renderOffers();
}
