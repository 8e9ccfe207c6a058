// Package smstest provides an in-memory sms.Sink for the SMS adapters'
// tests: it stores incoming messages insert-if-absent by provider id, moves
// tracked outbound messages' statuses forward only (with
// conversation.Message.Advance, the rule the gateway applies), can be made
// unavailable, and lets a test wait for what arrives.
package smstest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

// Sink is an in-memory sms.Sink. The zero value is not usable; call
// NewSink.
type Sink struct {
	mu          sync.Mutex
	received    []conversation.Incoming
	keys        map[string]bool
	messages    map[string]*conversation.Message // provider id → outbound message
	statusCalls int
	receiveErr  error
	statusErr   error
	changed     chan struct{} // closed and replaced on every change
}

var _ sms.Sink = (*Sink)(nil)

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{keys: map[string]bool{}, messages: map[string]*conversation.Message{}, changed: make(chan struct{})}
}

// SetUnavailable makes Receive and Status fail with an error wrapping
// conversation.ErrUnavailable (true) or work again (false).
func (s *Sink) SetUnavailable(down bool) {
	var err error
	if down {
		err = fmt.Errorf("smstest sink: %w", conversation.ErrUnavailable)
	}
	s.SetErrors(err, err)
}

// SetErrors makes Receive fail with receiveErr and Status with statusErr
// (nil: work normally).
func (s *Sink) SetErrors(receiveErr, statusErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receiveErr, s.statusErr = receiveErr, statusErr
}

func (s *Sink) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Receive implements sms.Sink: it validates in, stores it once per
// (channel, account, provider id) and reports later copies as Duplicate.
func (s *Sink) Receive(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.receiveErr != nil {
		return conversation.Receipt{}, s.receiveErr
	}
	if err := in.Validate(); err != nil {
		return conversation.Receipt{}, err
	}
	key := string(in.Channel) + "|" + in.ChannelAccount + "|" + in.ProviderID
	if in.ProviderID != "" && s.keys[key] {
		return conversation.Receipt{Duplicate: true}, nil
	}
	s.keys[key] = true
	s.received = append(s.received, in)
	s.signal()
	return conversation.Receipt{MessageID: conversation.NewMessageID(time.Now()), ConversationID: "conv-test"}, nil
}

// Track registers an outbound message sent under providerIDs (one per
// segment) with status sent, so that Status can find it.
func (s *Sink) Track(account string, providerIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range providerIDs {
		s.messages[id] = &conversation.Message{
			ID: conversation.MessageID("msg-" + id), Channel: conversation.ChannelSMS, ChannelAccount: account,
			Direction: conversation.Outbound, ProviderID: id, Status: conversation.DeliverySent,
		}
	}
}

// Status implements sms.Sink: it moves the tracked message forward with
// conversation.Message.Advance; an unknown provider id is
// conversation.ErrNotFound.
func (s *Sink) Status(ctx context.Context, st conversation.StatusUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.statusErr != nil {
		return s.statusErr
	}
	m, ok := s.messages[st.ProviderID]
	if !ok {
		return fmt.Errorf("smstest sink: provider id %q: %w", st.ProviderID, conversation.ErrNotFound)
	}
	if _, err := m.Advance(st.Status, st.ErrorCode, st.At); err != nil {
		return err
	}
	s.statusCalls++
	s.signal()
	return nil
}

// Received returns a copy of the stored incoming messages and events.
func (s *Sink) Received() []conversation.Incoming {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]conversation.Incoming(nil), s.received...)
}

// StatusOf returns the delivery status and error code of the outbound
// message tracked under providerID ("" if untracked).
func (s *Sink) StatusOf(providerID string) (conversation.DeliveryStatus, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.messages[providerID]; ok {
		return m.Status, m.ErrorCode
	}
	return "", ""
}

// StatusCalls returns how many Status calls found their message and were
// applied (moving the status forward or, out of order, not).
func (s *Sink) StatusCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusCalls
}

// Wait blocks until cond (called under the sink's lock, with the stored
// messages) is true or ctx ends.
func (s *Sink) Wait(ctx context.Context, cond func(received []conversation.Incoming) bool) error {
	for {
		s.mu.Lock()
		ok := cond(s.received)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("smstest sink: wait: %w", ctx.Err())
		case <-ch:
		}
	}
}

// WaitReceived waits until at least n messages are stored and returns them.
func (s *Sink) WaitReceived(ctx context.Context, n int) ([]conversation.Incoming, error) {
	err := s.Wait(ctx, func(r []conversation.Incoming) bool { return len(r) >= n })
	return s.Received(), err
}

// WaitStatus waits until the message tracked under providerID has status
// want.
func (s *Sink) WaitStatus(ctx context.Context, providerID string, want conversation.DeliveryStatus) error {
	return s.Wait(ctx, func([]conversation.Incoming) bool {
		m, ok := s.messages[providerID]
		return ok && m.Status == want
	})
}
