package state

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

var _ Router = (*Redis)(nil)

func (r *Redis) rmKey(id conversation.RMID) string { return r.prefix + "rm:" + string(id) }
func (r *Redis) rmStatesKey() string               { return r.prefix + "rmstates" }
func (r *Redis) wakesKey() string                  { return r.prefix + "wakes" }
func (r *Redis) cursorsKey() string                { return r.prefix + "cursors" }

func (r *Redis) decisionsKey(id conversation.ConversationID) string {
	return r.prefix + "decisions:" + string(id)
}

// commitPayload is a Txn as commitLua reads it: ids, JSON records made
// here, times as Unix µs strings, and keys as indexes into KEYS.
type commitPayload struct {
	Now       string          `json:"now"`
	Token     string          `json:"n"`
	Conv      *commitConv     `json:"c,omitempty"`
	Guards    []commitGuard   `json:"g,omitempty"`
	Holds     []commitHold    `json:"h,omitempty"`
	Releases  []commitHold    `json:"r,omitempty"`
	Offer     *commitOffer    `json:"o,omitempty"`
	Offers    []commitOffer   `json:"os,omitempty"`
	Deletes   []commitRef     `json:"del,omitempty"`
	Enqueue   []commitRef     `json:"eq,omitempty"`
	Dequeue   []commitRef     `json:"dq,omitempty"`
	RMs       []commitRM      `json:"rm,omitempty"`
	Presences []commitPres    `json:"p,omitempty"`
	Events    []commitRef     `json:"e,omitempty"`
	Decision  *commitDecision `json:"d,omitempty"`
	Wakes     []commitWake    `json:"w,omitempty"`
	Cursors   []commitCursor  `json:"cu,omitempty"`
}

type commitConv struct {
	K     int      `json:"k"`
	ID    string   `json:"id"`
	V     string   `json:"v"`
	NV    string   `json:"nv"`
	A     int      `json:"a"`
	X     string   `json:"x"`
	Names []string `json:"s"`
	Index []int    `json:"ix"`
}

type commitGuard struct {
	T    GuardKind `json:"t"`
	K    int       `json:"k,omitempty"`
	RK   int       `json:"rk,omitempty"`
	RM   string    `json:"rm,omitempty"`
	C    string    `json:"c,omitempty"`
	O    string    `json:"o,omitempty"`
	Cost int       `json:"cost"`
	Cap  int       `json:"cap"`
	// P is GuardPresence's expected value in presenceStateKey.
	P string `json:"p,omitempty"`
}

type commitHold struct {
	K    int    `json:"k"`
	RM   string `json:"rm"`
	C    string `json:"c"`
	Cost string `json:"cost"`
}

type commitOffer struct {
	K   int    `json:"k"`
	CK  int    `json:"ck"`
	RK  int    `json:"rk"`
	ID  string `json:"id"`
	A   int    `json:"a"`
	Exp string `json:"exp"`
	Cr  string `json:"cr"`
}

// commitRef is a key and a member or a record: an offer to delete, a
// queue entry (S: score), an event (A: the ARGV index of its JSON).
type commitRef struct {
	K  int    `json:"k"`
	ID string `json:"id,omitempty"`
	S  string `json:"s,omitempty"`
	A  int    `json:"a,omitempty"`
}

type commitRM struct {
	K  int      `json:"k"`
	RM string   `json:"rm"`
	L  string   `json:"l,omitempty"`
	I  string   `json:"i,omitempty"`
	M  MissedOp `json:"m"`
}

type commitPres struct {
	K  int    `json:"k"`
	RM string `json:"rm"`
	A  int    `json:"a"`
	St string `json:"st"`
}

// commitDecision is a decision record: K its list, RK the list of the
// rosters its conversation's records name (decrosters), A the ARGV index
// of the list element; when the record names a roster, H its hash, R its
// key, and RA the ARGV index of its stored form when it is sent.
type commitDecision struct {
	K   int    `json:"k"`
	RK  int    `json:"rk"`
	A   int    `json:"a"`
	Max int    `json:"max"`
	TTL string `json:"ttl"`
	H   string `json:"h,omitempty"`
	R   int    `json:"r,omitempty"`
	RA  int    `json:"ra,omitempty"`
}

type commitWake struct {
	ID string `json:"id"`
	At string `json:"at,omitempty"`
}

type commitCursor struct {
	Key string `json:"key"`
	RM  string `json:"rm"`
}

// commitKeys collects the KEYS of one commit, each once.
type commitKeys struct {
	keys []string
	at   map[string]int
}

