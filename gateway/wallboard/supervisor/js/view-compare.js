// The pilot and control groups side by side: the figures of the teams
// tagged pilot beside those tagged control, and the difference when there
// is one team on each side.

import { $, fill, h } from './dom.js';
import { count, difference, none, percent, seconds, target, teamLabel } from './format.js';
import { TEAM_TARGET, groupBadge, slaCell } from './view-tables.js';

/** The rows: a figure's label, its text, its value for the difference (null: none), and the unit. */
const ROWS = [
  { key: 'offered', label: 'Offered', show: (f) => count(f.offered), value: (f) => f.offered, unit: 'count' },
  { key: 'sla', label: 'SLA', cell: slaCell, value: (f) => (f.offered ? f.sla_percent : null), unit: 'points' },
  { key: 'target', label: 'SLA target', show: (f) => target(f, TEAM_TARGET), value: () => null },
  { key: 'asa', label: 'ASA', show: (f) => (f.answered ? seconds(f.asa_seconds) : none()), value: (f) => (f.answered ? f.asa_seconds : null), unit: 'seconds' },
  { key: 'aht', label: 'AHT', show: (f) => (f.handled ? seconds(f.aht_seconds) : none()), value: (f) => (f.handled ? f.aht_seconds : null), unit: 'seconds' },
  { key: 'abandon', label: 'Abandonment', show: (f) => (f.offered ? percent(f.abandon_percent) : none()), value: (f) => (f.offered ? f.abandon_percent : null), unit: 'points' },
  { key: 'occupancy', label: 'Occupancy', show: (f) => percent(f.occupancy_percent), value: (f) => f.occupancy_percent, unit: 'points' },
  { key: 'waiting', label: 'Waiting now', show: (f) => count(f.waiting), value: (f) => f.waiting, unit: 'count' },
  { key: 'handled', label: 'Handled', show: (f) => count(f.handled), value: (f) => f.handled, unit: 'count' },
];

export function renderComparison(board) {
  const teams = board.teams || [];
  const pilot = teams.filter((f) => f.group === 'pilot');
  const control = teams.filter((f) => f.group === 'control');
  const cols = [...pilot, ...control];
  const table = $('comparison');
  const note = $('comparison-empty');
  table.hidden = cols.length === 0;
  if (!cols.length) {
    note.textContent = 'No team on this board is in a pilot or a control group.';
    note.hidden = false;
    fill(table.tHead);
    fill(table.tBodies[0]);
    return;
  }
  const missing = !pilot.length ? 'pilot' : !control.length ? 'control' : '';
  note.hidden = !missing;
  note.textContent = missing ? `No ${missing} team on this board (it may be another supervisor’s).` : '';
  const diff = pilot.length === 1 && control.length === 1;
  fill(
    table.tHead,
    h(
      'tr',
      {},
      h('th', { scope: 'col', text: 'Figure' }),
      cols.map((f) => h('th', { scope: 'col', class: f.group, 'data-team': f.key, 'data-group': f.group }, teamLabel(f.key), ' ', groupBadge(f.group))),
      diff ? h('th', { scope: 'col', text: 'Pilot − control' }) : null,
    ),
  );
  fill(
    table.tBodies[0],
    ROWS.map((r) => {
      const cells = cols.map((f) => {
        const td = r.cell ? r.cell(f) : h('td', { 'data-figure': r.key }, r.show(f));
        td.classList.add(f.group);
        td.dataset.team = f.key;
        return td;
      });
      let d = null;
      if (diff) {
        const a = r.value(pilot[0]);
        const b = r.value(control[0]);
        const text = a === null || b === null ? null : difference(a - b, r.unit);
        d = h('td', { class: 'diff', 'data-figure': `${r.key}_difference` }, text === null ? none() : text);
      }
      return h('tr', { 'data-figure': r.key }, h('th', { scope: 'row', text: r.label }), cells, d);
    }),
  );
}
