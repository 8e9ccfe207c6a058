// How figures read: counts, percentages and durations with their units,
// labels of the API's keys, and times. Numbers are formatted in English,
// as the page is, so every browser shows the same figures.

import { h } from './dom.js';

const one = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

/** "1,204" for a count. */
export function count(n) {
  return whole.format(n || 0);
}

/** "33.3 %" for a percentage (0 to 100). */
export function percent(x) {
  return `${one.format(x || 0)} %`;
}

/** "12.3 s", "3 min 05 s", "1 h 02 min" for a duration in seconds. */
export function seconds(sec) {
  const v = Math.max(0, sec || 0);
  if (Math.round(v * 10) < 600) return `${one.format(v)} s`;
  const r = Math.round(v);
  if (r < 3600) return `${Math.floor(r / 60)} min ${String(r % 60).padStart(2, '0')} s`;
  return `${Math.floor(r / 3600)} h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')} min`;
}

/** "+4.5 points", "−2 s", "+1" for a difference (pilot − control). */
export function difference(d, unit) {
  if (d === null || d === undefined || Number.isNaN(d)) return null;
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const a = Math.abs(d);
  switch (unit) {
    case 'points':
      return `${sign}${one.format(a)} points`;
    case 'seconds':
      return `${sign}${seconds(a)}`;
    default:
      return `${sign}${count(a)}`;
  }
}

/**
 * A figure that has nothing to average yet (no conversation answered,
 * none offered): a dash, read out as "none yet".
 */
export function none() {
  return [h('span', { 'aria-hidden': 'true', text: '–' }), h('span', { class: 'visually-hidden', text: 'none yet' })];
}

/**
 * "80 % in 20 s": the wait budget of f, or otherwise when it has none (a
 * segment without a budget: "no target"; a team whose figures carry no
 * budget: each conversation counted against its own segment's).
 */
export function target(f, otherwise = 'no target') {
  if (!f.budget_percent) return otherwise;
  return `${percent(f.budget_percent)} in ${seconds(f.budget_seconds)}`;
}

/** Whether f's SLA is below its target (with conversations offered). */
export function belowTarget(f) {
  return Boolean(f.budget_percent) && f.offered > 0 && f.sla_percent < f.budget_percent;
}

export const segments = {
  mass: 'Mass',
  mass_affluent: 'Mass affluent',
  affluent: 'Affluent',
  private: 'Private bank',
  small_business: 'Small business',
  retail_lending: 'Retail lending',
};

export const groups = { pilot: 'Pilot', control: 'Control' };

/** The RM states of the figures, in the order the wallboard shows them. */
export const rmStates = [
  ['available', 'Available'],
  ['busy', 'Busy'],
  ['away', 'Away'],
  ['wrap_up', 'Wrap-up'],
  ['offline', 'Offline'],
];

export const presenceStates = {
  available: 'Available',
  away: 'Away',
  wrap_up: 'Wrap-up',
  offline: 'Offline',
};

export const awayReasons = {
  not_responding: 'missed offers in a row',
  lease_expired: 'shift lease ended',
  logged_out: 'logged out',
};

/** "Private bank" for a segment key, else the key itself. */
export function segmentLabel(key) {
  return segments[key] || key;
}

/** "Private bank" for a team id such as "private_bank". */
export function teamLabel(key) {
  const words = String(key || '').replace(/[_-]+/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : '';
}

const clockFmt = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFmt = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** "10:04:05" for an RFC 3339 time (the browser's time zone); "" when unreadable. */
export function clock(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : clockFmt.format(t);
}

/** "30 Nov, 10:04" for an RFC 3339 time; "" when unreadable. */
export function day(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : dayFmt.format(t);
}

/** "the last 24 hours" for a window in minutes. */
export function windowLabel(minutes) {
  if (minutes % 60 !== 0) return `the last ${minutes} minutes`;
  const hours = minutes / 60;
  return hours === 1 ? 'the last hour' : `the last ${hours} hours`;
}
