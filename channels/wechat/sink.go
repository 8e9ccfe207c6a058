package wechat

import (
	"context"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sink is where the adapter delivers what WeChat sends: the gateway's
// inbound store. The adapter calls it with a context bounded by
// Config.AckTimeout (below WeChat's 5-second limit) and answers WeChat only
// after it returns.
type Sink interface {
	// Receive stores one message or event, inserting it only if its
	// ProviderID (WeChat MsgId, or a key of FromUserName, CreateTime and
	// Event for events) is new; a retry returns the first copy's Receipt
	// with Duplicate set. Errors wrapping conversation.ErrUnavailable mean
	// "not stored, do not acknowledge" (the adapter answers 503 and WeChat
	// retries); conversation.ErrInvalid means the Incoming is malformed
	// (400).
	Receive(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error)
	// Status records a delivery report for an outbound message (a
	// template message's TEMPLATESENDJOBFINISH event), found by its
	// ProviderID. conversation.ErrNotFound is acknowledged and ignored;
	// ErrUnavailable and ErrInvalid as for Receive.
	Status(ctx context.Context, u conversation.StatusUpdate) error
}
