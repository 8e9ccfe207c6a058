// RMs and scorecards: the chosen team's RMs from GET /api/v1/presence
// (presence, load, missed offers), and the scorecard of the RM picked
// (GET /api/v1/stats/rms/{id}: handled, AHT, dispositions, leads).

import { $, fill, h, setText } from './dom.js';
import { awayReasons, clock, count, day, groups, none, percent, presenceStates, seconds, teamLabel, windowLabel } from './format.js';
import { state } from './state.js';

/** Fills the team picker from the board's teams, keeping the choice. */
export function renderRMTeams(board) {
  const sel = $('rm-team');
  const keys = (board.teams || []).map((f) => f.key);
  if (!keys.includes(state.rmTeam)) {
    state.rmTeam = keys.includes(state.me && state.me.team) ? state.me.team : keys[0] || '';
  }
  const have = [...sel.options].map((o) => o.value).join(' ');
  if (have !== keys.join(' ')) {
    fill(sel, keys.map((k) => h('option', { value: k, text: teamLabel(k) })));
  }
  sel.value = state.rmTeam;
}

function presenceText(p) {
  const label = presenceStates[p.state] || p.state || 'Unknown';
  if (!p.reason) return label;
  return `${label} (${awayReasons[p.reason] || p.reason.replace(/_/g, ' ')})`;
}

function loadText(p) {
  const cap = p.capacity || 100;
  const text = `${count(p.load)} of ${count(cap)} (${percent((100 * (p.load || 0)) / cap)})`;
  return p.state === 'available' && p.load >= cap ? `${text}, at capacity` : text;
}

/** The team's RMs, with a Scorecard button each; keeps the focus on a redraw. */
export function renderRMs() {
  const body = $('rms').tBodies[0];
  const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement.dataset.rm : null;
  const rows = (state.presence || []).filter((p) => p.team_id === state.rmTeam);
  fill(
    body,
    rows.map((p) =>
      h(
        'tr',
        { 'data-rm': p.rm_id, 'data-state': p.state, 'aria-current': p.rm_id === state.scorecardRM ? 'true' : null },
        h('th', { scope: 'row', text: p.rm_id }),
        h('td', { 'data-figure': 'presence', class: 'text', text: presenceText(p) }),
        h('td', { 'data-figure': 'load', text: loadText(p) }),
        h('td', { 'data-figure': 'missed', text: count(p.missed_in_row) }),
        h('td', {}, h('button', { type: 'button', 'data-rm': p.rm_id, 'aria-controls': 'scorecard', 'aria-label': `Scorecard of ${p.rm_id}`, text: 'Scorecard' })),
      ),
    ),
  );
  if (focused) {
    const again = body.querySelector(`button[data-rm="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
  let note = '';
  if (state.presenceError) note = state.presenceError;
  else if (state.presence === null) note = state.presenceLoading ? 'Loading the RMs…' : '';
  else if (!rows.length) note = 'This team has no RM in the directory.';
  else note = `Presence at ${clock(state.presenceClock)}.`;
  const el = $('rms-state');
  setText(el, note);
  el.classList.toggle('error', Boolean(state.presenceError));
}

function fact(figure, label, value) {
  return [h('dt', { text: label }), h('dd', { 'data-figure': figure }, value)];
}

/** The scorecard panel of state.scorecardRM. */
export function renderScorecard() {
  const panel = $('scorecard');
  const rm = state.scorecardRM;
  panel.hidden = !rm;
  panel.dataset.rm = rm;
  if (!rm) return;
  const sc = state.scorecard && state.scorecard.rm_id === rm ? state.scorecard : null;
  panel.dataset.state = state.scorecardError ? 'failed' : sc ? 'ready' : 'loading';
  setText($('scorecard-title'), `Scorecard of ${rm}`);
  const err = $('scorecard-error');
  err.hidden = !state.scorecardError;
  err.textContent = state.scorecardError;
  if (!sc) {
    setText($('scorecard-scope'), state.scorecardError ? '' : 'Loading…');
    fill($('scorecard-figures'));
    fill($('dispositions').tBodies[0]);
    return;
  }
  const group = sc.group ? ` (${groups[sc.group] || sc.group} group)` : '';
  setText(
    $('scorecard-scope'),
    `Team ${teamLabel(sc.team_id)}${group}. Conversations closed since ${day(sc.since)} (${windowLabel(state.windowMin)}), at ${clock(sc.at)}.`,
  );
  fill(
    $('scorecard-figures'),
    fact('handled', 'Handled', count(sc.handled)),
    fact('aht', 'Average handle time', sc.handled ? seconds(sc.aht_seconds) : none()),
    fact('active', 'Active now', count(sc.active)),
    fact('leads', 'Leads', count(sc.leads)),
    fact('satisfaction', 'Satisfaction', typeof sc.satisfaction === 'number' ? String(sc.satisfaction) : 'not collected yet'),
  );
  const entries = Object.entries(sc.dispositions || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  fill(
    $('dispositions').tBodies[0],
    entries.length
      ? entries.map(([k, n]) =>
          h('tr', { 'data-disposition': k }, h('th', { scope: 'row', text: k }), h('td', { 'data-figure': 'count', text: count(n) })),
        )
      : h('tr', {}, h('td', { colspan: 2, class: 'empty', text: 'None in this window.' })),
  );
}

/** Wires the picker and the buttons: pickTeam(team), open(rmId). */
export function initRMs({ pickTeam, open }) {
  $('rm-team').addEventListener('change', (ev) => pickTeam(ev.target.value));
  $('rms').tBodies[0].addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-rm]');
    if (b) open(b.dataset.rm);
  });
}
