// The recent past of the board, kept in memory from the stream (nothing
// is stored): one point per board, over the segments (every conversation
// the supervisor may see counts in exactly one segment).

/** How far back the history goes (ms of the gateway's clock). */
export const HISTORY_MS = 15 * 60 * 1000;
/** The most points kept (a board every 5 s gives 180 in 15 minutes). */
const MAX_POINTS = 400;

/**
 * Totals of a board over its segments: waiting now, the longest wait
 * (seconds), offered, answered within target, abandoned and handled in
 * the window, and the SLA and abandonment % (null with nothing offered).
 */
export function totals(board) {
  const t = { waiting: 0, longest: 0, offered: 0, inTarget: 0, abandoned: 0, handled: 0, sla: null, abandon: null };
  for (const f of board.segments || []) {
    t.waiting += f.waiting || 0;
    t.longest = Math.max(t.longest, f.longest_wait_seconds || 0);
    t.offered += f.offered || 0;
    t.inTarget += f.answered_in_target || 0;
    t.abandoned += f.abandoned || 0;
    t.handled += f.handled || 0;
  }
  if (t.offered > 0) {
    t.sla = (100 * t.inTarget) / t.offered;
    t.abandon = (100 * t.abandoned) / t.offered;
  }
  return t;
}

/**
 * Adds board to points ({t: ms, waiting, sla}, oldest first): a board
 * at the same time as the last point replaces it; one from before it
 * (the gateway's clock went back) starts afresh; points older than
 * HISTORY_MS before the newest are dropped.
 */
export function record(points, board) {
  const t = Date.parse(board.at);
  if (Number.isNaN(t)) return;
  const { waiting, sla } = totals(board);
  const last = points[points.length - 1];
  if (last && t < last.t) points.length = 0;
  if (last && t === last.t) points[points.length - 1] = { t, waiting, sla };
  else points.push({ t, waiting, sla });
  while (points.length > MAX_POINTS || (points.length && points[0].t < t - HISTORY_MS)) points.shift();
}
