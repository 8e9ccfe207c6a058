package state

import (
	"encoding/json"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Desk event retention: each RM's stream keeps its latest
// MaxDeskEventsKept events, and is dropped DeskEventTTL after its last
// append. A desk that resumes from before the kept window gets a Gap and
// reloads its state instead.
const (
	MaxDeskEventsKept = 1000
	DeskEventTTL      = 24 * time.Hour
)

// DeskEvent is one event of an RM's ordered stream (an offer, an
// assignment, an inbound message...), for their desk sessions. Seq counts
// from 1 per RM and never repeats.
type DeskEvent struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data,omitempty"`
}

// DeskPage is a read of an RM's stream after a seq: the events in order,
// and Gap when events after that seq are no longer kept.
type DeskPage struct {
	Items []DeskEvent `json:"items"`
	Gap   bool        `json:"gap"`
	// Last is the seq of the RM's latest event (0 when none).
	Last int64 `json:"last"`
}

// validDeskEvent checks what AppendDeskEvent needs.
func validDeskEvent(rm conversation.RMID, typ string, data []byte) bool {
	return rm != "" && typ != "" && (len(data) == 0 || json.Valid(data))
}
