package routing

import (
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestViewTakesTheLowerVerification: routing sees the lower of the
// customer's level in the directory and how the conversation's channel
// identified the client; a channel that says nothing leaves the
// directory's level, and a channel never raises it.
func TestViewTakesTheLowerVerification(t *testing.T) {
	for _, tt := range []struct {
		customer, channel, want conversation.Verification
	}{
		{conversation.VerificationBasic, "", conversation.VerificationBasic},
		{conversation.VerificationBasic, conversation.VerificationNone, conversation.VerificationNone},         // a From header nobody vouched for
		{conversation.VerificationStrong, conversation.VerificationBasic, conversation.VerificationBasic},      // a trusted caller id
		{conversation.VerificationBasic, conversation.VerificationStrong, conversation.VerificationBasic},      // a bank token does not raise it
		{conversation.VerificationNone, conversation.VerificationStrong, conversation.VerificationNone},        // a prospect stays unverified
		{conversation.VerificationStrong, conversation.Verification("bogus"), conversation.VerificationStrong}, // unknown: ignored
	} {
		c := conversation.Conversation{ID: "c1", CustomerID: "cus-1", Channel: conversation.ChannelVoice, Verification: tt.channel}
		v := ViewOf(c, conversation.Customer{ID: "cus-1", Segment: conversation.SegmentPrivate, Verification: tt.customer})
		if v.Verification != tt.want {
			t.Errorf("customer %q, channel %q: view has %q, want %q", tt.customer, tt.channel, v.Verification, tt.want)
		}
	}
}
