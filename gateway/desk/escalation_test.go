package desk

import (
	"errors"
	"net/http"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestEscalationAddress: the address an escalation goes to, and the error
// frame of a client with no phone number.
func TestEscalationAddress(t *testing.T) {
	phone := conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500001"}
	other := conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500009"}
	app := conversation.Address{Kind: conversation.AddressApp, Value: "app-1"}
	for _, tc := range []struct {
		name    string
		conv    conversation.Address
		dir     []conversation.Address
		to      conversation.Channel
		want    conversation.Address
		wantErr error
	}{
		{"voice: the conversation's own phone first", other, []conversation.Address{phone}, conversation.ChannelVoice, other, nil},
		{"voice: the directory's phone for a chat", app, []conversation.Address{app, phone}, conversation.ChannelVoice, phone, nil},
		{"voice: no phone", app, []conversation.Address{app}, conversation.ChannelVoice, conversation.Address{}, ErrNoPhoneNumber},
		{"voice: not E.164", app, []conversation.Address{{Kind: conversation.AddressPhone, Value: "5550001"}}, conversation.ChannelVoice, conversation.Address{}, ErrNoPhoneNumber},
		{"video: the app address", phone, []conversation.Address{phone, app}, conversation.ChannelVideo, app, nil},
		{"video: none", phone, []conversation.Address{phone}, conversation.ChannelVideo, conversation.Address{}, conversation.ErrInvalid},
		{"sms is no escalation", app, []conversation.Address{phone}, conversation.ChannelSMS, conversation.Address{}, conversation.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := escalationAddress(conversation.Conversation{ID: "c-1", Address: tc.conv}, conversation.Customer{Addresses: tc.dir}, tc.to)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("got %v %v, want %v %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{ErrNoPhoneNumber, "no_phone_number", http.StatusConflict},
		{ErrVoiceUnavailable, "voice_unavailable", http.StatusServiceUnavailable},
	} {
		if code, status, _ := classify(tc.err); code != tc.code || status != tc.status {
			t.Errorf("classify(%v) = %s %d, want %s %d", tc.err, code, status, tc.code, tc.status)
		}
	}
}
