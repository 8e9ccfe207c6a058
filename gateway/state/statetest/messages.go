package statetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

func testAppendAndRead(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(0).ID
	m := newMessage(conv, 1, "SM0001")
	m.Attachments = []conversation.Attachment{{Type: "image/jpeg", Size: 2048, Ref: "media-1"}}
	got, created, err := s.AppendMessage(ctx, m)
	must(t, "AppendMessage", err)
	if !created {
		t.Fatal("first AppendMessage reported an existing message")
	}
	equal(t, "appended", got, m)
	want := m
	want.Attachments = []conversation.Attachment{m.Attachments[0]}
	m.Attachments[0].Ref = "changed by caller"
	got.Attachments[0].Ref = "changed by caller"
	m = want

	read, err := s.Message(ctx, m.ID)
	must(t, "Message", err)
	equal(t, "Message", read, m)
	byProvider, err := s.MessageByProviderID(ctx, m.Channel, m.ChannelAccount, m.ProviderID)
	must(t, "MessageByProviderID", err)
	equal(t, "MessageByProviderID", byProvider, m)
	list, err := s.Messages(ctx, conv, 0)
	must(t, "Messages", err)
	equal(t, "Messages", list, []conversation.Message{m})
}

func testAppendIdempotency(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(0).ID
	first := newMessage(conv, 1, "wx-1")
	_, created, err := s.AppendMessage(ctx, first)
	must(t, "first AppendMessage", err)
	if !created {
		t.Fatal("first copy reported as existing")
	}

	retry := newMessage(conv, 2, "wx-1") // the provider's retry: a new message id, the same provider id
	retry.Text = "a retry carries the same text, but the store keeps the first copy"
	got, created, err := s.AppendMessage(ctx, retry)
	must(t, "retried AppendMessage", err)
	if created {
		t.Fatal("retry with the same provider id was stored again")
	}
	equal(t, "retry returns the first copy", got, first)
	_, err = s.Message(ctx, retry.ID)
	wantErr(t, "the retry's own id", err, state.ErrNotFound)

	tests := []struct {
		name   string
		change func(*conversation.Message)
	}{
		{"other_channel_account", func(m *conversation.Message) { m.ChannelAccount = "+8610086" }},
		{"other_channel", func(m *conversation.Message) { m.Channel = conversation.ChannelWeChat }},
		{"no_provider_id", func(m *conversation.Message) { m.ProviderID = "" }},
		{"no_provider_id_again", func(m *conversation.Message) { m.ProviderID = "" }},
	}
	for i, tc := range tests {
		m := newMessage(conv, 10+i, "wx-1")
		tc.change(&m)
		got, created, err := s.AppendMessage(ctx, m)
		must(t, tc.name, err)
		if !created || got.ID != m.ID {
			t.Fatalf("%s: created %v, id %s; want a new message %s", tc.name, created, got.ID, m.ID)
		}
	}
	list, err := s.Messages(ctx, conv, 0)
	must(t, "Messages", err)
	if len(list) != 1+len(tests) {
		t.Fatalf("%d messages stored, want %d", len(list), 1+len(tests))
	}

	// The same message id twice is refused, with or without a provider id.
	dup := newMessage(conv, 20, "")
	dup.ID = list[len(list)-1].ID
	_, _, err = s.AppendMessage(ctx, dup)
	wantErr(t, "duplicate message id", err, state.ErrExists)
}

func testAppendConcurrentDuplicates(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(0).ID
	const senders = 20
	type result struct {
		id      conversation.MessageID
		created bool
		err     error
	}
	results := make(chan result, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			m, created, err := s.AppendMessage(ctx, newMessage(conv, i, "MsgId-6290000000000000001"))
			results <- result{m.ID, created, err}
		})
	}
	wg.Wait()
	close(results)
	var winner conversation.MessageID
	createdCount := 0
	var ids []conversation.MessageID
	for r := range results {
		must(t, "concurrent AppendMessage", r.err)
		if r.created {
			createdCount++
			winner = r.id
		}
		ids = append(ids, r.id)
	}
	if createdCount != 1 {
		t.Fatalf("%d copies stored, want exactly 1", createdCount)
	}
	for _, id := range ids {
		if id != winner {
			t.Fatalf("a duplicate returned message %s, want the stored %s", id, winner)
		}
	}
	list, err := s.Messages(ctx, conv, 0)
	must(t, "Messages", err)
	if len(list) != 1 || list[0].ID != winner {
		t.Fatalf("stored %d messages, want only %s", len(list), winner)
	}
}

