package state_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/routing"
)

// scriptLog is a go-redis hook recording each script command sent: its
// name and its first ARGV (the commit payload).
type scriptLog struct {
	cmds     []string
	payloads []string
}

func (l *scriptLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *scriptLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			args := cmd.Args() // name, script or sha, numkeys, keys…, argv…
			numKeys, _ := strconv.Atoi(fmt.Sprint(args[2]))
			payload, _ := args[3+numKeys].(string)
			l.cmds, l.payloads = append(l.cmds, name), append(l.payloads, payload)
		}
		return next(ctx, cmd)
	}
}

func (l *scriptLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (l *scriptLog) reset() { l.cmds, l.payloads = nil, nil }

// rmPrefix returns an RM id prefix no other test uses, so its records
// make the process's roster grow.
func rmPrefix() string { return "rm-" + strings.ToLower(rand.Text()[:8]) }

// element returns the list element of a conversation's records at index
// i (newest first), as stored.
func element(t *testing.T, s *state.Redis, client redis.UniversalClient, id conversation.ConversationID, i int) string {
	t.Helper()
	v, err := client.LIndex(t.Context(), s.KeyPrefix()+"decisions:"+string(id), int64(i)).Result()
	if err != nil {
		t.Fatalf("LINDEX: %v", err)
	}
	return v
}

// rosterOf returns the roster hash a packed element names ("" for none).
func rosterOf(elem string) string {
	if len(elem) >= 34 && elem[0] == 0 && elem[1] == 'r' {
		return elem[2:34]
	}
	return ""
}

func commitDecision(t *testing.T, s state.Store, d *routing.Decision) {
	t.Helper()
	if err := s.Commit(t.Context(), state.Txn{Now: d.At, Decision: &state.DecisionRecord{ConversationID: d.ConversationID, At: d.At, Decision: d}}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func wantRecords(t *testing.T, s state.Store, id conversation.ConversationID, want ...[]byte) {
	t.Helper()
	got, err := s.Decisions(t.Context(), id, 0)
	if err != nil {
		t.Fatalf("Decisions of %s: %v", id, err)
	}
	if len(got) != len(want) {
		t.Fatalf("Decisions of %s: %d records, want %d", id, len(got), len(want))
	}
	for i := range want {
		if string(got[i]) != string(want[i]) {
			t.Fatalf("Decisions of %s: record %d is\n%.200s…\nwant\n%.200s…", id, i, got[i], want[i])
		}
	}
}

// TestRedisDecisionsPacked checks how a full record is stored: packed,
// under a twelfth of its JSON, naming a roster that holds its RMs; the
// roster and the conversation's roster list expire with the records.
func TestRedisDecisionsPacked(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	d := statetest.FullDecision("conv-packed", 300, rmPrefix(), 1)
	commitDecision(t, s, &d)
	wantRecords(t, s, d.ConversationID, d.AppendJSON(nil))
	elem := element(t, s, client, d.ConversationID, 0)
	hash := rosterOf(elem)
	if hash == "" {
		t.Fatalf("element %.40q does not name a roster", elem)
	}
	if j := d.AppendJSON(nil); len(elem)*12 > len(j) {
		t.Errorf("stored %d bytes for %d bytes of JSON, want under a twelfth", len(elem), len(j))
	}
	data, err := client.Get(ctx, s.KeyPrefix()+"roster:"+hash).Bytes()
	if err != nil {
		t.Fatalf("roster %s: %v", hash, err)
	}
	ro, err := routing.ParseRoster(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Candidates {
		if _, ok := ro.Index(c.RMID); !ok {
			t.Fatalf("roster lacks candidate %s", c.RMID)
		}
	}
	listed, err := client.Get(ctx, s.KeyPrefix()+"decrosters:"+string(d.ConversationID)).Result()
	if err != nil || listed != hash {
		t.Fatalf("decrosters = %q, %v; want %q", listed, err, hash)
	}
	for _, key := range []string{"decisions:conv-packed", "decrosters:conv-packed", "roster:" + hash} {
		if ttl, err := client.PTTL(ctx, s.KeyPrefix()+key).Result(); err != nil || ttl <= state.DecisionTTL-time.Minute || ttl > state.DecisionTTL {
			t.Errorf("PTTL %s = %v, %v; want about %v", key, ttl, err, state.DecisionTTL)
		}
	}
	small := statetest.FullDecision("conv-small", 3, rmPrefix(), 2)
	commitDecision(t, s, &small)
	if elem := element(t, s, client, small.ConversationID, 0); len(elem) < 2 || elem[:2] != "\x00i" {
		t.Errorf("a record of 3 candidates stored as %.20q, want packed with its ids", elem)
	}
	wantRecords(t, s, small.ConversationID, small.AppendJSON(nil))
}

// TestRedisDecisionsOldJSON checks that records stored as JSON before
// records were packed (here pushed as an earlier version stored them)
// read as they are, beside packed ones in the same list.
func TestRedisDecisionsOldJSON(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	old := statetest.FullDecision("conv-old", 250, rmPrefix(), 3)
	oldJSON := old.AppendJSON(nil)
	if err := client.LPush(ctx, s.KeyPrefix()+"decisions:conv-old", oldJSON, `{"n":1}`).Err(); err != nil {
		t.Fatal(err)
	}
	d := statetest.FullDecision("conv-old", 250, rmPrefix(), 4)
	commitDecision(t, s, &d)
	wantRecords(t, s, "conv-old", d.AppendJSON(nil), []byte(`{"n":1}`), oldJSON)
}

// TestRedisRosterResent removes a roster the process has stored (as an
// eviction or a hand would; expiry is TestRedisRosterExpiry): the next
// Commit or CommitBatch naming it is refused by the script before it
// applies anything and run once more with the roster, so it takes two
// EVALSHAs, applies each Txn once, and the records written before read
// again (the roster is the same bytes under the same key). It does not run
// in parallel: it watches the process's current roster.
func TestRedisRosterResent(t *testing.T) {
	s, client := newTestRedis(t)
	ctx := t.Context()
	rms := rmPrefix()
	warm := statetest.FullDecision("conv-warm", 1, rms, 0) // loads the scripts
	commitDecision(t, s, &warm)
	if _, err := s.CommitBatch(ctx, []state.Txn{{Now: warm.At, Decision: &state.DecisionRecord{ConversationID: "conv-warm", At: warm.At, Decision: &warm}}}); err != nil {
		t.Fatal(err)
	}
	log := &scriptLog{}
	client.AddHook(log)

	d1 := statetest.FullDecision("conv-r1", 120, rms, 1)
	commitDecision(t, s, &d1)
	hash := rosterOf(element(t, s, client, "conv-r1", 0))
	if len(log.cmds) != 1 || !strings.Contains(log.payloads[0], `"ra":`) {
		t.Fatalf("first record of new RMs: %v, payload %.300s; want one evalsha sending the roster", log.cmds, log.payloads)
	}
	log.reset()
	d2 := statetest.FullDecision("conv-r2", 120, rms, 2)
	commitDecision(t, s, &d2)
	if len(log.cmds) != 1 || strings.Contains(log.payloads[0], `"ra":`) || rosterOf(element(t, s, client, "conv-r2", 0)) != hash {
		t.Fatalf("second record: %v, payload %.300s; want one evalsha naming the stored roster without sending it", log.cmds, log.payloads)
	}

	rosterKey := s.KeyPrefix() + "roster:" + hash
	tests := []struct {
		name   string
		commit func(t *testing.T) []routing.Decision // the decisions committed
	}{
		{"commit", func(t *testing.T) []routing.Decision {
			d := statetest.FullDecision("conv-r1", 120, rms, 3)
			commitDecision(t, s, &d)
			return []routing.Decision{d}
		}},
		{"commit_batch", func(t *testing.T) []routing.Decision {
			ds := []routing.Decision{statetest.FullDecision("conv-r1", 120, rms, 4), statetest.FullDecision("conv-r2", 60, rms, 5)}
			txns := []state.Txn{
				{Now: ds[0].At, Decision: &state.DecisionRecord{ConversationID: "conv-r1", At: ds[0].At, Decision: &ds[0]}},
				{Now: ds[1].At, Decision: &state.DecisionRecord{ConversationID: "conv-r2", At: ds[1].At, Decision: &ds[1]}},
			}
			errs, err := s.CommitBatch(ctx, txns)
			if err != nil || errs[0] != nil || errs[1] != nil {
				t.Fatalf("CommitBatch: %v %v", errs, err)
			}
			return ds
		}},
	}
	want := map[conversation.ConversationID][][]byte{"conv-r1": {d1.AppendJSON(nil)}, "conv-r2": {d2.AppendJSON(nil)}}
	for _, tc := range tests {
		if err := client.Del(ctx, rosterKey).Err(); err != nil {
			t.Fatal(err)
		}
		log.reset()
		for _, d := range tc.commit(t) {
			want[d.ConversationID] = append([][]byte{d.AppendJSON(nil)}, want[d.ConversationID]...)
		}
		if len(log.cmds) != 2 || strings.Contains(log.payloads[0], `"ra":`) || !strings.Contains(log.payloads[1], `"ra":`) {
			t.Fatalf("%s after the roster was removed: %v; want two evalsha, the second sending the roster", tc.name, log.cmds)
		}
		if n, err := client.Exists(ctx, rosterKey).Result(); err != nil || n != 1 {
			t.Fatalf("%s: roster not stored again (%d, %v)", tc.name, n, err)
		}
		for id, w := range want {
			wantRecords(t, s, id, w...)
		}
	}
}

// TestRedisRosterExpiry moves miniredis's clock: a roster lives as long as
// any record naming it, renewed by each write to a conversation whose
// records name it, even when the new record names another roster or is
// JSON; once everything has expired, the next record of the same RMs
// stores the roster again. It does not run in parallel: it makes the
// process's roster grow on purpose.
func TestRedisRosterExpiry(t *testing.T) {
	mr, opts := miniredisOptions(t)
	s, client := redisOn(t, opts)
	ctx := t.Context()
	half := state.DecisionTTL / 2
	a := statetest.FullDecision("conv-x", 80, rmPrefix(), 1)
	commitDecision(t, s, &a)
	other := statetest.FullDecision("conv-y", 80, rmPrefix(), 2) // a conversation left alone
	commitDecision(t, s, &other)
	ra := rosterOf(element(t, s, client, "conv-x", 0))

	mr.FastForward(half)
	b := statetest.FullDecision("conv-x", 80, rmPrefix(), 3) // new RMs: another roster
	commitDecision(t, s, &b)
	rb := rosterOf(element(t, s, client, "conv-x", 0))
	if ra == "" || rb == "" || ra == rb {
		t.Fatalf("rosters %q then %q, want two", ra, rb)
	}
	// The process keeps the rosters it made in memory, so the records
	// would read without their keys: look at the keys.
	stored := func(hash string) bool {
		t.Helper()
		n, err := client.Exists(ctx, s.KeyPrefix()+"roster:"+hash).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	mr.FastForward(half + time.Second) // past the first write's expiry
	wantRecords(t, s, "conv-y")
	wantRecords(t, s, "conv-x", b.AppendJSON(nil), a.AppendJSON(nil))
	if !stored(ra) || !stored(rb) {
		t.Fatalf("rosters of conv-x's records stored: %v %v, want both", stored(ra), stored(rb))
	}

	rec := &state.DecisionRecord{ConversationID: "conv-x", At: a.At, Record: json.RawMessage(`{"n":1}`)}
	if err := s.Commit(ctx, state.Txn{Now: a.At, Decision: rec}); err != nil {
		t.Fatal(err)
	}
	mr.FastForward(state.DecisionTTL - time.Second) // past b's expiry; the JSON write renewed both rosters
	wantRecords(t, s, "conv-x", []byte(`{"n":1}`), b.AppendJSON(nil), a.AppendJSON(nil))
	if !stored(ra) || !stored(rb) {
		t.Fatalf("rosters of conv-x's records stored: %v %v, want both", stored(ra), stored(rb))
	}

	mr.FastForward(2 * time.Second)
	wantRecords(t, s, "conv-x")
	if keys := mr.Keys(); len(keys) != 0 {
		t.Fatalf("keys left after every record expired: %v", keys)
	}
	log := &scriptLog{}
	client.AddHook(log)
	again := statetest.FullDecision("conv-z", 80, "", 4)
	again.Candidates = b.Candidates // b's RMs, whose roster the process thinks stored
	commitDecision(t, s, &again)
	if len(log.cmds) != 2 {
		t.Fatalf("record of an expired roster's RMs: %v, want two evalsha", log.cmds)
	}
	wantRecords(t, s, "conv-z", again.AppendJSON(nil))
}
