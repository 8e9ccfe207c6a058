// The desk's WebSocket (docs/desk-protocol.md): one connection to
// /ws/desk with the subprotocols "airbranch.desk.v1" and "bearer.<token>",
// reconnected with exponential backoff and resumed with ?after=<last seq>
// so no event of the RM's stream is missed or shown twice.

export const SUBPROTOCOL = 'airbranch.desk.v1';

/** Backoff between attempts: 0.5 s doubling to 30 s, with jitter. */
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30000;
/** How long a request waits for its ack or error. */
const REQUEST_TIMEOUT_MS = 15000;
/** Client close code when the stream skipped a seq: reconnect and resume. */
const CLOSE_GAP = 4000;

/** A refused or failed request: code as in the protocol's error frames. */
export class DeskError extends Error {
  constructor(code, message = '', status = 0) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

/**
 * DeskSocket keeps the desk connected. handlers:
 *   welcome(w)             the server's welcome (w.resumed, w.snapshot...)
 *   event(frame, replayed) a stream event, in seq order; replayed when it
 *                          was missed while disconnected
 *   error(data)            an error frame that answers no request
 *   push(frame)            a frame without seq for this session (phone.*)
 *   state(st)              {state: connecting|connected|reconnecting|refused|stopped, ...}
 *   probe()                after a connection failed before its welcome:
 *                          resolves to a reason string when the token is
 *                          refused (then the socket stops), else null
 */
export class DeskSocket {
  #token;
  #h;
  #ws = null;
  #welcomed = false;
  #lastSeq = null;
  #replayUntil = 0;
  #attempt = 0;
  #welcomes = 0;
  #timer = 0;
  #stopped = false;
  #probing = false;
  #pending = new Map();
  #n = 0;
  #online = () => this.#reconnectNow();

  constructor(token, handlers) {
    this.#token = token;
    this.#h = handlers;
  }

  /** The seq of the last stream event received (null before the first welcome). */
  get lastSeq() {
    return this.#lastSeq;
  }

  /** Opens the connection. */
  start() {
    window.addEventListener('online', this.#online);
    this.#connect();
  }

  /** Closes the connection for good (log out). */
  stop() {
    this.#stopped = true;
    window.removeEventListener('online', this.#online);
    clearTimeout(this.#timer);
    this.#failPending('connection_lost');
    if (this.#ws) this.#ws.close(1000, 'logged out');
    this.#ws = null;
    this.#h.state({ state: 'stopped' });
  }

  /**
   * Sends a request; resolves to its ack's data, rejects with a DeskError
   * (the error frame's code, or not_connected, timeout, connection_lost).
   */
  request(type, data) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.#welcomed) {
      return Promise.reject(new DeskError('not_connected'));
    }
    const id = `r${++this.#n}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new DeskError('timeout'));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ v: 1, type, id, data }));
    });
  }

  #url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const after = this.#lastSeq === null ? '' : `?after=${this.#lastSeq}`;
    return `${scheme}//${location.host}/ws/desk${after}`;
  }

  #connect() {
    if (this.#stopped) return;
    this.#h.state({ state: 'connecting', attempt: this.#attempt });
    let ws;
    try {
      ws = new WebSocket(this.#url(), [SUBPROTOCOL, `bearer.${this.#token}`]);
    } catch {
      this.#h.state({ state: 'refused', reason: 'The token cannot be sent as it is: paste it again.' });
      this.#stopped = true;
      return;
    }
    this.#ws = ws;
    this.#welcomed = false;
    ws.addEventListener('open', () => {
      if (ws.protocol !== SUBPROTOCOL) ws.close(4001, 'unexpected subprotocol');
    });
    ws.addEventListener('message', (ev) => {
      if (ws === this.#ws) this.#onMessage(ev.data);
    });
    ws.addEventListener('close', (ev) => {
      if (ws === this.#ws) this.#onClose(ev.code);
    });
  }

  #onMessage(raw) {
    let f;
    try {
      f = JSON.parse(raw);
    } catch {
      return;
    }
    if (!f || typeof f.type !== 'string') return;
    if (f.type === 'welcome') {
      this.#welcome(f.data || {});
      return;
    }
    if (f.type === 'ack' || f.type === 'error') {
      const p = f.id && this.#pending.get(f.id);
      if (p) {
        this.#pending.delete(f.id);
        clearTimeout(p.timer);
        if (f.type === 'ack') p.resolve(f.data);
        else p.reject(new DeskError(f.data?.code || 'internal', f.data?.message, f.data?.status));
      } else if (f.type === 'error') {
        this.#h.error(f.data || {});
      }
      return;
    }
    if (!(f.seq > 0)) {
      // A push for this session only (phone.*, queue): not in the stream.
      if (this.#welcomed && this.#h.push) this.#h.push(f);
      return;
    }
    if (!this.#welcomed) return;
    if (this.#lastSeq !== null && f.seq <= this.#lastSeq) return; // already seen
    if (this.#lastSeq !== null && f.seq > this.#lastSeq + 1) {
      // A seq was skipped: reconnect and have the server send it.
      this.#ws.close(CLOSE_GAP, 'missed a seq');
      return;
    }
    this.#lastSeq = f.seq;
    this.#h.event(f, f.seq <= this.#replayUntil);
  }

  #welcome(w) {
    this.#welcomed = true;
    this.#attempt = 0;
    this.#welcomes++;
    if (w.resumed) {
      this.#replayUntil = w.last_seq;
    } else {
      this.#lastSeq = w.last_seq;
      this.#replayUntil = 0;
    }
    this.#h.welcome(w);
    this.#h.state({ state: 'connected', resumed: Boolean(w.resumed), welcomes: this.#welcomes });
  }

  async #onClose(code) {
    const welcomed = this.#welcomed;
    this.#ws = null;
    this.#welcomed = false;
    this.#failPending('connection_lost');
    if (this.#stopped) return;
    if (code === 1013) this.#lastSeq = null; // events were trimmed: start afresh
    if (!welcomed) {
      // A refused upgrade (401, 403) looks like any lost connection to a
      // page; ask whether the token is the reason.
      this.#probing = true;
      const reason = await this.#h.probe();
      this.#probing = false;
      if (this.#stopped) return;
      if (reason) {
        this.#stopped = true;
        window.removeEventListener('online', this.#online);
        this.#h.state({ state: 'refused', reason });
        return;
      }
    }
    const base = code === 1001 ? BACKOFF_FIRST_MS : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.#attempt);
    const delayMs = Math.round(base * (0.5 + Math.random() / 2));
    this.#attempt++;
    this.#h.state({ state: 'reconnecting', delayMs, attempt: this.#attempt });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #reconnectNow() {
    if (this.#stopped || this.#ws || this.#probing) return;
    clearTimeout(this.#timer);
    this.#connect();
  }

  #failPending(code) {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new DeskError(code));
    }
    this.#pending.clear();
  }
}
