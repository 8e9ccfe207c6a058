package statetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Claims describes a claim race: queued conversations on Queue, RMs of
// Capacity cost units each, every claim taking Cost. With 20 RMs of 100
// and a cost of 25, at most 80 claims fit.
type Claims struct {
	Queue         string
	RMs           []conversation.RMID
	Cost          int
	Capacity      int
	OfferLease    time.Duration
	Conversations []conversation.ConversationID // filled by SeedClaims
}

// NewClaims returns the race of the routing contract: 20 RMs (rm-00 …
// rm-19) of capacity 100, cost 25, one-hour offer leases (none expires
// during a test), on queue "claims".
func NewClaims() Claims {
	c := Claims{Queue: "claims", Cost: 25, Capacity: 100, OfferLease: time.Hour}
	for i := range 20 {
		c.RMs = append(c.RMs, conversation.RMID(fmt.Sprintf("rm-%02d", i)))
	}
	return c
}

// MaxClaims is how many claims fit in the RMs' capacity.
func (c Claims) MaxClaims() int { return len(c.RMs) * (c.Capacity / c.Cost) }

// SeedClaims stores n queued conversations on c.Queue and an available
// presence (lease one hour from now) for every RM, and returns c with
// the conversations' ids.
func SeedClaims(t testing.TB, s state.Store, c Claims, n int) Claims {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for _, rm := range c.RMs {
		p := conversation.Presence{RMID: rm, State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.SetPresence(ctx, p); err != nil {
			t.Fatalf("seed presence: %v", err)
		}
	}
	cust := conversation.Customer{ID: "cust-race", Segment: conversation.SegmentMassAffluent}
	c.Conversations = nil
	for i := range n {
		conv := conversation.New(cust, conversation.ChannelWebChat, conversation.Address{Kind: conversation.AddressApp, Value: "u-race"}, now.Add(time.Duration(i)*time.Millisecond))
		if err := conv.Transition(conversation.StatusQueued, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateConversation(ctx, conv); err != nil {
			t.Fatalf("seed conversation: %v", err)
		}
		if err := s.Enqueue(ctx, c.Queue, conv.ID, float64(i)); err != nil {
			t.Fatalf("seed queue: %v", err)
		}
		c.Conversations = append(c.Conversations, conv.ID)
	}
	return c
}

// ClaimTxn returns the Txn that offers conversation conv (as read, still
// queued) to rm at now: compare-and-set queued → offered, guards
// GuardRMAvailable, GuardCapacity and GuardNoLiveOffer, a holding of cost,
// an offer lease, the dequeue, the RM's last-offer time, an offer event
// and a decision record (about 400 bytes of JSON).
func ClaimTxn(conv conversation.Conversation, rm conversation.RMID, queue string, cost, capacity int, lease time.Duration, now time.Time) (state.Txn, error) {
	next := conv
	if err := next.Transition(conversation.StatusOffered, now); err != nil {
		return state.Txn{}, err
	}
	created := conversation.Millis(now)
	offer := conversation.Offer{ID: conversation.NewOfferID(now), ConversationID: conv.ID, RMID: rm, Cost: cost, Attempt: 1,
		CreatedAt: created, ExpiresAt: created.Add(lease), Instance: "gw-test"}
	ev := conversation.NewEvent(conv.ID, conversation.EventOffer, "routing", now)
	ev.RMID, ev.OfferID, ev.Reason = rm, offer.ID, "offered at step 1"
	record, err := json.Marshal(claimRecord{
		ConversationID: conv.ID, At: created, Policy: "default", PolicyHash: "9f2c4e1ab37d", Step: 1,
		Target: "team:" + string(conv.TeamID),
		Candidates: []claimCandidate{{RMID: rm, Score: 1, Filters: map[string]string{
			"presence": "ok", "capacity": "ok", "skill": "ok", "licence": "ok", "conflict": "ok", "hours": "ok"}}},
		Choice: rm, Reason: "offered to " + string(rm) + " at step 1 (longest idle)",
	})
	if err != nil {
		return state.Txn{}, err
	}
	return state.Txn{
		Now:          now,
		Conversation: &next,
		Guards: []state.Guard{
			{Kind: state.GuardRMAvailable, RMID: rm},
			{Kind: state.GuardCapacity, RMID: rm, ConversationID: conv.ID, Cost: cost, Capacity: capacity},
			{Kind: state.GuardNoLiveOffer, ConversationID: conv.ID},
		},
		Holds:    []state.Hold{{RMID: rm, ConversationID: conv.ID, Cost: cost}},
		PutOffer: &offer,
		Dequeue:  []state.QueueOp{{Queue: queue, ConversationID: conv.ID}},
		RMs:      []state.RMUpdate{{RMID: rm, LastOfferAt: now}},
		Events:   []conversation.Event{ev},
		Decision: &state.DecisionRecord{ConversationID: conv.ID, At: now, Record: record},
	}, nil
}

// claimRecord stands for the routing package's decision record in
// ClaimTxn: about the size and shape of a one-candidate decision.
type claimRecord struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	At             time.Time                   `json:"at"`
	Policy         string                      `json:"policy"`
	PolicyHash     string                      `json:"policy_hash"`
	Step           int                         `json:"step"`
	Target         string                      `json:"target"`
	Candidates     []claimCandidate            `json:"candidates"`
	Choice         conversation.RMID           `json:"choice"`
	Reason         string                      `json:"reason"`
}

type claimCandidate struct {
	RMID    conversation.RMID `json:"rm_id"`
	Score   float64           `json:"score"`
	Filters map[string]string `json:"filters"`
}

// maxRaceAttempts bounds one worker's attempts, so a store that never
// fills its RMs fails the test instead of hanging it.
const maxRaceAttempts = 5000

// RaceResult counts the commits of a claim race: those that succeeded,
// and those refused for a version conflict or by each kind of guard.
type RaceResult struct {
	Claims    int
	Conflicts int
	Guards    map[state.GuardKind]int
}

func (r *RaceResult) add(o RaceResult) {
	r.Claims += o.Claims
	r.Conflicts += o.Conflicts
	for k, n := range o.Guards {
		if r.Guards == nil {
			r.Guards = map[state.GuardKind]int{}
		}
		r.Guards[k] += n
	}
}

// RaceClaims runs workers goroutines (seeded from seed) that each, until
// every RM is full: read RMStates and the head of the queue, pick a
// random conversation and a random RM (mostly one with spare capacity in
// the snapshot, sometimes any), read the conversation and commit
// ClaimTxn. A Commit error other than a conflict (ErrConflict or a
// *GuardError) ends the race with that error.
func RaceClaims(ctx context.Context, s state.Store, c Claims, workers int, seed uint64) (RaceResult, error) {
	var mu sync.Mutex
	var total RaceResult
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r, err := claimWorker(ctx, s, c, rand.New(rand.NewPCG(seed, uint64(w))))
			mu.Lock()
			total.add(r)
			mu.Unlock()
			errs[w] = err
		})
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

