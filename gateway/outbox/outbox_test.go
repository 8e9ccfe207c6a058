package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// senderFunc is a Sender made of a function.
type senderFunc func(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error)

func (f senderFunc) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	return f(ctx, m, to)
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func openConversation(t *testing.T, s state.Store, ch conversation.Channel, status conversation.Status) conversation.Conversation {
	t.Helper()
	cust := conversation.Customer{ID: "cus-pb-0001", Segment: conversation.SegmentPrivate}
	c := conversation.New(cust, ch, conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500001"}, t0)
	c.ChannelAccount = "+85230000000"
	for _, st := range []conversation.Status{conversation.StatusQueued, conversation.StatusOffered, conversation.StatusActive, conversation.StatusClosed} {
		if c.Status == status {
			break
		}
		if err := c.Transition(st, t0); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := s.CreateConversation(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func stores(t *testing.T, fn func(t *testing.T, s state.Store)) {
	t.Run("memory", func(t *testing.T) { fn(t, state.NewMemory()) })
	t.Run("redis", func(t *testing.T) { fn(t, statetest.OpenRedis(t, "about")) })
}

func TestSendStoresThenSendsAndIndexes(t *testing.T) {
	stores(t, func(t *testing.T, s state.Store) {
		ctx := t.Context()
		c := openConversation(t, s, conversation.ChannelSMS, conversation.StatusActive)
		var seen conversation.Message
		var seenTo conversation.Address
		sms := senderFunc(func(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
			// The message is stored, queued, before the provider sees it.
			stored, err := s.Message(ctx, m.ID)
			if err != nil || stored.Status != conversation.DeliveryQueued {
				t.Errorf("at send time the message is %+v, %v; want stored and queued", stored, err)
			}
			seen, seenTo = m, to
			return conversation.Sent{ProviderIDs: []string{"smsc-1", "smsc-2"}, Status: conversation.DeliverySent}, nil
		})
		o := New(s, map[conversation.Channel]Sender{conversation.ChannelSMS: sms}, nil, func() time.Time { return t0 })
		m, err := o.Send(ctx, c.ID, "rm-pb-01", "  Your appointment is confirmed for 3pm.  ", nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != conversation.DeliverySent || m.Direction != conversation.Outbound || m.Sender != "rm-pb-01" ||
			m.Text != "Your appointment is confirmed for 3pm." || m.ChannelAccount != "+85230000000" {
			t.Fatalf("sent message %+v", m)
		}
		if seen.ID != m.ID || seenTo.Value != "+85255500001" {
			t.Fatalf("adapter got %+v to %v", seen, seenTo)
		}
		for _, pid := range []string{"smsc-1", "smsc-2"} {
			got, err := s.MessageByProviderID(ctx, conversation.ChannelSMS, "+85230000000", pid)
			if err != nil || got.ID != m.ID {
				t.Fatalf("part %s: %+v, %v; want message %s", pid, got, err, m.ID)
			}
		}
		evs, _ := s.Events(ctx, c.ID)
		if len(evs) != 1 || evs[0].Type != conversation.EventMessage || evs[0].MessageID != m.ID {
			t.Fatalf("timeline %+v, want one message event", evs)
		}
	})
}

func TestSendFailuresAreKept(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		wantCode string
	}{
		{"window closed", &conversation.ProviderError{Channel: conversation.ChannelWeChat, Code: "45015", Message: "response out of time limit"}, "45015"},
		{"opted out", conversation.ErrOptedOut, "opted_out"},
		{"provider down", errors.New("dial tcp 127.0.0.1:1: connection refused"), "unreachable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := state.NewMemory()
			c := openConversation(t, s, conversation.ChannelWeChat, conversation.StatusActive)
			failing := senderFunc(func(context.Context, conversation.Message, conversation.Address) (conversation.Sent, error) {
				return conversation.Sent{}, tc.err
			})
			o := New(s, map[conversation.Channel]Sender{conversation.ChannelWeChat: failing}, nil, nil)
			m, err := o.Send(t.Context(), c.ID, "rm-pb-01", "hello", nil)
			if !errors.Is(err, ErrNotSent) || !errors.Is(err, tc.err) {
				t.Fatalf("Send: %v, want ErrNotSent wrapping %v", err, tc.err)
			}
			stored, _ := s.Message(t.Context(), m.ID)
			if stored.Status != conversation.DeliveryFailed || stored.ErrorCode != tc.wantCode {
				t.Fatalf("stored %s/%q, want failed/%q", stored.Status, stored.ErrorCode, tc.wantCode)
			}
		})
	}
}

func TestSendRefusals(t *testing.T) {
	s := state.NewMemory()
	never := senderFunc(func(context.Context, conversation.Message, conversation.Address) (conversation.Sent, error) {
		t.Error("adapter called for a refused message")
		return conversation.Sent{}, nil
	})
	o := New(s, map[conversation.Channel]Sender{conversation.ChannelSMS: never, conversation.ChannelVoice: never}, nil, nil)
	active := openConversation(t, s, conversation.ChannelSMS, conversation.StatusActive)
	closed := openConversation(t, s, conversation.ChannelSMS, conversation.StatusClosed)
	voice := openConversation(t, s, conversation.ChannelVoice, conversation.StatusActive)
	wechat := openConversation(t, s, conversation.ChannelWeChat, conversation.StatusActive)
	cases := []struct {
		name string
		id   conversation.ConversationID
		text string
		want error
	}{
		{"empty", active.ID, "   ", conversation.ErrInvalid},
		{"too long", active.ID, strings.Repeat("x", MaxTextBytes+1), conversation.ErrInvalid},
		{"not UTF-8", active.ID, "\xff\xfe", conversation.ErrInvalid},
		{"closed", closed.ID, "hello", ErrClosed},
		{"voice", voice.ID, "hello", ErrNotMessaging},
		{"no adapter", wechat.ID, "hello", ErrNoChannel},
		{"unknown conversation", "no-such-id", "hello", state.ErrNotFound},
	}
	for _, tc := range cases {
		if _, err := o.Send(t.Context(), tc.id, "rm-pb-01", tc.text, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if msgs, _ := s.Messages(t.Context(), active.ID, 0); len(msgs) != 0 {
		t.Fatalf("refused messages were stored: %+v", msgs)
	}
}

// A Sender that holds the message (ErrHeld) leaves it queued and Send
// answers without error; Settle later moves it to sent and indexes it.
func TestHeldMessageStaysQueuedUntilSettled(t *testing.T) {
	stores(t, func(t *testing.T, s state.Store) {
		ctx := t.Context()
		c := openConversation(t, s, conversation.ChannelSMS, conversation.StatusActive)
		held := senderFunc(func(context.Context, conversation.Message, conversation.Address) (conversation.Sent, error) {
			return conversation.Sent{}, fmt.Errorf("smpp down: %w", ErrHeld)
		})
		o := New(s, map[conversation.Channel]Sender{conversation.ChannelSMS: held}, nil, func() time.Time { return t0 })
		m, err := o.Send(ctx, c.ID, "rm-pb-01", "Held for the bind", nil)
		if err != nil || m.Status != conversation.DeliveryQueued {
			t.Fatalf("held send: %+v, %v; want queued and no error", m, err)
		}
		if stored, err := s.Message(ctx, m.ID); err != nil || stored.Status != conversation.DeliveryQueued {
			t.Fatalf("stored %+v, %v; want queued", stored, err)
		}
		out, err := o.Settle(ctx, m, conversation.Sent{ProviderIDs: []string{"smsc-9"}}, nil)
		if err != nil || out.Status != conversation.DeliverySent {
			t.Fatalf("settled %+v, %v; want sent", out, err)
		}
		if got, err := s.MessageByProviderID(ctx, conversation.ChannelSMS, "+85230000000", "smsc-9"); err != nil || got.ID != m.ID {
			t.Fatalf("by provider id: %+v, %v", got, err)
		}
	})
}
