// The board's tables: the headline tiles, figures per team and per
// segment, and RMs by state per team. Rows carry data-team or
// data-segment, cells data-figure, so a row reads as figures for people
// and for tests alike.

import { $, fill, h, s } from './dom.js';
import {
  belowTarget, count, groups, none, percent, rmStates, seconds, segmentLabel, target, teamLabel,
} from './format.js';
import { totals } from './history.js';

function cell(figure, ...content) {
  return h('td', { 'data-figure': figure }, ...content);
}

/** The SLA cell: the value and, as text, whether it meets the target. */
export function slaCell(f) {
  if (!f.offered) return h('td', { 'data-figure': 'sla' }, none());
  if (!f.budget_percent) return cell('sla', percent(f.sla_percent));
  const below = belowTarget(f);
  return h(
    'td',
    { 'data-figure': 'sla', 'data-below-target': String(below), class: below ? 'below' : null },
    percent(f.sla_percent),
    below ? h('span', { class: 'tag bad', text: '▼ below target' }) : h('span', { class: 'tag ok', text: 'on target' }),
  );
}

/** What a team's target cell says when its figures carry no wait budget. */
export const TEAM_TARGET = 'per segment';

/** The cells every Figures row has, from Waiting to Handled (teamTarget: see target()). */
function figureCells(f, teamTarget) {
  return [
    cell('waiting', count(f.waiting)),
    cell('longest_wait', f.waiting ? seconds(f.longest_wait_seconds) : none()),
    cell('offered', count(f.offered)),
    cell('answered', count(f.answered)),
    slaCell(f),
    cell('target', target(f, teamTarget)),
    cell('asa', f.answered ? seconds(f.asa_seconds) : none()),
    cell('aht', f.handled ? seconds(f.aht_seconds) : none()),
    cell('abandoned', f.offered ? `${count(f.abandoned)} (${percent(f.abandon_percent)})` : count(f.abandoned)),
    cell('handled', count(f.handled)),
  ];
}

/** The group badge of a team ("Pilot", "Control"), or "" without one. */
export function groupBadge(group) {
  return group ? h('span', { class: `group ${group}`, text: groups[group] || group }) : '';
}

function teamName(key) {
  return h('th', { scope: 'row' }, teamLabel(key), h('span', { class: 'key', text: key }));
}

export function renderTiles(board) {
  const t = totals(board);
  const tile = (figure, label, value, sub, cls) =>
    h('div', { class: `tile ${cls || ''}`.trim(), 'data-figure': figure }, h('dt', { text: label }), h('dd', {}, value, sub ? h('span', { class: 'sub', text: sub }) : null));
  fill(
    $('tiles'),
    tile('waiting', 'Waiting now', count(t.waiting)),
    tile('longest_wait', 'Longest wait', t.waiting ? seconds(t.longest) : none()),
    tile('offered', 'Offered', count(t.offered), `${count(t.handled)} handled`),
    tile('sla', 'SLA, all segments', t.sla === null ? none() : percent(t.sla), 'each within its segment’s target'),
    tile('abandon', 'Abandonment', t.abandon === null ? none() : percent(t.abandon), `${count(t.abandoned)} abandoned`),
  );
}

export function renderTeams(board) {
  const teams = board.teams || [];
  fill(
    $('teams').tBodies[0],
    teams.map((f) =>
      h(
        'tr',
        { 'data-team': f.key, 'data-group': f.group || null },
        teamName(f.key),
        h('td', { 'data-figure': 'group', class: 'text' }, groupBadge(f.group)),
        figureCells(f, TEAM_TARGET),
        cell('occupancy', percent(f.occupancy_percent)),
      ),
    ),
  );
  $('teams-empty').hidden = teams.length > 0;
}

export function renderSegments(board) {
  const segs = board.segments || [];
  fill(
    $('segments').tBodies[0],
    segs.map((f) =>
      h('tr', { 'data-segment': f.key }, h('th', { scope: 'row', text: segmentLabel(f.key) }), figureCells(f)),
    ),
  );
  $('segments-empty').hidden = segs.length > 0;
}

/** A stacked bar of a team's RMs by state (the row's cells say the same in text). */
function statesBar(rms) {
  const total = rmStates.reduce((n, [k]) => n + (rms[k] || 0), 0);
  const w = 100;
  let x = 0;
  const parts = [];
  for (const [k] of rmStates) {
    const n = rms[k] || 0;
    if (!n || !total) continue;
    const width = (w * n) / total;
    parts.push(s('rect', { class: `state ${k}`, x: x.toFixed(1), y: 0, width: width.toFixed(1), height: 14 }));
    x += width;
  }
  if (!parts.length) parts.push(s('rect', { class: 'track', x: 0, y: 0, width: w, height: 14 }));
  return s('svg', { viewBox: `0 0 ${w} 14`, width: w, height: 14, 'aria-hidden': 'true', focusable: 'false' }, parts);
}

export function renderRMStates(board) {
  const teams = board.teams || [];
  fill(
    $('rm-states').tBodies[0],
    teams.map((f) => {
      const rms = f.rms || {};
      return h(
        'tr',
        { 'data-team': f.key },
        teamName(f.key),
        rmStates.map(([k]) => h('td', { 'data-state': k, text: count(rms[k]) })),
        cell('occupancy', percent(f.occupancy_percent)),
        h('td', {}, statesBar(rms)),
      );
    }),
  );
}
