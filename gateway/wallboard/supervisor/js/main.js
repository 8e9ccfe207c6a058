// The supervisor wallboard: logs in with a bearer token, keeps the
// figures' stream open (BoardStream), redraws the board on every figures
// event, and reads the RMs and a scorecard on demand. Nothing here writes
// to the browser console: the figures name RMs, and the token is a secret.

import { $, fill, setText } from './dom.js';
import * as api from './api.js';
import * as tokens from './token.js';
import { BoardStream } from './stream.js';
import { DEFAULT_WINDOW_MIN, reset, since, state } from './state.js';
import { record } from './history.js';
import { belowTarget, clock, day, percent, segmentLabel, target, teamLabel, windowLabel } from './format.js';
import { apiProblem, connection, problem, refusal } from './words.js';
import { renderRMStates, renderSegments, renderTeams, renderTiles } from './view-tables.js';
import { renderHistory, renderSLAChart, renderWaitingChart } from './view-charts.js';
import { renderComparison } from './view-compare.js';
import { initRMs, renderRMs, renderRMTeams, renderScorecard } from './view-rms.js';

/** How often the RMs' presence and the open scorecard are read again (ms). */
const REFRESH_MS = 15000;
/** After this long without a board the figures are marked out of date (ms). */
const STALE_MS = 20000;

let stream = null;
let staleTimer = 0;
/** Counts log-ins and log-outs, so a late answer for a previous session is dropped. */
let session = 0;

// --- drawing -------------------------------------------------------------------

function render() {
  const b = state.board;
  if (!b) return;
  renderScope();
  renderTiles(b);
  renderTeams(b);
  renderSLAChart(b);
  renderWaitingChart(b);
  renderHistory(state.history);
  renderComparison(b);
  renderRMStates(b);
  renderSegments(b);
  renderRMTeams(b);
  renderRMs();
  renderScorecard();
}

function renderScope() {
  const b = state.board;
  $('scope').dataset.since = b.since;
  setText($('scope'), `Queued since ${day(b.since)} (${windowLabel(state.windowMin)}); figures at ${clock(b.at)}, gateway time.`);
  const stale = performance.now() - state.boardSeenAt > STALE_MS;
  const up = $('updated');
  up.hidden = false;
  up.dataset.stale = String(stale);
  setText(up, stale ? `Updated ${clock(b.at)}: may be out of date` : `Updated ${clock(b.at)}`);
}

/** Empties every panel (log out), so the next supervisor never sees the last one's figures. */
function clearBoard() {
  for (const id of ['tiles', 'sla-chart', 'waiting-chart', 'history-chart', 'rm-team']) fill($(id));
  for (const id of ['teams', 'segments', 'rm-states', 'rms', 'dispositions']) fill($(id).tBodies[0]);
  fill($('comparison').tHead);
  fill($('comparison').tBodies[0]);
  $('scorecard').hidden = true;
  $('updated').hidden = true;
  setText($('rms-state'), '');
  showProblem('');
}

function showProblem(text) {
  const el = $('problem');
  el.hidden = !text;
  setText(el, text);
}

function announce(text) {
  $('announcer').textContent = text;
}

/** Announces teams and segments that fell below their SLA target since the last board. */
function announceBelow(b) {
  const now = new Set();
  const news = [];
  const check = (kind, label, f) => {
    if (!belowTarget(f)) return;
    const k = `${kind}:${f.key}`;
    now.add(k);
    if (!state.below.has(k)) news.push(`${label(f.key)} SLA ${percent(f.sla_percent)} is below its target of ${target(f)}.`);
  };
  for (const f of b.teams || []) check('team', teamLabel, f);
  for (const f of b.segments || []) check('segment', segmentLabel, f);
  state.below = now;
  if (news.length) announce(news.join(' '));
}

// --- the stream's reports --------------------------------------------------------

function onBoard(b) {
  state.board = b;
  state.boardSeenAt = performance.now();
  const at = Date.parse(b.at);
  if (!Number.isNaN(at)) state.clockOffsetMs = at - Date.now();
  record(state.history, b);
  $('window').disabled = false;
  showProblem('');
  announceBelow(b);
  render();
  refreshIfDue();
}

function onState(st) {
  const conn = $('conn');
  conn.dataset.state = st.state;
  conn.dataset.streams = String(st.streams || 0);
  setText(conn, connection(st));
  if (st.state === 'reconnecting' && st.reason !== 'ended') {
    const shown = state.board ? ` The figures shown are from ${clock(state.board.at)}.` : '';
    showProblem(`${problem(st.reason)}${shown} The wallboard keeps trying.`);
  }
}

function onNotice() {
  const shown = state.board ? ` The figures shown are from ${clock(state.board.at)}.` : '';
  showProblem(`The gateway could not compute the latest figures.${shown}`);
}