func claimWorker(ctx context.Context, s state.Store, c Claims, rng *rand.Rand) (RaceResult, error) {
	var res RaceResult
	for range maxRaceAttempts {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		states, err := s.RMStates(ctx)
		if err != nil {
			return res, err
		}
		load := map[conversation.RMID]int{}
		for _, st := range states {
			load[st.RMID] = st.Load
		}
		var spare []conversation.RMID
		for _, rm := range c.RMs {
			if load[rm]+c.Cost <= c.Capacity {
				spare = append(spare, rm)
			}
		}
		if len(spare) == 0 {
			return res, nil // loads only grow in this race: every RM is full
		}
		head, err := s.Queue(ctx, c.Queue, 16)
		if err != nil {
			return res, err
		}
		if len(head) == 0 {
			return res, fmt.Errorf("queue empty with RMs to spare: %v", spare)
		}
		rm := spare[rng.IntN(len(spare))]
		if rng.IntN(4) == 0 {
			rm = c.RMs[rng.IntN(len(c.RMs))]
		}
		conv, err := s.Conversation(ctx, head[rng.IntN(len(head))].ConversationID)
		if err != nil {
			return res, err
		}
		if conv.Status != conversation.StatusQueued {
			continue // claimed since the queue was read
		}
		txn, err := ClaimTxn(conv, rm, c.Queue, c.Cost, c.Capacity, c.OfferLease, time.Now())
		if err != nil {
			return res, err
		}
		var ge *state.GuardError
		switch err := s.Commit(ctx, txn); {
		case err == nil:
			res.Claims++
		case errors.As(err, &ge):
			res.add(RaceResult{Guards: map[state.GuardKind]int{ge.Guard.Kind: 1}})
		case errors.Is(err, state.ErrConflict):
			res.Conflicts++
		default:
			return res, err
		}
	}
	return res, fmt.Errorf("worker gave up after %d attempts with %d claims", maxRaceAttempts, res.Claims)
}