// fixed keys of commitLua, in their KEYS order.
func (r *Redis) newCommitKeys() *commitKeys {
	k := &commitKeys{at: make(map[string]int, 16)}
	for _, key := range []string{r.offerExpiryKey(), r.rmStatesKey(), r.presenceStateKey(), r.rmsKey(), r.wakesKey(), r.cursorsKey()} {
		k.of(key)
	}
	return k
}

// of returns key's 1-based index in KEYS, adding it if new.
func (k *commitKeys) of(key string) int {
	if i, ok := k.at[key]; ok {
		return i
	}
	k.keys = append(k.keys, key)
	k.at[key] = len(k.keys)
	return len(k.keys)
}

// decisionTTLms is DecisionTTL in ms, as PEXPIRE takes it.
var decisionTTLms = strconv.FormatInt(DecisionTTL.Milliseconds(), 10)

func usString(t time.Time) string { return strconv.FormatInt(micros(t), 10) }

// Commit applies txn in one EVALSHA of commitLua (see Router.Commit): the
// Txn travels as one JSON argument naming its records, which follow as
// arguments of their own, already encoded, so the script stores them byte
// for byte; the conversation is written with
// Version+1 and a write token, and a command re-sent after a lost reply
// is recognised by that token and reported as the success it was (a Txn
// without a conversation has no such protection; OpenRedis does not
// re-send). A decision record is stored packed, naming a roster that is
// sent along when this process has not stored it (see redis_decisions.go);
// if the script finds a roster missing it applies nothing and the Commit
// is run once more with the roster. Errors: ErrConflict for a version
// mismatch, a *GuardError (wrapping ErrConflict) for the first failed
// guard, ErrNotFound for a missing conversation, a conversation.ErrInvalid
// error for a malformed Txn, ErrUnavailable.
func (r *Redis) Commit(ctx context.Context, txn Txn) error {
	if err := validateTxn(&txn); err != nil {
		return fmt.Errorf("redis commit: %w", err)
	}
	res, err := r.runCommit(ctx, "commit", r.scripts.commit, func(b *commitBuild) (any, error) {
		return r.commitPayload(b, &txn)
	})
	if err != nil {
		return err
	}
	arr, err := scriptReply("commit", res)
	if err != nil {
		return err
	}
	return commitResult(&txn, arr)
}

// CommitBatch applies txns in order in one EVALSHA of commitBatchLua (see
// Router.CommitBatch), each atomically and on its own, as Commit would
// (a missing roster makes the script refuse the whole batch before
// applying any, and the batch is run once more with the rosters).
// It returns one error per Txn (nil when applied), or a non-nil second
// error (ErrUnavailable) when the batch could not be run, in which case
// none, some or all may have been applied.
func (r *Redis) CommitBatch(ctx context.Context, txns []Txn) ([]error, error) {
	errs := make([]error, len(txns))
	var valid []int // index in txns of each valid Txn
	for i := range txns {
		if err := validateTxn(&txns[i]); err != nil {
			errs[i] = fmt.Errorf("redis commit: %w", err)
			continue
		}
		valid = append(valid, i)
	}
	var sent []int // index in txns of each payload
	res, err := r.runCommit(ctx, "commit batch", r.scripts.commitBatch, func(b *commitBuild) (any, error) {
		sent = sent[:0]
		payloads := make([]*commitPayload, 0, len(valid))
		for _, i := range valid {
			p, err := r.commitPayload(b, &txns[i])
			if err != nil {
				errs[i] = err
				continue
			}
			payloads = append(payloads, p)
			sent = append(sent, i)
		}
		if len(payloads) == 0 {
			return nil, nil
		}
		return payloads, nil
	})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return errs, nil
	}
	replies, ok := res.([]any)
	if !ok || len(replies) != len(sent) {
		return nil, fmt.Errorf("redis commit batch: unexpected script reply %v", res)
	}
	for j, i := range sent {
		arr, err := scriptReply("commit", replies[j])
		if err != nil {
			errs[i] = err
			continue
		}
		errs[i] = commitResult(&txns[i], arr)
	}
	return errs, nil
}

