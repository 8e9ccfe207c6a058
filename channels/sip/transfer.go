package sip

import (
	"context"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// Transfer takes the RM off the bridged call of conversation id, for a
// blind transfer decided elsewhere (the desk's transfer to another RM, a
// team or the queue, or the RM phone's REFER): the relay stops, the RM's
// phone gets a BYE (RFC 3261 §15; after the REFER's final NOTIFY when it
// asked), and the caller hears "please hold while we transfer your call"
// then music on hold with queue announcements, waiting as a queued call
// again, so that Bridge connects the next RM. A recording goes on, the
// next RM on its right channel. Errors: ErrUnknownCall when the call is
// not on this instance, ErrNotBridged when it is not bridged to an RM
// phone (still queued, ringing, or ending).
func (s *Server) Transfer(_ context.Context, id conversation.ConversationID) error {
	s.mu.Lock()
	c := s.byConv[id]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("transfer %s: %w", id, ErrUnknownCall)
	}
	c.mu.Lock()
	rm := c.rm
	if c.state != stateBridged || rm == nil || c.ctx.Err() != nil {
		c.mu.Unlock()
		return fmt.Errorf("transfer %s: %w", id, ErrNotBridged)
	}
	referred := c.referFrom == rm
	c.rm, c.held, c.state, c.referFrom = nil, false, stateQueued, nil
	c.mu.Unlock()

	media.Unbridge(c.leg, rm.leg)
	rm.leg.Record(nil, 0)
	s.mu.Lock()
	if rm.callID != "" && s.calls[rm.callID] == c {
		delete(s.calls, rm.callID)
	}
	s.mu.Unlock()
	c.startPlayback(c.queueAudio(prompts.Transfer))
	c.log.Info("call taken off the rm for a transfer", "rm_id", string(rm.rm))

	s.wg.Add(1)
	go func() { // the BYE must not hold up the caller's music
		defer s.wg.Done()
		if rm.dialog != nil && referred {
			s.notifyRefer(rm, "SIP/2.0 200 OK") // the REFER's outcome, before the BYE
		}
		if rm.dialog != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := rm.dialog.Bye(ctx); err != nil {
				c.log.Debug("bye to transferring rm failed", "error", err)
			}
			cancel()
		}
		_ = rm.leg.Close()
	}()
	return nil
}
