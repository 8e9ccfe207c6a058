package webchat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// fakeBank behaves like the gateway behind the adapter: the inbox (it
// stores messages, de-duplicates on the provider id, joins the client's
// open conversation or opens one, moves outbound messages forward), the
// identity resolver (known app users and prospects) and the store's
// conversation reads. Func fields inject failures.
type fakeBank struct {
	now func() time.Time

	mu         sync.Mutex
	customers  map[string]conversation.Customer // by address key
	byID       map[conversation.CustomerID]conversation.Customer
	convs      map[conversation.ConversationID]conversation.Conversation
	open       map[conversation.CustomerID]conversation.ConversationID
	msgs       map[conversation.MessageID]conversation.Message
	order      map[conversation.ConversationID][]conversation.MessageID
	byProvider map[string]conversation.MessageID
	incomings  []conversation.Incoming
	waitingQ   []conversation.ConversationID

	// receive, when set (onReceive), runs before Receive stores: a hook
	// to block or fail it.
	receive func(in conversation.Incoming) error
}

// onReceive sets the hook Receive runs first.
func (b *fakeBank) onReceive(fn func(in conversation.Incoming) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.receive = fn
}

var (
	_ Sink          = (*fakeBank)(nil)
	_ Customers     = (*fakeBank)(nil)
	_ Conversations = (*fakeBank)(nil)
)

func newFakeBank(now func() time.Time) *fakeBank {
	b := &fakeBank{now: now, customers: map[string]conversation.Customer{}, byID: map[conversation.CustomerID]conversation.Customer{},
		convs: map[conversation.ConversationID]conversation.Conversation{}, open: map[conversation.CustomerID]conversation.ConversationID{},
		msgs: map[conversation.MessageID]conversation.Message{}, order: map[conversation.ConversationID][]conversation.MessageID{},
		byProvider: map[string]conversation.MessageID{}}
	b.addCustomer(conversation.Customer{ID: "cus-1", DisplayName: "Chan Tai Man", Segment: conversation.SegmentAffluent,
		Verification: conversation.VerificationStrong, Addresses: []conversation.Address{{Kind: conversation.AddressApp, Value: "app-user-1"}}})
	b.addCustomer(conversation.Customer{ID: "cus-2", DisplayName: "Wong Siu Ming", Segment: conversation.SegmentMass,
		Verification: conversation.VerificationStrong, Addresses: []conversation.Address{{Kind: conversation.AddressApp, Value: "app-user-2"}}})
	b.addCustomer(conversation.Customer{ID: "cus-3", Segment: conversation.SegmentMass}) // no app address
	return b
}

func (b *fakeBank) addCustomer(c conversation.Customer) {
	b.byID[c.ID] = c
	for _, a := range c.Addresses {
		b.customers[a.Key()] = c
	}
}

