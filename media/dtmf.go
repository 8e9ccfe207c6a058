package media

import "encoding/binary"

// DTMFEvent is one telephone-event payload (RFC 4733 §2.3): the event code
// (0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash), the end bit, volume in
// -dBm0 and the duration so far in timestamp units (1/8000 s).
type DTMFEvent struct {
	Event    uint8
	End      bool
	Volume   uint8
	Duration uint16
}

// ParseDTMFEvent reads the 4-byte telephone-event payload p (RFC 4733
// §2.3). ok is false for a payload shorter than 4 bytes.
func ParseDTMFEvent(p []byte) (ev DTMFEvent, ok bool) {
	if len(p) < 4 {
		return ev, false
	}
	return DTMFEvent{Event: p[0], End: p[1]&0x80 != 0, Volume: p[1] & 0x3f, Duration: binary.BigEndian.Uint16(p[2:])}, true
}

// DTMFDigit returns the character of a telephone-event code ("0"-"9", "*",
// "#", "A"-"D"), or 0 for codes that are not digits (RFC 4733 §3.2).
func DTMFDigit(event uint8) byte {
	const digits = "0123456789*#ABCD"
	if int(event) < len(digits) {
		return digits[event]
	}
	return 0
}

// DTMFDetector turns a stream of telephone-event packets into digits, one
// per event. All packets of one event (its start, updates and the three
// end retransmissions, RFC 4733 §2.5.1) share one RTP timestamp, so an event
// is reported once, on its first packet seen, whatever its marker bit (the
// packet carrying the marker may be lost, RFC 4733 §2.5.1.2). A
// DTMFDetector is owned by one goroutine; the zero value is ready.
type DTMFDetector struct {
	lastTS    uint32
	lastEvent uint8
	seen      bool
}

// Packet feeds one telephone-event packet's RTP timestamp and payload and
// returns the digit when this packet starts a new event, or 0.
func (d *DTMFDetector) Packet(timestamp uint32, payload []byte) byte {
	ev, ok := ParseDTMFEvent(payload)
	if !ok {
		return 0
	}
	if d.seen && timestamp == d.lastTS && ev.Event == d.lastEvent {
		return 0
	}
	d.seen, d.lastTS, d.lastEvent = true, timestamp, ev.Event
	return DTMFDigit(ev.Event)
}
