// Charts drawn by hand as inline SVG: SLA by team against each team's
// target, waiting by segment, and the last 15 minutes of waiting and SLA.
// Each chart is one role="img" with a text summary for screen readers;
// the tables beside them hold the same figures.

import { $, fill, s } from './dom.js';
import { belowTarget, count, percent, seconds, segmentLabel, teamLabel } from './format.js';
import { HISTORY_MS } from './history.js';

const WIDTH = 360;
const LABEL = 96;
const VALUE = 136;
const ROW = 24;

/** Horizontal bars: rows of {key, label, value (0..max or null), marker (or null), cls, text}. */
function bars(rows, max, ticks, summary) {
  const span = WIDTH - LABEL - VALUE;
  const x = (v) => LABEL + (span * Math.min(max, Math.max(0, v))) / max;
  const height = rows.length * ROW + 22;
  const parts = [];
  rows.forEach((r, i) => {
    const y = i * ROW;
    const g = [
      s('text', { x: 0, y: y + 16, text: r.label }),
      s('rect', { class: 'track', x: LABEL, y: y + 5, width: span, height: 14 }),
    ];
    if (r.value !== null && r.value > 0) {
      g.push(s('rect', { class: `bar ${r.cls}`, x: LABEL, y: y + 5, width: (x(r.value) - LABEL).toFixed(1), height: 14 }));
    }
    if (r.marker !== null) {
      const mx = x(r.marker).toFixed(1);
      g.push(s('line', { class: 'target', x1: mx, x2: mx, y1: y + 2, y2: y + 22 }));
    }
    g.push(s('text', { x: LABEL + span + 6, y: y + 16, class: r.value === null ? 'muted' : null, text: r.text }));
    parts.push(s('g', { 'data-key': r.key }, g));
  });
  const base = rows.length * ROW + 4;
  parts.push(s('line', { class: 'axis', x1: LABEL, x2: LABEL + span, y1: base, y2: base }));
  for (const t of ticks) {
    parts.push(s('text', { x: x(t.v).toFixed(1), y: base + 14, class: 'muted', 'text-anchor': 'middle', text: t.label }));
  }
  return s('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': summary }, parts);
}

/** SLA % per team as bars, the team's target as a dashed mark. */
export function renderSLAChart(board) {
  const teams = board.teams || [];
  const rows = teams.map((f) => {
    const below = belowTarget(f);
    return {
      key: f.key,
      label: teamLabel(f.key),
      value: f.offered ? f.sla_percent : null,
      marker: f.budget_percent ? f.budget_percent : null,
      cls: !f.budget_percent ? 'none' : below ? 'bad' : 'ok',
      text: !f.offered ? 'none offered' : `${percent(f.sla_percent)}${below ? ' ▼ below' : ''}`,
    };
  });
  const summary = teams.length
    ? `SLA by team: ${teams
        .map((f) => {
          const v = f.offered ? percent(f.sla_percent) : 'none offered';
          const t = f.budget_percent ? `, target ${percent(f.budget_percent)}` : '';
          return `${teamLabel(f.key)} ${v}${t}${belowTarget(f) ? ', below target' : ''}`;
        })
        .join('; ')}.`
    : 'No team on this board.';
  const ticks = [0, 50, 100].map((v) => ({ v, label: `${v} %` }));
  fill($('sla-chart'), bars(rows, 100, ticks, summary));
}

/** Conversations waiting now per segment as bars, with the longest wait. */
export function renderWaitingChart(board) {
  const segs = board.segments || [];
  const most = Math.max(1, ...segs.map((f) => f.waiting || 0));
  const rows = segs.map((f) => ({
    key: f.key,
    label: segmentLabel(f.key),
    value: f.waiting || 0,
    marker: null,
    cls: 'count',
    text: f.waiting ? `${count(f.waiting)}, longest ${seconds(f.longest_wait_seconds)}` : '0',
  }));
  const summary = segs.length
    ? `Waiting now by segment: ${segs
        .map((f) => `${segmentLabel(f.key)} ${count(f.waiting)}${f.waiting ? `, longest ${seconds(f.longest_wait_seconds)}` : ''}`)
        .join('; ')}.`
    : 'No segment on this board.';
  const ticks = [
    { v: 0, label: '0' },
    { v: most, label: count(most) },
  ];
  fill($('waiting-chart'), bars(rows, most, ticks, summary));
}