func (b *fakeBank) Resolve(_ context.Context, addr conversation.Address, now time.Time) (conversation.Customer, bool, error) {
	if err := addr.Validate(); err != nil {
		return conversation.Customer{}, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.customers[addr.Key()]; ok {
		return c, false, nil
	}
	c := conversation.NewProspect(addr, now)
	b.addCustomer(c)
	return c, true, nil
}

func (b *fakeBank) Customer(_ context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.byID[id]
	if !ok {
		return c, fmt.Errorf("customer %s: %w", id, conversation.ErrNotFound)
	}
	return c, nil
}

func providerKey(ch conversation.Channel, account, id string) string {
	return string(ch) + "|" + account + "|" + id
}

// Receive stores like the inbox: de-duplicate, join or open, store.
func (b *fakeBank) Receive(_ context.Context, in conversation.Incoming) (conversation.Receipt, error) {
	if err := in.Validate(); err != nil {
		return conversation.Receipt{}, err
	}
	b.mu.Lock()
	hook := b.receive
	b.mu.Unlock()
	if hook != nil {
		if err := hook(in); err != nil {
			return conversation.Receipt{}, err
		}
	}
	cust, _, err := b.Resolve(context.Background(), in.From, in.ReceivedAt)
	if err != nil {
		return conversation.Receipt{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.incomings = append(b.incomings, in)
	if id, ok := b.byProvider[providerKey(in.Channel, in.ChannelAccount, in.ProviderID)]; ok {
		m := b.msgs[id]
		return conversation.Receipt{MessageID: m.ID, ConversationID: m.ConversationID, CustomerID: cust.ID, Duplicate: true}, nil
	}
	cid, ok := b.open[cust.ID]
	if c := b.convs[cid]; !ok || c.Status.Terminal() || c.Status == conversation.StatusWrapUp {
		c := conversation.New(cust, in.Channel, in.From, b.now())
		c.ChannelAccount = in.ChannelAccount
		b.convs[c.ID] = c
		b.open[cust.ID] = c.ID
		cid = c.ID
	}
	now := b.now()
	m := conversation.Message{ID: conversation.NewMessageID(now), ConversationID: cid, Channel: in.Channel, ChannelAccount: in.ChannelAccount,
		Direction: conversation.Inbound, Sender: string(cust.ID), Text: in.Text, Attachments: in.Attachments, ProviderID: in.ProviderID,
		Status: conversation.DeliveryDelivered, CreatedAt: conversation.Millis(now), UpdatedAt: conversation.Millis(now)}
	b.msgs[m.ID] = m
	b.order[cid] = append(b.order[cid], m.ID)
	b.byProvider[providerKey(in.Channel, in.ChannelAccount, in.ProviderID)] = m.ID
	return conversation.Receipt{MessageID: m.ID, ConversationID: cid, CustomerID: cust.ID}, nil
}

func (b *fakeBank) Status(_ context.Context, u conversation.StatusUpdate) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	id, ok := b.byProvider[providerKey(u.Channel, u.ChannelAccount, u.ProviderID)]
	if !ok {
		return fmt.Errorf("status of %s: %w", u.ProviderID, conversation.ErrNotFound)
	}
	m := b.msgs[id]
	if _, err := m.Advance(u.Status, u.ErrorCode, u.At); err != nil {
		return err
	}
	b.msgs[id] = m
	return nil
}

func (b *fakeBank) Conversation(_ context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.convs[id]
	if !ok {
		return c, fmt.Errorf("conversation %s: %w", id, conversation.ErrNotFound)
	}
	return c, nil
}

func (b *fakeBank) Conversations(_ context.Context, ids []conversation.ConversationID) ([]conversation.Conversation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []conversation.Conversation
	for _, id := range ids {
		if c, ok := b.convs[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (b *fakeBank) Message(_ context.Context, id conversation.MessageID) (conversation.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.msgs[id]
	if !ok {
		return m, fmt.Errorf("message %s: %w", id, conversation.ErrNotFound)
	}
	return m, nil
}

func (b *fakeBank) Messages(_ context.Context, id conversation.ConversationID, limit int) ([]conversation.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := b.order[id]
	if limit > 0 && len(ids) > limit {
		ids = ids[len(ids)-limit:]
	}
	out := []conversation.Message{}
	for _, mid := range ids {
		out = append(out, b.msgs[mid])
	}
	return out, nil
}

// waiting is the Deps.Waiting of the bank's queue.
func (b *fakeBank) waiting(_ context.Context, limit int) ([]conversation.ConversationID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.waitingQ[:min(limit, len(b.waitingQ))]), nil
}

// update changes a conversation as routing would and returns it.
func (b *fakeBank) update(t *testing.T, id conversation.ConversationID, fn func(c *conversation.Conversation)) conversation.Conversation {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.convs[id]
	if !ok {
		t.Fatalf("no conversation %s", id)
	}
	fn(&c)
	c.Version++
	b.convs[id] = c
	return c
}

// incoming returns the i-th Incoming received.
func (b *fakeBank) incoming(t *testing.T, i int) conversation.Incoming {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if i >= len(b.incomings) {
		t.Fatalf("only %d incomings", len(b.incomings))
	}
	return b.incomings[i]
}

// storedCount returns how many messages the bank holds.
func (b *fakeBank) storedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

func (b *fakeBank) message(t *testing.T, id conversation.MessageID) conversation.Message {
	t.Helper()
	m, err := b.Message(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rmSend does what the outbox does for an RM's reply: store it queued,
// hand it to the adapter, index it under the provider ids (after bind,
// when given, returns), and move it to the status Send reports.
func (b *fakeBank) rmSend(t *testing.T, a *Adapter, conv conversation.ConversationID, rm conversation.RMID, text string, bind func()) conversation.Message {
	t.Helper()
	c, err := b.Conversation(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	now := b.now()
	m := conversation.Message{ID: conversation.NewMessageID(now), ConversationID: conv, Channel: c.Channel, ChannelAccount: c.ChannelAccount,
		Direction: conversation.Outbound, Sender: string(rm), Text: text, Status: conversation.DeliveryQueued,
		CreatedAt: conversation.Millis(now), UpdatedAt: conversation.Millis(now)}
	b.mu.Lock()
	b.msgs[m.ID] = m
	b.order[conv] = append(b.order[conv], m.ID)
	b.mu.Unlock()
	sent, err := a.Send(context.Background(), m, c.Address)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if bind != nil {
		bind()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range sent.ProviderIDs {
		b.byProvider[providerKey(m.Channel, m.ChannelAccount, p)] = m.ID
	}
	stored := b.msgs[m.ID]
	_, _ = stored.Advance(sent.Status, "", b.now())
	b.msgs[m.ID] = stored
	return stored
}