function onRefused(status) {
  tokens.clear();
  stopBoard();
  const conn = $('conn');
  conn.dataset.state = 'refused';
  setText(conn, connection({ state: 'refused' }));
  showLogin(refusal(status), 'refused');
}

function onBadWindow() {
  state.windowMin = DEFAULT_WINDOW_MIN;
  $('window').value = String(DEFAULT_WINDOW_MIN);
  state.history = [];
  showProblem(problem('bad_window'));
}

// --- RMs and scorecards -------------------------------------------------------------

async function loadPresence() {
  if (state.presenceLoading) return;
  const mine = session;
  state.presenceLoading = true;
  renderRMs();
  try {
    const page = await api.presence(state.token);
    if (mine !== session) return;
    state.presence = page.items || [];
    state.presenceClock = new Date(Date.now() + state.clockOffsetMs).toISOString();
    state.presenceError = '';
  } catch (err) {
    if (mine !== session) return;
    state.presenceError = apiProblem(err);
  }
  state.presenceLoading = false;
  state.presenceAt = performance.now();
  renderRMs();
}

async function loadScorecard(rm) {
  const mine = session;
  state.scorecardRM = rm;
  state.scorecardError = '';
  if (state.scorecard && state.scorecard.rm_id !== rm) state.scorecard = null;
  renderScorecard();
  renderRMs();
  try {
    const sc = await api.scorecard(rm, since(), state.token);
    if (mine !== session || state.scorecardRM !== rm) return;
    state.scorecard = sc;
  } catch (err) {
    if (mine !== session || state.scorecardRM !== rm) return;
    state.scorecard = null;
    state.scorecardError = apiProblem(err);
  }
  renderScorecard();
}

function refreshIfDue() {
  if (state.presenceLoading || performance.now() - state.presenceAt < REFRESH_MS) return;
  loadPresence();
  if (state.scorecardRM) loadScorecard(state.scorecardRM);
}

// --- logging in and out ---------------------------------------------------------------

function showLogin(text = '', reason = '') {
  $('login').hidden = false;
  $('board').hidden = true;
  $('logout').hidden = true;
  $('whoami').hidden = true;
  const err = $('login-error');
  err.hidden = !text;
  err.textContent = text;
  err.dataset.reason = reason;
  $('token').setAttribute('aria-invalid', String(Boolean(text)));
  $('token').focus();
}

function whoText(c) {
  if (c.role === 'admin') return `${c.sub} · admin, every team`;
  return c.team ? `${c.sub} · supervisor of ${teamLabel(c.team)}` : `${c.sub} · supervisor, every team`;
}

function startBoard(checked) {
  session++;
  state.token = checked.token;
  state.me = { sub: checked.claims.sub || '', role: checked.claims.role, team: checked.claims.team || '' };
  $('token').value = '';
  $('login').hidden = true;
  $('board').hidden = false;
  $('logout').hidden = false;
  const who = $('whoami');
  who.hidden = false;
  who.textContent = whoText(state.me);
  $('window').value = String(state.windowMin);
  $('window').disabled = true;
  setText($('scope'), 'Waiting for the first figures…');
  renderHistory(state.history);
  $('main').focus();
  stream = new BoardStream(state.token, {
    board: onBoard,
    notice: onNotice,
    state: onState,
    refused: onRefused,
    badWindow: onBadWindow,
    since,
  });
  stream.start();
  staleTimer = setInterval(() => {
    if (state.board) renderScope();
  }, 5000);
}

function stopBoard() {
  session++;
  if (stream) stream.stop();
  stream = null;
  clearInterval(staleTimer);
  reset();
  clearBoard();
}

function logOut() {
  tokens.clear();
  stopBoard();
  const conn = $('conn');
  conn.dataset.state = 'logged_out';
  conn.dataset.streams = '0';
  setText(conn, connection({ state: 'logged_out' }));
  showLogin();
}

// --- wiring -----------------------------------------------------------------------------

function wire() {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const checked = tokens.check($('token').value);
    if (checked.problem) {
      showLogin(checked.problem, checked.reason);
      return;
    }
    tokens.save(checked.token);
    startBoard(checked);
  });
  $('logout').addEventListener('click', logOut);
  $('window').addEventListener('change', (ev) => {
    state.windowMin = Number(ev.target.value) || DEFAULT_WINDOW_MIN;
    state.history = [];
    state.below = new Set();
    if (stream) stream.restart();
    if (state.scorecardRM) loadScorecard(state.scorecardRM);
  });
  initRMs({
    pickTeam: (team) => {
      state.rmTeam = team;
      renderRMs();
    },
    open: (rm) => loadScorecard(rm),
  });
}

function boot() {
  wire();
  const saved = tokens.load();
  const checked = saved ? tokens.check(saved) : null;
  if (checked && checked.token) {
    startBoard(checked);
  } else {
    if (saved) tokens.clear();
    showLogin(checked ? checked.problem : '', checked ? checked.reason : '');
  }
}

boot();