// commitResult reads commitLua's reply for txn.
func commitResult(txn *Txn, arr []any) error {
	switch replyInt(arr, 0) {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("redis commit: conversation %s: %w", txn.Conversation.ID, ErrNotFound)
	case 2:
		return fmt.Errorf("redis commit: conversation %s is at version %s, not %d: %w",
			txn.Conversation.ID, replyString(arr, 1), txn.Conversation.Version, ErrConflict)
	case 4:
		return fmt.Errorf("redis commit: %s: %w", replyString(arr, 1), conversation.ErrInvalid)
	}
	i := int(replyInt(arr, 1)) - 1
	if i < 0 || i >= len(txn.Guards) {
		return fmt.Errorf("redis commit: unexpected script reply %v", arr)
	}
	return fmt.Errorf("redis commit: %w", guardReply(arr).guardError(txn.Guards[i]))
}

// guardReply reads the failure details of a {3, i, code, …} reply.
func guardReply(arr []any) guardFailure {
	f := guardFailure{code: replyString(arr, 2)}
	at := func(i int) time.Time {
		us, _ := strconv.ParseFloat(replyString(arr, i), 64) // a score, maybe "1.7e+15"
		return fromMicros(int64(us))
	}
	switch f.code {
	case failState, failPresence:
		f.state = conversation.PresenceState(replyString(arr, 3))
	case failLeaseExpired, failOfferExpired:
		f.at = at(3)
	case failLoad:
		f.load, _ = strconv.Atoi(replyString(arr, 3))
	case failOfferOwner:
		f.rm = conversation.RMID(replyString(arr, 3))
	case failLiveOffer:
		f.offer, f.rm, f.at = conversation.OfferID(replyString(arr, 3)), conversation.RMID(replyString(arr, 4)), at(5)
	}
	return f
}

// commitBuild collects what one EVALSHA sends: the keys, and the ARGV
// (payload, key prefix, then the records). The records
// (conversation, offer, presences, events, decision record, rosters)
// travel as ARGV entries of their own and the payload names them by index
// (A): inside the payload they would be escaped by Go and unescaped by
// cjson, which for a full decision record (tens of KB) cost more than the
// rest of the commit.
type commitBuild struct {
	keys  *commitKeys
	args  []any
	token string // of the EVALSHA; each Txn's write token is this and its index
	n     int    // Txns encoded so far
	// allRosters sends every roster named, stored or not (the second run
	// after the script found one missing).
	allRosters bool
	// rosterArgs maps each roster key named to the ARGV index of its
	// stored form, 0 when it is not sent.
	rosterArgs map[string]int
	// records holds the packed decision records, one after the other
	// (each ARGV entry is a slice of it), from recordBufs until release.
	records *[]byte
}

func (r *Redis) newCommitBuild(allRosters bool) *commitBuild {
	return &commitBuild{keys: r.newCommitKeys(), args: []any{"", r.prefix}, token: writeToken(), allRosters: allRosters}
}

// arg appends a record (a string or a []byte of JSON) and returns its
// index in Lua's ARGV (from 1).
func (b *commitBuild) arg(record any) int {
	b.args = append(b.args, record)
	return len(b.args)
}

// setPayload encodes the payload (one *commitPayload or a slice of them)
// as ARGV[1].
func (b *commitBuild) setPayload(p any) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("redis commit: encode txn: %w", err)
	}
	b.args[0] = string(data)
	return nil
}

