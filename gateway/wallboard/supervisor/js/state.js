// What the wallboard knows: who is logged in, the last board and its
// history, and the RM list and scorecard being shown. Only in memory.

/** The gateway's default window (GET /api/v1/stats without since), minutes. */
export const DEFAULT_WINDOW_MIN = 1440;

export const state = {
  /** {sub, role, team} of the token, or null when logged out. */
  me: null,
  token: '',
  /** The last Board received, and when (performance.now()). */
  board: null,
  boardSeenAt: 0,
  /** The gateway's clock minus the browser's, from the last board (ms). */
  clockOffsetMs: 0,
  /** The window asked for, in minutes. */
  windowMin: DEFAULT_WINDOW_MIN,
  /** Points {t, waiting, sla} of the recent boards (history.js). */
  history: [],
  /** Keys ("team:x", "segment:y") below their SLA target at the last board. */
  below: new Set(),
  /** The team whose RMs are listed; the presence rows and when they came. */
  rmTeam: '',
  presence: null,
  presenceAt: -Infinity,
  /** When the presence rows were read, on the gateway's clock (RFC 3339). */
  presenceClock: '',
  presenceError: '',
  presenceLoading: false,
  /** The scorecard shown: its RM, the Scorecard, or the failure. */
  scorecardRM: '',
  scorecard: null,
  scorecardError: '',
};

/** Forgets everything (log out). */
export function reset() {
  Object.assign(state, {
    me: null, token: '', board: null, boardSeenAt: 0, clockOffsetMs: 0, windowMin: DEFAULT_WINDOW_MIN,
    history: [], below: new Set(), rmTeam: '', presence: null, presenceAt: -Infinity, presenceClock: '', presenceError: '',
    presenceLoading: false, scorecardRM: '', scorecard: null, scorecardError: '',
  });
}

/**
 * The start of the window to ask the gateway for, in RFC 3339 on the
 * gateway's clock, or "" for its default (24 hours) or before the first
 * board (when the gateway's clock is not known yet).
 */
export function since() {
  if (state.windowMin === DEFAULT_WINDOW_MIN || !state.board) return '';
  const t = Date.now() + state.clockOffsetMs - state.windowMin * 60000;
  return new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
