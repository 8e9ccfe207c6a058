package conversation

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// ConversationID identifies a conversation. It is a UUIDv7 (RFC 9562 §5.7) in
// its canonical 36-character text form, so IDs sort by creation time.
type ConversationID string

// MessageID identifies a message; a UUIDv7 like ConversationID.
type MessageID string

// EventID identifies a timeline event; a UUIDv7 like ConversationID.
type EventID string

// CustomerID identifies a customer, e.g. "cus-0001" from the bank's CRM or a
// UUIDv7 for a prospect created by identity resolution.
type CustomerID string

// RMID identifies a relationship manager, e.g. "rm-pb-01".
type RMID string

// TeamID identifies a team of RMs (a segment team or a specialist pool),
// e.g. "private_bank".
type TeamID string

// OfferID identifies an offer (reservation) of a conversation to one RM.
type OfferID string

// NewUUIDv7 returns a UUIDv7 (RFC 9562 §5.7) for the given time: 48 bits of
// Unix milliseconds, 12 bits of sub-millisecond precision (RFC 9562 §6.2
// method 3), and 62 random bits from crypto/rand. IDs made from later times
// sort after earlier ones as strings.
func NewUUIDv7(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint64(b[0:8], ms<<16)
	// Sub-millisecond fraction scaled to 12 bits.
	frac := uint16((now.UnixNano() % int64(time.Millisecond)) * 4096 / int64(time.Millisecond))
	binary.BigEndian.PutUint16(b[6:8], 0x7000|frac)
	_, _ = rand.Read(b[8:]) // crypto/rand.Read never returns an error (Go 1.24+)
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant 10xx
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// NewConversationID returns a new time-sortable ConversationID for now.
func NewConversationID(now time.Time) ConversationID { return ConversationID(NewUUIDv7(now)) }

// NewMessageID returns a new time-sortable MessageID for now.
func NewMessageID(now time.Time) MessageID { return MessageID(NewUUIDv7(now)) }

// NewEventID returns a new time-sortable EventID for now.
func NewEventID(now time.Time) EventID { return EventID(NewUUIDv7(now)) }

// NewOfferID returns a new time-sortable OfferID for now.
func NewOfferID(now time.Time) OfferID { return OfferID(NewUUIDv7(now)) }

// Millis truncates t to whole milliseconds in UTC, the precision of every
// timestamp in the model.
func Millis(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}
