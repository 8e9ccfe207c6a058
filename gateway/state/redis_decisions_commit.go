package state

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/routing"
)

// The part of a routing commit that concerns packed decision records and
// their rosters (see redis_decisions.go): packing into pooled buffers,
// sending a roster only when the server may lack it, and running a commit
// once more when the script finds one missing.

// runCommit builds the payload of one EVALSHA of script with build (which
// returns nil when there is nothing to run: runCommit then returns nil,
// nil) and runs it. When the script answers that rosters are missing
// ({"rosters", hash…}: it applied nothing), the book forgets them and the
// command is built again with every roster attached and run once more.
func (r *Redis) runCommit(ctx context.Context, what string, script *redis.Script, build func(*commitBuild) (any, error)) (any, error) {
	for attempt := 0; ; attempt++ {
		b := r.newCommitBuild(attempt > 0)
		p, err := build(b)
		if err == nil && p != nil {
			err = b.setPayload(p)
		}
		if err != nil || p == nil {
			b.release()
			return nil, err
		}
		res, err := script.Run(ctx, r.client, b.keys.keys, b.args...).Result()
		b.release()
		if err != nil {
			return nil, redisErr(what, err)
		}
		missing, ok := rostersMissing(res)
		if !ok {
			rosters.markStored(b.rosterKeys())
			return res, nil
		}
		keys := make([]string, len(missing))
		for i, h := range missing {
			keys[i] = r.rosterKey(h)
		}
		rosters.forget(keys)
		if attempt > 0 {
			return nil, fmt.Errorf("redis %s: rosters %v missing although sent", what, missing)
		}
	}
}

// rostersMissing reads a {"rosters", hash…} reply: the hashes of the
// rosters the script found missing, and true; false for any other reply.
func rostersMissing(res any) ([]string, bool) {
	arr, ok := res.([]any)
	if !ok || len(arr) == 0 {
		return nil, false
	}
	if tag, ok := arr[0].(string); !ok || tag != "rosters" {
		return nil, false
	}
	out := make([]string, 0, len(arr)-1)
	for _, h := range arr[1:] {
		s, _ := h.(string)
		out = append(out, s)
	}
	return out, true
}

// recordBufs are the buffers commit builds pack decision records into, so
// a routing pass does not allocate (and the collector not clear) a
// buffer per record.
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRecords bounds the buffers recordBufs keeps, in bytes.
const maxPooledRecords = 1 << 20

// packRecord packs d (rosterBook.pack) into the build's buffer and returns
// the element, valid until release, and its roster.
func (b *commitBuild) packRecord(d *routing.Decision) ([]byte, *rosterEntry, error) {
	if b.records == nil {
		b.records = recordBufs.Get().(*[]byte)
	}
	start := len(*b.records)
	out, e, err := rosters.pack(*b.records, d)
	*b.records = out
	return out[start:len(out):len(out)], e, err
}

// release returns the build's record buffer to recordBufs; the build's
// arguments must not be used after it.
func (b *commitBuild) release() {
	if b.records == nil {
		return
	}
	if cap(*b.records) <= maxPooledRecords {
		*b.records = (*b.records)[:0]
		recordBufs.Put(b.records)
	}
	b.records = nil
}

// rosterArg returns the ARGV index of the stored form of roster e, whose
// key is key: added the first time the build names the roster unless the
// book says the server has it (or allRosters is set); 0 when it is not
// sent. Every Txn of the build naming one roster gets the same answer.
func (b *commitBuild) rosterArg(key string, e *rosterEntry) int {
	if a, ok := b.rosterArgs[key]; ok {
		return a
	}
	if b.rosterArgs == nil {
		b.rosterArgs = map[string]int{}
	}
	a := 0
	if b.allRosters || !rosters.isStored(key) {
		a = b.arg(e.data)
	}
	b.rosterArgs[key] = a
	return a
}

// rosterKeys returns the roster keys the build named: after a run that
// found none missing, the server has each of them.
func (b *commitBuild) rosterKeys() []string {
	keys := make([]string, 0, len(b.rosterArgs))
	for k := range b.rosterArgs {
		keys = append(keys, k)
	}
	return keys
}
