// The figures' stream: GET /api/v1/stats/stream (server-sent events, an
// event "board" at once and every 5 s, for up to 5 minutes), read with
// fetch and a ReadableStream so that the token goes in the Authorization
// header, never in the URL. It reconnects when the gateway ends the
// stream, when it fails, and when no board arrives for STALL_MS.

import { refusalOf, requestInit } from './api.js';
import { EventStreamParser } from './sse.js';

export const STREAM_PATH = '/api/v1/stats/stream';

/** After a failure: 1 s doubling to 30 s, with jitter. */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
/** After the gateway ended a stream that delivered boards (its 5-minute renewal). */
const RENEW_MS = 500;
/** A stream that sends no byte for this long is given up (boards come every 5 s). */
export const STALL_MS = 20000;

/**
 * BoardStream keeps the figures flowing. handlers:
 *   board(b)         a Board: {at, since, teams: [Figures], segments: [Figures]}
 *   notice(code)     the gateway could not compute one board (event "error")
 *   state(st)        {state: connecting|live|reconnecting, streams, attempt, reason, delayMs}
 *   refused(status)  the token was refused (401, 403): the stream stops
 *   badWindow()      the gateway refused ?since= (400): the next attempt asks for the default window
 *   since()          the RFC 3339 start of the window to ask for, or "" for the gateway's default
 */
export class BoardStream {
  #token;
  #h;
  #ctl = null;
  #timer = 0;
  #stall = 0;
  #waiting = false;
  #attempt = 0;
  #streams = 0;
  #stopped = true;
  #online = () => this.#reconnectNow();

  constructor(token, handlers) {
    this.#token = token;
    this.#h = handlers;
  }

  /** How many streams were opened so far (1 after the first, 2 after a reconnect...). */
  get streams() {
    return this.#streams;
  }

  /** Opens the stream. */
  start() {
    this.#stopped = false;
    window.addEventListener('online', this.#online);
    this.#connect();
  }

  /** Closes the stream for good (log out, refusal). */
  stop() {
    this.#stopped = true;
    window.removeEventListener('online', this.#online);
    clearTimeout(this.#timer);
    clearTimeout(this.#stall);
    const ctl = this.#ctl;
    this.#ctl = null;
    if (ctl) ctl.abort();
  }

  /** Reconnects at once (the window changed). */
  restart() {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    clearTimeout(this.#stall);
    const ctl = this.#ctl;
    this.#ctl = null;
    if (ctl) ctl.abort();
    this.#attempt = 0;
    this.#connect();
  }

  async #connect() {
    if (this.#stopped) return;
    this.#waiting = false;
    const ctl = new AbortController();
    this.#ctl = ctl;
    this.#h.state({ state: 'connecting', attempt: this.#attempt, streams: this.#streams });
    const since = this.#h.since();
    const url = since ? `${STREAM_PATH}?since=${encodeURIComponent(since)}` : STREAM_PATH;
    let res;
    try {
      res = await fetch(url, requestInit(this.#token, 'text/event-stream', ctl.signal));
    } catch {
      if (ctl === this.#ctl) this.#retry('unreachable');
      return;
    }
    if (ctl !== this.#ctl) return;
    if (!res.ok) {
      await refusalOf(res);
      if (ctl !== this.#ctl) return;
      if (res.status === 401 || res.status === 403) {
        this.stop();
        this.#h.refused(res.status);
        return;
      }
      if (res.status === 400) {
        this.#h.badWindow();
        this.#retry('bad_window');
        return;
      }
      this.#retry(res.status === 503 ? 'unavailable' : 'internal');
      return;
    }
    if (!(res.headers.get('Content-Type') || '').startsWith('text/event-stream') || !res.body) {
      ctl.abort();
      this.#retry('internal');
      return;
    }
    this.#streams++;
    this.#h.state({ state: 'live', streams: this.#streams });
    let boards = 0;
    const parser = new EventStreamParser((ev) => {
      if (ev.type === 'board') {
        let b;
        try {
          b = JSON.parse(ev.data);
        } catch {
          return;
        }
        boards++;
        this.#attempt = 0;
        this.#h.board(b);
      } else if (ev.type === 'error') {
        let d = {};
        try {
          d = JSON.parse(ev.data) || {};
        } catch {
          // An error event without a code.
        }
        this.#h.notice(d.code || 'unavailable');
      }
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    this.#armStall(ctl);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (ctl !== this.#ctl) return;
        if (done) break;
        this.#armStall(ctl);
        parser.push(value);
      }
    } catch {
      if (ctl !== this.#ctl) return; // stopped or restarted meanwhile
      const stalled = ctl.signal.aborted;
      ctl.abort();
      clearTimeout(this.#stall);
      this.#retry(stalled ? 'stalled' : 'lost');
      return;
    }
    clearTimeout(this.#stall);
    this.#retry(boards > 0 ? 'ended' : 'lost');
  }

  #armStall(ctl) {
    clearTimeout(this.#stall);
    this.#stall = setTimeout(() => ctl.abort(), STALL_MS);
  }

  #retry(reason) {
    if (this.#stopped) return;
    const renew = reason === 'ended';
    const base = renew ? RENEW_MS : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.#attempt);
    const delayMs = Math.round(base * (0.5 + Math.random() / 2));
    if (!renew) this.#attempt++;
    this.#waiting = true;
    this.#h.state({ state: 'reconnecting', reason, delayMs, attempt: this.#attempt, streams: this.#streams });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #reconnectNow() {
    if (this.#stopped || !this.#waiting) return;
    clearTimeout(this.#timer);
    this.#connect();
  }
}
