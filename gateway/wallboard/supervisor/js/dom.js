// DOM helpers. Every text reaches the page through textContent or an
// attribute, never as HTML, and charts are SVG elements built one by one:
// the page's Content-Security-Policy (Trusted Types) forbids HTML sinks.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Returns the element with id, or throws when the page lacks it. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`wallboard: no element #${id}`);
  return el;
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'hidden' || k === 'disabled' || k === 'selected') el[k] = Boolean(v);
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

/**
 * Builds an HTML element. attrs: "class", "text" (textContent), "hidden",
 * "disabled", "selected", "value", "on<event>" (a listener), anything else
 * as an attribute (data-*, aria-*, scope...); null or false leaves one
 * out. children: elements or strings (text nodes); null is skipped.
 */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** Builds an SVG element (attributes as in h: x, y, width, class...). */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces the children of el with children (as in h). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** Sets el's text when it differs (keeps screen readers quiet otherwise). */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
