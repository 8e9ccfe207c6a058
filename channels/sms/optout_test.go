package sms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

func incoming(text string) conversation.Incoming {
	return conversation.Incoming{
		Kind:           conversation.IncomingMessage,
		Channel:        conversation.ChannelSMS,
		ChannelAccount: "+85230001234",
		From:           conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"},
		Text:           text,
		ReceivedAt:     time.Now(),
	}
}

func TestApplyKeyword(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	out := Outbound{Account: "+85230001234", To: "+85291234567", Text: "Your statement is ready"}

	steps := []struct {
		text       string
		wantKind   conversation.IncomingKind
		wantEvent  string
		suppressed bool
	}{
		{"hello", conversation.IncomingMessage, "", false},
		{" 退订 ", conversation.IncomingEvent, "opt_out", true},
		{"what is my balance", conversation.IncomingMessage, "", true},
		{"Start", conversation.IncomingEvent, "opt_in", false},
		{"STOP", conversation.IncomingEvent, "opt_out", true},
	}
	for _, st := range steps {
		in := incoming(st.text)
		if _, err := ApplyKeyword(ctx, s, &in); err != nil {
			t.Fatalf("%q: %v", st.text, err)
		}
		if in.Kind != st.wantKind || in.Event != st.wantEvent || in.Text != st.text {
			t.Fatalf("%q: kind %s event %q text %q", st.text, in.Kind, in.Event, in.Text)
		}
		if err := in.Validate(); err != nil {
			t.Fatalf("%q: the result is not a valid Incoming: %v", st.text, err)
		}
		err := CheckSendable(ctx, s, out)
		if st.suppressed != errors.Is(err, conversation.ErrOptedOut) {
			t.Fatalf("after %q: CheckSendable = %v, suppressed want %v", st.text, err, st.suppressed)
		}
		if st.suppressed && !errors.Is(err, ErrSuppressed) {
			t.Fatalf("after %q: %v does not wrap ErrSuppressed", st.text, err)
		}
	}
	// Another channel account of the bank is not affected.
	other := out
	other.Account = "hk-alerts"
	if err := CheckSendable(ctx, s, other); err != nil {
		t.Fatalf("other account: %v", err)
	}
}

func TestApplyKeywordStoreDown(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, uniquePrefix())
	mr.Close()
	in := incoming("STOP")
	if _, err := ApplyKeyword(context.Background(), s, &in); !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("ApplyKeyword with Redis down: %v, want ErrUnavailable", err)
	}
	in = incoming("hello") // no keyword: no store call, no error
	if _, err := ApplyKeyword(context.Background(), s, &in); err != nil {
		t.Fatalf("plain message with Redis down: %v", err)
	}
	err := CheckSendable(context.Background(), s, Outbound{Account: "a", To: "+85291234567", Text: "x"})
	if !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("CheckSendable with Redis down: %v, want ErrUnavailable", err)
	}
}

func TestOutboundValidate(t *testing.T) {
	tests := []struct {
		name string
		m    Outbound
		ok   bool
	}{
		{"text", Outbound{Account: "a", To: "+85291234567", Text: "hi"}, true},
		{"media only", Outbound{Account: "a", To: "+85291234567", Attachments: []conversation.Attachment{{Type: "image/png", Ref: "https://x/y.png"}}}, true},
		{"no account", Outbound{To: "+85291234567", Text: "hi"}, false},
		{"national number", Outbound{Account: "a", To: "91234567", Text: "hi"}, false},
		{"nothing to send", Outbound{Account: "a", To: "+85291234567"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, conversation.ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}
