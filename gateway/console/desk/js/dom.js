// DOM helpers. Every text reaches the page through textContent or an
// attribute, never as HTML, so a client's message cannot become markup
// (the page's Content-Security-Policy also forbids HTML sinks).

/** Returns the element with id, or throws when the page lacks it. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`desk: no element #${id}`);
  return el;
}

/**
 * Builds an element. attrs: "class", "text" (textContent), "hidden",
 * "disabled", "value", "on<event>" (a listener), anything else as an
 * attribute (data-*, aria-*, type...); null or false leaves one out.
 * children: elements or strings (text nodes); null is skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'hidden' || k === 'disabled') el[k] = Boolean(v);
    else if (k === 'value') el.value = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the children of el with children (as in h). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** Sets el's text when it differs (keeps screen readers quiet otherwise). */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** "10:04" for an RFC 3339 time; "" when absent or unreadable. */
export function clock(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : timeFmt.format(t);
}

/** "30 Nov, 10:04" for an RFC 3339 time; "" when absent or unreadable. */
export function day(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : dateFmt.format(t);
}

/** "45 s", "2 min 05 s" for a duration in milliseconds (0 below 0). */
export function duration(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