func testMessagesOrderAndLimit(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(0).ID
	other := newConversation(1).ID
	var want []conversation.MessageID
	for i := range 10 {
		m := newMessage(conv, i, fmt.Sprintf("p-%d", i))
		_, _, err := s.AppendMessage(ctx, m)
		must(t, "AppendMessage", err)
		want = append(want, m.ID)
		_, _, err = s.AppendMessage(ctx, newMessage(other, 100+i, fmt.Sprintf("q-%d", i)))
		must(t, "AppendMessage to another conversation", err)
	}
	tests := []struct {
		name  string
		limit int
		want  []conversation.MessageID
	}{
		{"all", 0, want},
		{"negative_means_all", -1, want},
		{"last_three", 3, want[7:]},
		{"exactly_all", 10, want},
		{"more_than_all", 20, want},
	}
	for _, tc := range tests {
		got, err := s.Messages(ctx, conv, tc.limit)
		must(t, tc.name, err)
		var ids []conversation.MessageID
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		equal(t, tc.name, ids, tc.want)
	}
	none, err := s.Messages(ctx, newConversation(2).ID, 0)
	must(t, "Messages of a conversation without messages", err)
	if len(none) != 0 {
		t.Fatalf("got %d messages for an empty conversation", len(none))
	}
}

func testMessageInvalidAndMissing(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(0).ID
	tests := []struct {
		name   string
		change func(*conversation.Message)
	}{
		{"empty_id", func(m *conversation.Message) { m.ID = "" }},
		{"no_conversation", func(m *conversation.Message) { m.ConversationID = "" }},
		{"direction", func(m *conversation.Message) { m.Direction = "sideways" }},
		{"status", func(m *conversation.Message) { m.Status = "lost" }},
		{"channel", func(m *conversation.Message) { m.Channel = "fax" }},
		{"attachment", func(m *conversation.Message) { m.Attachments = []conversation.Attachment{{Type: "image/png"}} }},
	}
	for i, tc := range tests {
		m := newMessage(conv, i, fmt.Sprintf("p-%d", i))
		tc.change(&m)
		_, _, err := s.AppendMessage(ctx, m)
		wantErr(t, tc.name, err, conversation.ErrInvalid)
	}
	list, err := s.Messages(ctx, conv, 0)
	must(t, "Messages", err)
	if len(list) != 0 {
		t.Fatalf("%d invalid messages were stored", len(list))
	}
	_, err = s.Message(ctx, newMessage(conv, 99, "").ID)
	wantErr(t, "Message", err, state.ErrNotFound, conversation.ErrNotFound)
	_, err = s.MessageByProviderID(ctx, conversation.ChannelSMS, "+8695588", "nope")
	wantErr(t, "MessageByProviderID", err, state.ErrNotFound)
	_, _, err = s.AdvanceMessage(ctx, newMessage(conv, 99, "").ID, conversation.DeliverySent, "", at(100))
	wantErr(t, "AdvanceMessage", err, state.ErrNotFound)
}

