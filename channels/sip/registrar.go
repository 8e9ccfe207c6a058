package sip

import (
	"context"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Binding is one registered contact of an RM's phone (RFC 3261 §10.3).
type Binding struct {
	RM conversation.RMID `json:"rm"`
	// Contact is the contact URI, e.g. "sip:rm-pb-01@192.0.2.7:5062".
	Contact string `json:"contact"`
	// Source is where the REGISTER came from ("ip:port") and Transport its
	// transport ("UDP", "TCP", "TLS"), to reach phones behind NAT.
	Source    string `json:"source"`
	Transport string `json:"transport"`
	// CallID and CSeq order REGISTERs of one phone (RFC 3261 §10.3 step 7).
	CallID string `json:"call_id"`
	CSeq   uint32 `json:"cseq"`
	// Expires is when the binding lapses; UpdatedAt when it was last
	// refreshed.
	Expires   time.Time `json:"expires"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Registrar stores RM phone bindings, shared by every instance when it is
// backed by Redis. Bindings are keyed by (RM, Contact).
type Registrar interface {
	// Put inserts or replaces the binding of (b.RM, b.Contact).
	Put(ctx context.Context, b Binding) error
	// Remove deletes the binding of (rm, contact); removing a missing
	// binding is not an error.
	Remove(ctx context.Context, rm conversation.RMID, contact string) error
	// RemoveAll deletes every binding of rm (REGISTER with "Contact: *").
	RemoveAll(ctx context.Context, rm conversation.RMID) error
	// Bindings returns rm's bindings that have not expired at now, most
	// recently updated first.
	Bindings(ctx context.Context, rm conversation.RMID, now time.Time) ([]Binding, error)
}
