package sip

import (
	"context"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Party says who ended a call.
type Party string

// Parties.
const (
	// PartyClient: the caller hung up (BYE, or CANCEL before the answer).
	PartyClient Party = "client"
	// PartyRM: the RM hung up (BYE from their phone, or the softphone's
	// hang-up, LocalBridge.Hangup).
	PartyRM Party = "rm"
	// PartyGateway: the gateway ended the call (media timeout, the
	// callback goodbye, a hang-up asked through Server.Hangup, shutdown,
	// a failed answer).
	PartyGateway Party = "gateway"
)

// EndedBySink is a CallSink that also wants to know who ended each
// answered call: when the sink implements it, the end of an answered call
// is reported with CallEndedBy instead of CallEnded (calls that end before
// the gateway answered still go to CallEnded).
type EndedBySink interface {
	CallEndedBy(ctx context.Context, id conversation.ConversationID, reason EndReason, by Party) error
}

// endedBy names the party that ended a call from the BYEs the end left to
// send: a leg that needs no BYE is the one that hung up.
func endedBy(byeCaller, byeRM, hasRM bool) Party {
	switch {
	case !byeCaller:
		return PartyClient
	case !byeRM && hasRM:
		return PartyRM
	}
	return PartyGateway
}

// reportEnd reports the end of an answered call to the sink.
func (s *Server) reportEnd(ctx context.Context, id conversation.ConversationID, reason EndReason, by Party) error {
	if e, ok := s.sink.(EndedBySink); ok {
		return e.CallEndedBy(ctx, id, reason, by)
	}
	return s.sink.CallEnded(ctx, id, reason)
}

// HoldSink is a CallSink that also wants to know when the RM puts a
// bridged call on hold and takes it back (a re-INVITE with sendonly or
// inactive media, RFC 3264 §8.4, and the one that ends it).
type HoldSink interface {
	CallHeld(ctx context.Context, id conversation.ConversationID, held bool) error
}

// reportHold tells a HoldSink sink that the call was held or resumed, on
// a goroutine of the server's (the re-INVITE's answer does not wait).
func (c *call) reportHold(held bool) {
	hs, ok := c.s.sink.(HoldSink)
	if !ok {
		return
	}
	id := c.conversationID()
	c.s.wg.Add(1)
	go func() {
		defer c.s.wg.Done()
		ctx, cancel := c.s.sinkCtx()
		defer cancel()
		if err := hs.CallHeld(ctx, id, held); err != nil {
			c.log.Debug("hold not reported", "held", held, "error", err)
		}
	}()
}