func testAdvanceMessage(t *testing.T, s state.Store) {
	ctx := t.Context()
	type step struct {
		to      conversation.DeliveryStatus
		code    string
		changed bool
	}
	tests := []struct {
		name     string
		steps    []step
		wantLast conversation.DeliveryStatus
		wantCode string
	}{
		{"in_order", []step{{"sent", "", true}, {"delivered", "", true}, {"read", "", true}}, "read", ""},
		{"delivered_then_sent", []step{{"delivered", "", true}, {"sent", "", false}}, "delivered", ""},
		{"same_twice", []step{{"sent", "", true}, {"sent", "", false}}, "sent", ""},
		{"failed_after_delivered", []step{{"sent", "", true}, {"delivered", "", true}, {"failed", "30003", false}}, "delivered", ""},
		{"failed_keeps_code", []step{{"sent", "", true}, {"failed", "45015", true}, {"delivered", "", false}, {"read", "", false}}, "failed", "45015"},
		{"read_then_late_receipts", []step{{"read", "", true}, {"delivered", "", false}, {"failed", "1", false}}, "read", ""},
		{"failed_before_sent", []step{{"failed", "30007", true}, {"sent", "", false}}, "failed", "30007"},
	}
	conv := newConversation(0).ID
	for i, tc := range tests {
		m := newMessage(conv, i, "")
		_, _, err := s.AppendMessage(ctx, m)
		must(t, tc.name, err)
		updated := m.UpdatedAt
		for j, st := range tc.steps {
			now := at(1000 * (j + 1))
			got, changed, err := s.AdvanceMessage(ctx, m.ID, st.to, st.code, now)
			must(t, fmt.Sprintf("%s: step %d", tc.name, j), err)
			if changed != st.changed {
				t.Fatalf("%s: step %d (%s): changed %v, want %v", tc.name, j, st.to, changed, st.changed)
			}
			if changed {
				updated = now
			}
			if !got.UpdatedAt.Equal(updated) {
				t.Fatalf("%s: step %d: updated at %s, want %s", tc.name, j, got.UpdatedAt, updated)
			}
			read, err := s.Message(ctx, m.ID)
			must(t, "Message", err)
			equal(t, fmt.Sprintf("%s: step %d: returned vs stored", tc.name, j), got, read)
		}
		read, err := s.Message(ctx, m.ID)
		must(t, "Message", err)
		if read.Status != tc.wantLast || read.ErrorCode != tc.wantCode {
			t.Fatalf("%s: ended %s (code %q), want %s (code %q)", tc.name, read.Status, read.ErrorCode, tc.wantLast, tc.wantCode)
		}
		read.Status, read.ErrorCode, read.UpdatedAt = m.Status, m.ErrorCode, m.UpdatedAt
		equal(t, tc.name+": other fields", read, m)
	}
	list, err := s.Messages(ctx, conv, 0)
	must(t, "Messages", err)
	for i, m := range list {
		if m.Status != tests[i].wantLast {
			t.Fatalf("Messages shows %s for %s, want %s", m.Status, tests[i].name, tests[i].wantLast)
		}
	}
	_, _, err = s.AdvanceMessage(ctx, list[0].ID, "lost", "", at(9000))
	wantErr(t, "unknown status", err, conversation.ErrInvalid)
}

func testEvents(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(0).ID
	var want []conversation.Event
	for i, typ := range []conversation.EventType{conversation.EventStatusChanged, conversation.EventOffer, conversation.EventAccept, conversation.EventNote} {
		e := conversation.NewEvent(conv, typ, "rm-1", at(10-i)) // append order, not time order, is kept
		e.Detail = map[string]string{"step": fmt.Sprint(i)}
		must(t, "AppendEvent", s.AppendEvent(ctx, e))
		e.Detail["step"] = "changed by caller"
		e.Detail = map[string]string{"step": fmt.Sprint(i)}
		want = append(want, e)
	}
	got, err := s.Events(ctx, conv)
	must(t, "Events", err)
	equal(t, "Events", got, want)

	none, err := s.Events(ctx, newConversation(1).ID)
	must(t, "Events of a conversation without events", err)
	if len(none) != 0 {
		t.Fatalf("got %d events for an empty timeline", len(none))
	}
	bad := conversation.NewEvent(conv, "", "rm-1", at(20))
	wantErr(t, "event without type", s.AppendEvent(ctx, bad), conversation.ErrInvalid)
	bad = conversation.NewEvent("", conversation.EventNote, "rm-1", at(20))
	wantErr(t, "event without conversation", s.AppendEvent(ctx, bad), conversation.ErrInvalid)
}
