// A reader of text/event-stream (WHATWG HTML §9.2.6, "Interpreting an
// event stream"), for a stream read with fetch: EventSource cannot send
// the Authorization header the figures need.

/** The longest line kept while waiting for its end (characters). */
export const MAX_LINE = 1 << 22;

/** A line longer than MAX_LINE: the stream is not an event stream. */
export class StreamError extends Error {}

/**
 * EventStreamParser is fed the decoded text of a stream in chunks of any
 * size (a chunk may end inside a line, or between the CR and LF of one
 * line end) and calls onEvent({type, data, id}) for each event dispatched
 * by a blank line: type "message" when no event field named one, data the
 * data fields joined by LF. Comments (":...") and retry fields are
 * ignored; an event without a data field is not dispatched.
 */
export class EventStreamParser {
  #buf = '';
  #type = '';
  #data = [];
  #id = '';
  #onEvent;

  constructor(onEvent) {
    this.#onEvent = onEvent;
  }

  /** The last event id seen (the id field), or "". */
  get lastId() {
    return this.#id;
  }

  /** Reads text; throws StreamError when a line outgrows MAX_LINE. */
  push(text) {
    const buf = this.#buf + text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c !== '\n' && c !== '\r') continue;
      if (c === '\r' && i + 1 === buf.length) break; // an LF may follow in the next chunk
      this.#line(buf.slice(start, i));
      if (c === '\r' && buf[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.#buf = buf.slice(start);
    if (this.#buf.length > MAX_LINE) {
      this.#buf = '';
      throw new StreamError('event stream line too long');
    }
  }

  #line(line) {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line[0] === ':') return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      default:
        break; // retry, and fields the standard does not know
    }
  }

  #dispatch() {
    const type = this.#type || 'message';
    const data = this.#data;
    this.#type = '';
    this.#data = [];
    if (data.length === 0) return;
    this.#onEvent({ type, data: data.join('\n'), id: this.#id });
  }
}
