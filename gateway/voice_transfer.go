package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
)

// More kinds of voice requests (see voiceRequest).
const (
	// voiceTransfer: an RM transferred a voice conversation (to another
	// RM, a team or the queue): take the call off their phone and keep the
	// caller waiting, with music, for the next RM.
	voiceTransfer = "transfer"
	// voiceCallback: an RM accepted a callback task: ring their phone,
	// then call the client over the outbound trunk (voice_callback.go).
	voiceCallback = "callback"
	// voiceGoodbye: routing ended the wait of a live call (its fallback
	// closed the conversation, e.g. a callback after hours): say goodbye
	// and hang up (voice_callback.go).
	voiceGoodbye = "goodbye"
	// voiceCallbackTask: a conversation ended as a callback request: open
	// its callback task (voice_callback.go). Never published.
	voiceCallbackTask = "callback_task"
)

// transferred takes the call of c, which its RM has just transferred, off
// the RM's phone (sip.Server.Transfer) when this instance holds it;
// otherwise the request is published for the instance that does. It runs
// inside the router's observer, so it only does what does not block: the
// SIP server's Transfer changes the call in memory and sends its BYE in
// the background, so the caller waits again before routing may offer
// the call to the next RM.
func (v *voice) transferred(c conversation.Conversation) {
	err := v.server.Transfer(context.Background(), c.ID)
	switch {
	case err == nil:
		v.log.Info("call taken off the rm's phone for a transfer", "conversation_id", c.ID, "status", c.Status)
	case errors.Is(err, sip.ErrUnknownCall):
		v.submit(voiceRequest{Kind: voiceTransfer, ConversationID: c.ID, Origin: v.instance})
	default: // not bridged: a call handed back whose phone did not answer
		v.log.Debug("transfer: call not bridged", "conversation_id", c.ID, "error", err)
	}
}

var _ sip.TransferRequester = (*voice)(nil)

// reasonPhoneTransfer is the reason recorded for a transfer asked by an RM
// phone's REFER.
const reasonPhoneTransfer = "transferred from the phone"

// CallTransfer implements sip.TransferRequester: an RM phone's REFER is
// the desk's transfer by that RM (who must be the assignee): target
// "queue" goes back to the queue, an RM id of the directory to that RM
// (who must be available with room), anything else to the team of that
// id. Routing's transfer event then takes the call off the phone
// (transferred). Errors: the router's (router.ErrNotAssignee,
// router.ErrNoCapacity, an unknown team wrapping
// conversation.ErrNotFound); the call then stays bridged.
func (v *voice) CallTransfer(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, target string) error {
	ctx, cancel := opCtx(ctx)
	defer cancel()
	var err error
	switch {
	case target == "queue":
		_, err = v.router.TransferToQueue(ctx, id, rm, reasonPhoneTransfer)
	default:
		_, err = v.router.TransferToRM(ctx, id, rm, conversation.RMID(target), reasonPhoneTransfer)
		if errors.Is(err, conversation.ErrNotFound) {
			_, err = v.router.TransferToTeam(ctx, id, rm, conversation.TeamID(target), reasonPhoneTransfer)
		}
	}
	if err != nil {
		return fmt.Errorf("voice: transfer to %q: %w", target, err)
	}
	v.log.Info("rm phone transferred the call", "conversation_id", id, "rm_id", rm, "target", target)
	return nil
}

// handleMore carries out the requests of voice_transfer.go and
// voice_callback.go (see handle).
func (v *voice) handleMore(ctx context.Context, r voiceRequest, local bool) {
	switch r.Kind {
	case voiceTransfer:
		if local {
			v.publish(ctx, r) // tried here already: the call is elsewhere
			return
		}
		if err := v.server.Transfer(ctx, r.ConversationID); err == nil {
			v.log.Info("call taken off the rm's phone for a transfer", "conversation_id", r.ConversationID)
		}
	case voiceGoodbye:
		v.goodbyeHere(ctx, r, local)
	case voiceCallback:
		v.dialCallback(ctx, r)
	case voiceCallbackTask:
		if local {
			v.openCallbackTask(ctx, r.ConversationID)
		}
	}
}
