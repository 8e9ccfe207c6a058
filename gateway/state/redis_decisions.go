package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// Decision records on Redis.
//
// A routing.Decision (DecisionRecord.Decision) is stored packed
// (routing.Decision.AppendPacked: a full record of 300 candidates takes
// 2.6 KB instead of 33 KB of JSON), and Decisions expands it to
// the JSON the memory store keeps, routing.Decision.AppendJSON of the same
// decision, byte for byte; JSON given as DecisionRecord.Record is stored
// as it is, so records of both forms, and records stored as JSON before
// packing existed, sit in one list and read the same way.
//
// A list element is JSON (which never starts with a NUL byte), or a NUL,
// a kind byte and the packed record:
//
//	\x00 i <packed>           candidates name their RMs by id
//	\x00 r <hash> <packed>    candidates name their RMs by index into
//	                          roster <hash> (32 hex digits)
//
// A record of at least rosterMinCandidates candidates uses a roster: the
// sorted ids of every RM this process has recorded (rosterBook), stored
// under the keys
//
//	roster:<hash>             the roster (routing.Roster.AppendBinary);
//	                          <hash> is SHA-256 of it, 16 bytes in hex
//	decrosters:<conv id>      the hashes of the rosters that the records of
//	                          decisions:<conv id> name, space-separated
//
// The commit script stores a roster when the Go side sends it (once per
// process and key, see rosterBook) and otherwise checks that it exists
// before applying anything, renewing its expiry to DecisionTTL; a missing
// roster makes the whole EVALSHA refuse (nothing applied) and the Go side
// runs it again with the rosters attached. Each write to a conversation's
// records renews, with the list, every roster its decrosters names, so a
// roster lives at least as long as any record that names it: the
// retention of records is exactly that of JSON records (MaxDecisionsKept,
// DecisionTTL after the list's last write). A record whose roster is
// nevertheless gone (a key evicted under maxmemory or deleted by hand) is
// left out of Decisions, as an expired record would be.

// Framing of packed records.
const (
	packedMark     = 0x00
	packedInline   = 'i'
	packedRostered = 'r'
	rosterHashLen  = 32
	// rosterMinCandidates is the fewest candidates a record names
	// through a roster; fewer are written out (a compact record's named
	// RMs cost less than the roster's upkeep).
	rosterMinCandidates = 16
)

func (r *Redis) rosterKey(hash string) string { return r.prefix + "roster:" + hash }

func (r *Redis) decisionRostersKey(id conversation.ConversationID) string {
	return r.prefix + "decrosters:" + string(id)
}

// pack appends d's list element to dst and returns the extended buffer
// and the roster the element names (nil for none), growing the book's
// current roster when it lacks a candidate's RM. On error dst is returned
// as it was given.
func (b *rosterBook) pack(dst []byte, d *routing.Decision) ([]byte, *rosterEntry, error) {
	start := len(dst)
	if len(d.Candidates) < rosterMinCandidates {
		out, err := d.AppendPacked(append(dst, packedMark, packedInline), nil)
		if err != nil {
			return dst[:start], nil, fmt.Errorf("pack decision of %s: %w", d.ConversationID, err)
		}
		return out, nil, nil
	}
	e := b.current.Load()
	for range 2 {
		if e != nil {
			out, err := d.AppendPacked(append(append(dst, packedMark, packedRostered), e.hash...), e.roster)
			if err == nil {
				return out, e, nil
			}
			if !errors.Is(err, routing.ErrNotInRoster) {
				return dst[:start], nil, fmt.Errorf("pack decision of %s: %w", d.ConversationID, err)
			}
		}
		var err error
		if e, err = b.grow(d.Candidates); err != nil {
			return dst[:start], nil, fmt.Errorf("pack decision of %s: %w", d.ConversationID, err)
		}
	}
	return dst[:start], nil, fmt.Errorf("pack decision of %s: %w", d.ConversationID, routing.ErrNotInRoster)
}