// commitPayload encodes txn for commitLua into b: its keys and records go
// into b, the rest into the payload returned.
func (r *Redis) commitPayload(b *commitBuild, txn *Txn) (*commitPayload, error) {
	keys, arg := b.keys, b.arg
	p := &commitPayload{Now: usString(txn.Now), Token: b.token + "." + strconv.Itoa(b.n)}
	b.n++
	encode := func(what string, v any) (string, error) {
		data, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("redis commit: encode %s: %w", what, err)
		}
		return string(data), nil
	}
	if c := txn.Conversation; c != nil {
		next := *c
		next.Version = c.Version + 1
		j, err := encode("conversation", &next)
		if err != nil {
			return nil, err
		}
		cc := &commitConv{K: keys.of(r.convKey(c.ID)), ID: string(c.ID), V: strconv.FormatInt(c.Version, 10),
			NV: strconv.FormatInt(next.Version, 10), A: arg(j), X: indexField(&next), Names: indexNames(&next)}
		for _, n := range cc.Names {
			cc.Index = append(cc.Index, keys.of(r.prefix+n))
		}
		p.Conv = cc
	}
	for _, g := range txn.Guards {
		cg := commitGuard{T: g.Kind, RM: string(g.RMID), C: string(g.ConversationID), O: string(g.OfferID), Cost: g.Cost, Cap: g.Capacity}
		switch g.Kind {
		case GuardCapacity:
			cg.K = keys.of(r.rmKey(g.RMID))
		case GuardOfferLive:
			cg.K = keys.of(r.offerKey(g.OfferID))
			if g.RMID != "" {
				cg.RK = keys.of(r.rmOffersKey(g.RMID))
			}
		case GuardNoLiveOffer:
			cg.K = keys.of(r.convOffersKey(g.ConversationID))
		case GuardPresence:
			cg.P = presenceState(conversation.Presence{State: g.State, ExpiresAt: g.ExpiresAt})
		}
		p.Guards = append(p.Guards, cg)
	}
	hold := func(h Hold) commitHold {
		return commitHold{K: keys.of(r.rmKey(h.RMID)), RM: string(h.RMID), C: string(h.ConversationID), Cost: strconv.Itoa(h.Cost)}
	}
	for _, h := range txn.Holds {
		p.Holds = append(p.Holds, hold(h))
	}
	for _, h := range txn.Releases {
		p.Releases = append(p.Releases, hold(h))
	}
	putOffer := func(o *conversation.Offer) (*commitOffer, error) {
		j, err := encode("offer", o)
		if err != nil {
			return nil, err
		}
		return &commitOffer{K: keys.of(r.offerKey(o.ID)), CK: keys.of(r.convOffersKey(o.ConversationID)),
			RK: keys.of(r.rmOffersKey(o.RMID)), ID: string(o.ID), A: arg(j), Exp: usString(o.ExpiresAt), Cr: usString(o.CreatedAt)}, nil
	}
	if o := txn.PutOffer; o != nil {
		co, err := putOffer(o)
		if err != nil {
			return nil, err
		}
		p.Offer = co
	}
	for i := range txn.PutOffers {
		co, err := putOffer(&txn.PutOffers[i])
		if err != nil {
			return nil, err
		}
		p.Offers = append(p.Offers, *co)
	}
	for _, id := range txn.DeleteOffers {
		p.Deletes = append(p.Deletes, commitRef{K: keys.of(r.offerKey(id)), ID: string(id)})
	}
	for _, q := range txn.Enqueue {
		p.Enqueue = append(p.Enqueue, commitRef{K: keys.of(r.queueKey(q.Queue)), ID: string(q.ConversationID),
			S: strconv.FormatFloat(q.Score, 'g', -1, 64)})
	}
	for _, q := range txn.Dequeue {
		p.Dequeue = append(p.Dequeue, commitRef{K: keys.of(r.queueKey(q.Queue)), ID: string(q.ConversationID)})
	}
	for _, u := range txn.RMs {
		cu := commitRM{K: keys.of(r.rmKey(u.RMID)), RM: string(u.RMID), M: u.Missed}
		if !u.LastOfferAt.IsZero() {
			cu.L = usString(u.LastOfferAt)
		}
		if !u.IdleSince.IsZero() {
			cu.I = usString(u.IdleSince)
		}
		p.RMs = append(p.RMs, cu)
	}
	for _, pr := range txn.Presences {
		j, err := encode("presence", pr)
		if err != nil {
			return nil, err
		}
		p.Presences = append(p.Presences, commitPres{K: keys.of(r.presenceKey(pr.RMID)), RM: string(pr.RMID), A: arg(j), St: presenceState(pr)})
	}
	for _, e := range txn.Events {
		j, err := encode("event", e)
		if err != nil {
			return nil, err
		}
		p.Events = append(p.Events, commitRef{K: keys.of(r.eventsKey(e.ConversationID)), A: arg(j)})
	}
	if d := txn.Decision; d != nil {
		cd := &commitDecision{K: keys.of(r.decisionsKey(d.ConversationID)), RK: keys.of(r.decisionRostersKey(d.ConversationID)),
			Max: MaxDecisionsKept, TTL: decisionTTLms}
		if d.Decision == nil {
			cd.A = arg(d.json())
		} else {
			rec, e, err := b.packRecord(d.Decision)
			if err != nil {
				return nil, fmt.Errorf("redis commit: %w", err)
			}
			cd.A = arg(rec)
			if e != nil {
				key := r.rosterKey(e.hash)
				cd.H, cd.R, cd.RA = e.hash, keys.of(key), b.rosterArg(key, e)
			}
		}
		p.Decision = cd
	}
	for _, w := range txn.Wakes {
		cw := commitWake{ID: string(w.ConversationID)}
		if !w.At.IsZero() {
			cw.At = usString(w.At)
		}
		p.Wakes = append(p.Wakes, cw)
	}
	for k, rm := range txn.Cursors {
		p.Cursors = append(p.Cursors, commitCursor{Key: k, RM: string(rm)})
	}
	return p, nil
}