/** A round maximum for a count axis: 1, 2, 5, 10, 20, 50... at least v. */
function niceMax(v) {
  let step = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * step >= v) return m * step;
    step *= 10;
  }
}

/** Polylines through points (x, y or null), broken at nulls. */
function lines(pts, cls) {
  const out = [];
  let run = [];
  const flush = () => {
    if (run.length > 1) out.push(s('polyline', { class: `line ${cls}`, points: run.join(' ') }));
    run = [];
  };
  for (const p of pts) {
    if (p.y === null) flush();
    else run.push(`${p.x.toFixed(1)},${p.y.toFixed(1)}`);
  }
  flush();
  const last = [...pts].reverse().find((p) => p.y !== null);
  if (last) out.push(s('circle', { class: `point ${cls}`, cx: last.x.toFixed(1), cy: last.y.toFixed(1), r: 3 }));
  return out;
}

/** Waiting and SLA (all segments) over the last 15 minutes, from points {t, waiting, sla}. */
export function renderHistory(points) {
  const box = $('history-chart');
  box.dataset.points = String(points.length);
  const left = 64;
  const right = 8;
  const span = WIDTH - left - right;
  const panelH = 52;
  const panels = [
    { top: 6, cls: 'waiting', label: 'Waiting', max: niceMax(Math.max(1, ...points.map((p) => p.waiting))), val: (p) => p.waiting, fmt: count },
    { top: 86, cls: 'sla', label: 'SLA', max: 100, val: (p) => p.sla, fmt: percent },
  ];
  const height = 86 + panelH + 22;
  const parts = [];
  if (!points.length) {
    parts.push(s('text', { x: left, y: 60, class: 'muted', text: 'Waiting for the first figures…' }));
  }
  const tMax = points.length ? points[points.length - 1].t : 0;
  const xOf = (t) => left + (span * (t - (tMax - HISTORY_MS))) / HISTORY_MS;
  for (const p of panels) {
    const yOf = (v) => (v === null ? null : p.top + panelH - (panelH * Math.min(p.max, v)) / p.max);
    parts.push(
      s('text', { x: 0, y: p.top + panelH / 2 + 4, text: p.label }),
      s('text', { x: left - 6, y: p.top + 10, class: 'muted', 'text-anchor': 'end', text: p.fmt(p.max) }),
      s('text', { x: left - 6, y: p.top + panelH, class: 'muted', 'text-anchor': 'end', text: p.fmt(0) }),
      s('line', { class: 'axis', x1: left, x2: left + span, y1: p.top + panelH, y2: p.top + panelH }),
      s('line', { class: 'axis', x1: left, x2: left, y1: p.top, y2: p.top + panelH }),
    );
    if (points.length) parts.push(lines(points.map((q) => ({ x: xOf(q.t), y: yOf(p.val(q)) })), p.cls));
  }
  const base = 86 + panelH;
  parts.push(
    s('text', { x: left, y: base + 16, class: 'muted', text: '15 min ago' }),
    s('text', { x: left + span, y: base + 16, class: 'muted', 'text-anchor': 'end', text: 'now' }),
  );
  fill(box, s('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': historySummary(points) }, parts));
}

function historySummary(points) {
  if (!points.length) return 'No figures yet.';
  const first = points[0];
  const last = points[points.length - 1];
  const sla = (v) => (v === null ? 'none offered' : percent(v));
  const mins = Math.max(1, Math.round((last.t - first.t) / 60000));
  if (points.length === 1) return `Now: ${count(last.waiting)} waiting, SLA ${sla(last.sla)}.`;
  return `Over the last ${mins} min: waiting went from ${count(first.waiting)} to ${count(last.waiting)}; SLA from ${sla(first.sla)} to ${sla(last.sla)}.`;
}
