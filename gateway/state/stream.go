package state

import (
	"encoding/json"
	"time"
)

// Stream retention: each stream keeps its latest MaxStreamEventsKept
// events, and is dropped StreamEventTTL after its last append (its seq
// counter is kept, so seqs never repeat). A reader that resumes from
// before the kept window gets a Gap and reloads its state instead.
const (
	MaxStreamEventsKept = 1000
	StreamEventTTL      = 24 * time.Hour
)

// StreamEvent is one event of a named, ordered stream: an RM's desk
// stream ("rm:<id>": offers, assignments, messages...) or a web-chat
// client's ("webchat:<customer id>": the RM's replies, receipts). Seq
// counts from 1 per stream and never repeats.
type StreamEvent struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data,omitempty"`
}

// StreamPage is a read of a stream after a seq: the events in order, and
// Gap when events after that seq are no longer kept.
type StreamPage struct {
	Items []StreamEvent `json:"items"`
	Gap   bool          `json:"gap"`
	// Last is the seq of the stream's latest event (0 when none).
	Last int64 `json:"last"`
}

// validStreamEvent checks what AppendStreamEvent needs.
func validStreamEvent(stream string, typ string, data []byte) bool {
	return stream != "" && typ != "" && (len(data) == 0 || json.Valid(data))
}
