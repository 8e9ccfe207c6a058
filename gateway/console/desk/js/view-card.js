// The customer card: who the client is, their segment and AUM band, own RM,
// language, and their latest interactions on every channel.

import { h, day } from './dom.js';
import { channels, label, segments, statuses } from './words.js';
import { state } from './state.js';

let languageNames = null;
try {
  languageNames = new Intl.DisplayNames(undefined, { type: 'language' });
} catch {
  languageNames = null;
}

/** "Cantonese (yue)" for a language code; the code when the browser has no name. */
export function language(code) {
  if (!code) return 'not known';
  try {
    const name = languageNames && languageNames.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** The client's name as the desk shows it. */
export function customerName(card, c) {
  return (card && card.display_name) || (c && c.customer_id) || 'Unknown client';
}

function ownRM(id) {
  if (!id) return 'none';
  return state.me && id === state.me.rm_id ? `${id} (you)` : id;
}

/** The facts of a card as a description list; c adds the conversation's intent. */
export function facts(card, c) {
  const rows = [
    ['Segment', label(segments, card?.segment || c?.segment) || 'not known'],
    ['AUM band', card?.aum_band || 'not known'],
    ['Own RM', ownRM(card?.own_rm)],
    ['Language', language(card?.language || c?.language)],
  ];
  if (c && c.intent) rows.push(['Intent', c.intent]);
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
}

/** The client's latest interactions (card.recent) as a list. */
export function recent(card) {
  const items = (card && card.recent) || [];
  if (items.length === 0) return h('p', { class: 'recent-none hint', text: 'No earlier interactions.' });
  return h(
    'div',
    { class: 'recent' },
    h('h4', { text: 'Recent interactions' }),
    h(
      'ul',
      {},
      items.map((it) => {
        const parts = [label(channels, it.channel), day(it.created_at), label(statuses, it.status)];
        if (it.disposition) parts.push(it.disposition);
        if (it.assignee_id) parts.push(`with ${it.assignee_id}`);
        return h('li', { text: parts.filter(Boolean).join(' · ') });
      }),
    ),
  );
}

/** The whole card for the chat pane. */
export function card(cardData, c) {
  return [
    h('h3', { class: 'card-name', text: customerName(cardData, c) }),
    cardData && cardData.prospect ? h('p', { class: 'badge prospect', text: 'Prospect (not yet a client)' }) : null,
    facts(cardData, c),
    recent(cardData),
  ];
}
