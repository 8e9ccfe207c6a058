package state

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// memoryShards is how many independently locked shards hold conversations,
// messages, idempotency keys and timelines (a power of two).
const memoryShards = 32

// Memory is the in-memory Store for a single gateway instance (no Redis).
// It is safe for concurrent use: conversations, messages, idempotency keys
// and timelines live in 32 shards each, chosen by a hash of the key and
// locked independently, so concurrent writers to different conversations
// rarely meet on a lock. Updates of one conversation are serialised by a
// lock of that conversation, so UpdateConversation never reports
// ErrConflict; fn must not call UpdateConversation for the same
// conversation. Every record is copied on the way in and out. Nothing is
// persisted: state is lost when the process ends.
type Memory struct {
	seed maphash.Seed

	convs     [memoryShards]convShard
	msgs      [memoryShards]msgShard
	idem      [memoryShards]idemShard
	timelines [memoryShards]timelineShard

	custMu    sync.RWMutex
	customers map[conversation.CustomerID]conversation.Customer
	byAddress map[string]conversation.CustomerID

	presMu    sync.RWMutex
	presences map[conversation.RMID]conversation.Presence

	queueMu sync.RWMutex
	queues  map[string]map[conversation.ConversationID]float64

	// offerMu guards the offers and their indexes by conversation, by RM
	// and by expiry.
	offerMu     sync.Mutex
	offers      map[conversation.OfferID]conversation.Offer
	convOffers  map[conversation.ConversationID]map[conversation.OfferID]struct{}
	rmOffers    map[conversation.RMID]map[conversation.OfferID]struct{}
	offerExpiry deadlineHeap

	route   routeState
	subs    subscribers
	threads threadState
	streams streamState
	// byCustomer indexes conversations by customer for listings.
	byCustomer customerIndex
	// wallNow is the wall clock of decision-record expiry (DecisionTTL).
	wallNow func() time.Time
	// instances is the instances' leases and holdings (memory_instances.go).
	instances instanceState

	closed atomic.Bool
}

var _ Store = (*Memory)(nil)

// convShard holds the conversations whose id hashes to it, by id and in
// ascending id order (UUIDv7 ids sort by creation time).
type convShard struct {
	mu    sync.RWMutex
	byID  map[conversation.ConversationID]*convEntry
	order []*convEntry
}

// convEntry is one stored conversation. c is guarded by the shard lock and
// replaced whole on update (its slices are never changed in place, so a
// shallow copy read under the lock stays valid); upd serialises updaters.
type convEntry struct {
	upd sync.Mutex
	c   conversation.Conversation
}

type msgShard struct {
	mu   sync.RWMutex
	byID map[conversation.MessageID]conversation.Message
}

type idemShard struct {
	mu    sync.Mutex
	byKey map[string]conversation.MessageID
}

type timelineShard struct {
	mu     sync.RWMutex
	byConv map[conversation.ConversationID]*timeline
}

// timeline is a conversation's message ids and events in append order.
type timeline struct {
	msgs   []conversation.MessageID
	events []conversation.Event
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	m := &Memory{
		seed:       maphash.MakeSeed(),
		customers:  make(map[conversation.CustomerID]conversation.Customer),
		byAddress:  make(map[string]conversation.CustomerID),
		presences:  make(map[conversation.RMID]conversation.Presence),
		queues:     make(map[string]map[conversation.ConversationID]float64),
		offers:     make(map[conversation.OfferID]conversation.Offer),
		convOffers: make(map[conversation.ConversationID]map[conversation.OfferID]struct{}),
		rmOffers:   make(map[conversation.RMID]map[conversation.OfferID]struct{}),
		route:      newRouteState(),
		subs:       subscribers{byTopic: make(map[string]map[chan struct{}]struct{})},
		wallNow:    time.Now,
		threads:    threadState{byKey: make(map[string]conversation.ConversationID), once: make(map[string]time.Time)},
	}
	m.streams.init()
	for i := range memoryShards {
		m.convs[i].byID = make(map[conversation.ConversationID]*convEntry)
		m.msgs[i].byID = make(map[conversation.MessageID]conversation.Message)
		m.idem[i].byKey = make(map[string]conversation.MessageID)
		m.timelines[i].byConv = make(map[conversation.ConversationID]*timeline)
	}
	return m
}

// shard returns the shard index of key.
func (m *Memory) shard(key string) int {
	return int(maphash.String(m.seed, key) & (memoryShards - 1))
}

// Ping reports ErrUnavailable after Close, nil before.
func (m *Memory) Ping(context.Context) error {
	if m.closed.Load() {
		return fmt.Errorf("memory store: closed: %w", ErrUnavailable)
	}
	return nil
}

// Close marks the store closed (Ping then fails); it holds no connections.
func (m *Memory) Close() error {
	m.closed.Store(true)
	return nil
}