// Decisions returns up to limit of the conversation's decision records
// (all kept when limit <= 0), newest first: LRANGE, then, when packed
// records name rosters this process has not read yet, one pipeline of
// GETs. Packed records come back as the JSON of the decision they hold.
// Errors: ErrUnavailable; a record that does not unpack (wrapping
// routing.ErrPackedRecord).
func (r *Redis) Decisions(ctx context.Context, id conversation.ConversationID, limit int) ([]json.RawMessage, error) {
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	raw, err := r.client.LRange(ctx, r.decisionsKey(id), 0, stop).Result()
	if err != nil {
		return nil, redisErr("decisions of "+string(id), err)
	}
	found, err := r.rostersOf(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("redis decisions of %s: %w", id, err)
	}
	out := make([]json.RawMessage, 0, len(raw))
	for _, s := range raw {
		if len(s) == 0 || s[0] != packedMark {
			out = append(out, json.RawMessage(s))
			continue
		}
		rec, ok, err := expandRecord(s, found)
		if err != nil {
			return nil, fmt.Errorf("redis decisions of %s: %w", id, err)
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out, nil
}

// rostersOf returns the rosters the packed records of raw name, by hash:
// from the book, else read (one pipeline) and checked against their hash;
// nil for a roster that is gone.
func (r *Redis) rostersOf(ctx context.Context, raw []string) (map[string]*routing.Roster, error) {
	var found map[string]*routing.Roster
	var fetch []string
	for _, s := range raw {
		hash, ok := rosterHashOf(s)
		if !ok {
			continue
		}
		if found == nil {
			found = map[string]*routing.Roster{}
		}
		if _, seen := found[hash]; seen {
			continue
		}
		found[hash] = rosters.lookup(hash)
		if found[hash] == nil {
			fetch = append(fetch, hash)
		}
	}
	if len(fetch) == 0 {
		return found, nil
	}
	cmds := make([]*redis.StringCmd, len(fetch))
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range fetch {
			cmds[i] = p.Get(ctx, r.rosterKey(h))
		}
		return nil
	}); err != nil && !isNil(err) {
		return nil, redisErr("rosters", err)
	}
	for i, h := range fetch {
		data, err := cmds[i].Bytes()
		if isNil(err) {
			continue
		}
		if err != nil {
			return nil, redisErr("roster "+h, err)
		}
		if got := rosterHash(data); got != h {
			return nil, fmt.Errorf("roster %s holds a roster of hash %s: %w", h, got, routing.ErrPackedRecord)
		}
		ro, err := routing.ParseRoster(data)
		if err != nil {
			return nil, fmt.Errorf("roster %s: %w", h, err)
		}
		rosters.remember(h, ro)
		found[h] = ro
	}
	return found, nil
}

// rosterHashOf returns the roster hash a list element names, if any.
func rosterHashOf(s string) (string, bool) {
	if len(s) < 2+rosterHashLen || s[0] != packedMark || s[1] != packedRostered {
		return "", false
	}
	return s[2 : 2+rosterHashLen], true
}

// expandRecord returns the JSON of a packed list element, and false when
// the roster it names is gone (found[hash] nil).
func expandRecord(s string, found map[string]*routing.Roster) (json.RawMessage, bool, error) {
	var ro *routing.Roster
	var body string
	switch {
	case len(s) >= 2 && s[1] == packedInline:
		body = s[2:]
	case len(s) >= 2+rosterHashLen && s[1] == packedRostered:
		if ro = found[s[2:2+rosterHashLen]]; ro == nil {
			return nil, false, nil
		}
		body = s[2+rosterHashLen:]
	default:
		return nil, false, fmt.Errorf("record of kind %q: %w", s[1:min(2, len(s))], routing.ErrPackedRecord)
	}
	d, err := routing.UnpackDecision([]byte(body), ro)
	if err != nil {
		return nil, false, err
	}
	return d.AppendJSON(nil), true, nil
}