// CheckClaims checks the store after a race with claims successful
// commits: every RM filled exactly to capacity and never over it; every
// holding backed by a live offer to that RM for that conversation and the
// other way round; every offered conversation at version 2, off the queue,
// with exactly one offer, one offer event and one decision record; every
// other conversation still queued at version 1 with none of these; and as
// many offered conversations as claims, which is MaxClaims.
func CheckClaims(t testing.TB, s state.Store, c Claims, claims int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if claims != c.MaxClaims() {
		t.Errorf("%d claims succeeded, want %d (every RM filled)", claims, c.MaxClaims())
	}
	states, err := s.RMStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder := map[conversation.ConversationID]conversation.RMID{}
	for _, st := range states {
		if st.Load > c.Capacity {
			t.Errorf("%s over capacity: load %d > %d", st.RMID, st.Load, c.Capacity)
		}
		offers, err := s.OffersOf(ctx, st.RMID, now)
		if err != nil {
			t.Fatal(err)
		}
		var held, offered []conversation.ConversationID
		for _, h := range st.Holds {
			if prev, dup := holder[h.ConversationID]; dup {
				t.Errorf("conversation %s held by %s and %s", h.ConversationID, prev, st.RMID)
			}
			holder[h.ConversationID] = st.RMID
			held = append(held, h.ConversationID)
		}
		for _, o := range offers {
			offered = append(offered, o.ConversationID)
		}
		slices.Sort(offered)
		if !slices.Equal(held, offered) {
			t.Errorf("%s holds %v but has live offers for %v", st.RMID, held, offered)
		}
	}
	queued, err := s.Queue(ctx, c.Queue, 0)
	if err != nil {
		t.Fatal(err)
	}
	onQueue := map[conversation.ConversationID]bool{}
	for _, e := range queued {
		onQueue[e.ConversationID] = true
	}
	offeredCount := 0
	for _, id := range c.Conversations {
		conv, err := s.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		events, err := s.Events(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		decisions, err := s.Decisions(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		offer, offerErr := s.OfferFor(ctx, id, now)
		switch conv.Status {
		case conversation.StatusOffered:
			offeredCount++
			if conv.Version != 2 || onQueue[id] || len(events) != 1 || len(decisions) != 1 {
				t.Errorf("offered %s: version %d, on queue %v, %d events, %d decisions; want 2, false, 1, 1",
					id, conv.Version, onQueue[id], len(events), len(decisions))
			}
			if offerErr != nil || offer.RMID != holder[id] {
				t.Errorf("offered %s: offer %+v (%v), held by %q", id, offer, offerErr, holder[id])
			}
		case conversation.StatusQueued:
			if conv.Version != 1 || !onQueue[id] || len(events) != 0 || len(decisions) != 0 || offerErr == nil || holder[id] != "" {
				t.Errorf("queued %s: version %d, on queue %v, %d events, %d decisions, offer %v, held by %q",
					id, conv.Version, onQueue[id], len(events), len(decisions), offerErr, holder[id])
			}
		default:
			t.Errorf("conversation %s in status %s", id, conv.Status)
		}
	}
	if offeredCount != claims || len(holder) != claims {
		t.Errorf("%d conversations offered and %d held, want %d (one per successful claim)", offeredCount, len(holder), claims)
	}
}

func testConcurrentClaims(t *testing.T, s state.Store) {
	c := SeedClaims(t, s, NewClaims(), 200)
	res, err := RaceClaims(t.Context(), s, c, 8, uint64(time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("race: %v", err)
	}
	t.Logf("%d claims, %d version conflicts, guard refusals %v", res.Claims, res.Conflicts, res.Guards)
	CheckClaims(t, s, c, res.Claims)
}
