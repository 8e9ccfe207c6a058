package routing

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON object of d to dst and returns the extended
// buffer. The bytes are exactly those encoding/json writes for d without a
// custom marshaller: fields in declaration order under their json tags,
// omitempty and omitzero as tagged, strings escaped as encoding/json does
// (HTML-safe: <, > and & as \u003c, \u003e, \u0026; U+2028 and U+2029
// as \u2028 and \u2029; invalid UTF-8 as \ufffd), times in RFC 3339 with
// nanoseconds and trailing zeros trimmed (time.RFC3339Nano), durations as
// integer nanoseconds. It grows dst once to the record's estimated size, so
// AppendJSON(nil) allocates once for a record of plain strings (as the
// router's are). It never fails: a time that RFC 3339 cannot write (a year
// outside 0–9999, or a zone offset of 24 h or more) is written as
// time.Format writes it with time.RFC3339Nano, still a JSON string, where
// MarshalJSON and encoding/json return an error.
func (d Decision) AppendJSON(dst []byte) []byte {
	if n := d.jsonSize(); dst == nil {
		dst = make([]byte, 0, n)
	} else {
		dst = slices.Grow(dst, n)
	}
	dst = append(dst, `{"conversation_id":`...)
	dst = appendJSONString(dst, string(d.ConversationID))
	dst = append(dst, `,"at":`...)
	dst = appendJSONTime(dst, d.At)
	if d.PolicyID != "" {
		dst = append(dst, `,"policy_id":`...)
		dst = appendJSONString(dst, d.PolicyID)
	}
	if d.PolicyVersion != "" {
		dst = append(dst, `,"policy_version":`...)
		dst = appendJSONString(dst, d.PolicyVersion)
	}
	dst = append(dst, `,"outcome":`...)
	dst = appendJSONString(dst, string(d.Outcome))
	if len(d.Steps) > 0 {
		dst = append(dst, `,"steps":[`...)
		for i, s := range d.Steps {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONInt(dst, int64(s))
		}
		dst = append(dst, ']')
	}
	if d.Overflow {
		dst = append(dst, `,"overflow":true`...)
	}
	if d.Choice != nil {
		dst = append(dst, `,"choice":`...)
		dst = d.Choice.appendJSON(dst)
	}
	if d.Reserved != nil {
		dst = append(dst, `,"reserved":`...)
		dst = d.Reserved.appendJSON(dst)
	}
	if d.Action != "" {
		dst = append(dst, `,"action":`...)
		dst = appendJSONString(dst, string(d.Action))
	}
	if d.Transfer != nil {
		dst = append(dst, `,"transfer":`...)
		dst = d.Transfer.appendJSON(dst)
	}
	if d.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = appendJSONString(dst, d.Reason)
	}
	if !d.NextChange.IsZero() {
		dst = append(dst, `,"next_change":`...)
		dst = appendJSONTime(dst, d.NextChange)
	}
	dst = append(dst, `,"record":`...)
	dst = appendJSONString(dst, string(d.Record))
	dst = append(dst, `,"considered":`...)
	dst = appendJSONInt(dst, int64(d.Considered))
	dst = append(dst, `,"filtered":`...)
	dst = d.Filtered.appendJSON(dst)
	if len(d.Candidates) > 0 {
		dst = append(dst, `,"candidates":[`...)
		for i := range d.Candidates {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = d.Candidates[i].appendJSON(dst)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"sentence":`...)
	dst = appendJSONString(dst, d.Sentence)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON. It returns an
// error, as encoding/json does, when a time of the record cannot be
// written in RFC 3339 (a year outside 0–9999, a zone offset of 24 h or
// more).
func (d Decision) MarshalJSON() ([]byte, error) {
	check := func(name string, t time.Time) error {
		var buf [64]byte
		if _, err := t.AppendText(buf[:0]); err != nil {
			return fmt.Errorf("decision record of %s: %s: %w", d.ConversationID, name, err)
		}
		return nil
	}
	if err := check("at", d.At); err != nil {
		return nil, err
	}
	if d.Choice != nil {
		if err := check("choice expires_at", d.Choice.ExpiresAt); err != nil {
			return nil, err
		}
	}
	if tr := d.Transfer; tr != nil {
		if err := check("transfer at", tr.At); err != nil {
			return nil, err
		}
		if err := check("transfer until", tr.Until); err != nil {
			return nil, err
		}
	}
	if !d.NextChange.IsZero() {
		if err := check("next_change", d.NextChange); err != nil {
			return nil, err
		}
	}
	return d.AppendJSON(nil), nil
}

// jsonSize estimates the length of d's JSON in bytes: exact for plain
// ASCII strings but for the numbers, which it takes at their widest
// common length.
func (d Decision) jsonSize() int {
	n := 320 + len(d.ConversationID) + len(d.PolicyID) + len(d.PolicyVersion) + len(d.Reason) + len(d.Sentence) + 4*len(d.Steps)
	if d.Choice != nil {
		n += 200 + len(d.Choice.RMID) + len(d.Choice.CursorKey)
	}
	if d.Reserved != nil {
		n += 100 + len(d.Reserved.RMID)
	}
	if d.Transfer != nil {
		n += 140 + len(d.Transfer.Team) + len(d.Transfer.By) + len(d.Transfer.State)
	}
	for i := range d.Candidates {
		c := &d.Candidates[i]
		n += 72 + len(c.RMID) + len(c.Presence) + len(recordTables.sets[c.Failed&knownFilters])
		if c.Role != "" {
			n += 10 + len(c.Role)
		}
		if c.Score != 0 {
			n += 29
		}
		if c.Note != "" {
			n += 10 + len(c.Note)
		}
	}
	return n
}

// appendJSON appends the JSON object of c (see Decision.AppendJSON).
func (c *Candidate) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"rm_id":`...)
	dst = appendJSONString(dst, string(c.RMID))
	dst = append(dst, `,"step":`...)
	dst = appendJSONInt(dst, int64(c.Step))
	if c.Role != "" {
		dst = append(dst, `,"role":`...)
		dst = appendJSONString(dst, string(c.Role))
	}
	dst = append(dst, `,"failed":`...)
	dst = c.Failed.appendJSON(dst)
	dst = append(dst, `,"presence":`...)
	dst = appendJSONString(dst, string(c.Presence))
	dst = append(dst, `,"load":`...)
	dst = appendJSONInt(dst, int64(c.Load))
	dst = append(dst, `,"capacity":`...)
	dst = appendJSONInt(dst, int64(c.Capacity))
	if c.Score != 0 {
		dst = append(dst, `,"score":`...)
		dst = appendJSONInt(dst, c.Score)
	}
	if c.Note != "" {
		dst = append(dst, `,"note":`...)
		dst = appendJSONString(dst, c.Note)
	}
	return append(dst, '}')
}

// appendJSON appends the JSON object of c (see Decision.AppendJSON).
func (c *Choice) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"rm_id":`...)
	dst = appendJSONString(dst, string(c.RMID))
	dst = append(dst, `,"step":`...)
	dst = appendJSONInt(dst, int64(c.Step))
	if c.Role != "" {
		dst = append(dst, `,"role":`...)
		dst = appendJSONString(dst, string(c.Role))
	}
	dst = append(dst, `,"cost":`...)
	dst = appendJSONInt(dst, int64(c.Cost))
	dst = append(dst, `,"load_before":`...)
	dst = appendJSONInt(dst, int64(c.LoadBefore))
	dst = append(dst, `,"capacity":`...)
	dst = appendJSONInt(dst, int64(c.Capacity))
	dst = append(dst, `,"timeout":`...)
	dst = appendJSONInt(dst, int64(c.Timeout))
	dst = append(dst, `,"expires_at":`...)
	dst = appendJSONTime(dst, c.ExpiresAt)
	dst = append(dst, `,"score":`...)
	dst = appendJSONInt(dst, c.Score)
	dst = append(dst, `,"cursor_key":`...)
	dst = appendJSONString(dst, c.CursorKey)
	return append(dst, '}')
}

// appendJSON appends the JSON object of r (see Decision.AppendJSON).
func (r *Reservation) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"rm_id":`...)
	dst = appendJSONString(dst, string(r.RMID))
	dst = append(dst, `,"step":`...)
	dst = appendJSONInt(dst, int64(r.Step))
	if r.Role != "" {
		dst = append(dst, `,"role":`...)
		dst = appendJSONString(dst, string(r.Role))
	}
	dst = append(dst, `,"load":`...)
	dst = appendJSONInt(dst, int64(r.Load))
	dst = append(dst, `,"capacity":`...)
	dst = appendJSONInt(dst, int64(r.Capacity))
	dst = append(dst, `,"cost":`...)
	dst = appendJSONInt(dst, int64(r.Cost))
	return append(dst, '}')
}

// appendJSON appends the JSON object of tr (see Decision.AppendJSON).
func (tr *TransferRecord) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"team":`...)
	dst = appendJSONString(dst, string(tr.Team))
	if tr.By != "" {
		dst = append(dst, `,"by":`...)
		dst = appendJSONString(dst, string(tr.By))
	}
	dst = append(dst, `,"at":`...)
	dst = appendJSONTime(dst, tr.At)
	dst = append(dst, `,"until":`...)
	dst = appendJSONTime(dst, tr.Until)
	dst = append(dst, `,"state":`...)
	dst = appendJSONString(dst, string(tr.State))
	return append(dst, '}')
}

// appendJSON appends s as FilterSet.MarshalJSON writes it: the list of the
// known filters' names in evaluation order (unknown bits are left out).
func (s FilterSet) appendJSON(dst []byte) []byte {
	return append(dst, recordTables.sets[s&knownFilters]...)
}

// appendJSON appends fc as its MarshalJSON writes it: the positive counts
// keyed by filter name, keys sorted as encoding/json sorts map keys.
func (fc *FilterCounts) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	first := true
	for i, f := range recordTables.countOrder {
		if c := fc[f]; c > 0 {
			key := recordTables.countKeys[i]
			if first {
				key = key[1:] // no leading comma
				first = false
			}
			dst = append(dst, key...)
			dst = appendJSONInt(dst, int64(c))
		}
	}
	return append(dst, '}')
}

// appendJSONTime appends t as time.Time.MarshalJSON writes it (RFC 3339
// with up to nine fractional digits, trailing zeros trimmed); a time RFC
// 3339 cannot write is written as time.Format does with time.RFC3339Nano.
func appendJSONTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	if b, err := t.AppendText(dst); err == nil {
		dst = b
	} else {
		dst = t.AppendFormat(dst, time.RFC3339Nano)
	}
	return append(dst, '"')
}

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it with HTML escaping (its default): ", \, \b, \f, \n, \r, \t
// escaped with a backslash; other control bytes, <, > and & as \u00XX
// (lowercase hex); U+2028 and U+2029 as \u2028 and \u2029; each byte of
// invalid UTF-8 as \ufffd; everything else as is.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	i := plainPrefix(s)
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainPrefix returns the length of the longest prefix of s that
// appendJSONString copies as it is without looking further: ASCII from
// 0x20 up but for ", \, <, > and &. It tests eight bytes at a time.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	has := func(w uint64, c byte) uint64 { // high bit of the bytes equal to c (and maybe above one)
		v := w ^ (ones * uint64(c))
		return (v - ones) &^ v
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// The lowest flagged byte is exactly the first one to look at:
		// a borrow only flags bytes above a flagged one.
		m := w | ((w - ones*0x20) &^ w) | has(w, '"') | has(w, '\\') | has(w, '<') | has(w, '>') | has(w, '&')
		if m &= highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= utf8.RuneSelf || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
			return i
		}
	}
	return i
}

// appendJSONInt appends v in decimal, as strconv.AppendInt does, with a
// shortcut for 0–999 (steps, loads and capacities in cost units).
func appendJSONInt(dst []byte, v int64) []byte {
	switch {
	case v < 0 || v >= 1000:
		return strconv.AppendInt(dst, v, 10)
	case v < 10:
		return append(dst, byte('0'+v))
	case v < 100:
		return append(dst, byte('0'+v/10), byte('0'+v%10))
	}
	return append(dst, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
}

// knownFilters is the FilterSet of every known filter.
const knownFilters = FilterSet(1<<NumFilters - 1)

// recordJSON is the precomputed JSON of the record parts that take few
// values. recordTables, its one value, is built at package initialisation
// and only read after.
type recordJSON struct {
	// sets is the JSON of every set of known filters, indexed by the
	// set: `[]`, `["presence"]`, `["capacity"]`, `["presence","capacity"]`…
	sets [1 << NumFilters]string
	// countOrder lists the filters by name, the order encoding/json writes
	// a map's keys in; countKeys[i] is `,"<name of countOrder[i]>":`.
	countOrder [NumFilters]Filter
	countKeys  [NumFilters]string
}

var recordTables = newRecordJSON()

func newRecordJSON() *recordJSON {
	t := &recordJSON{}
	// One backing string for all sets (about 60 bytes each on average).
	var buf []byte
	var ends [1 << NumFilters]int
	for s := range FilterSet(1 << NumFilters) {
		buf = append(buf, '[')
		first := true
		for f := range Filter(NumFilters) {
			if s.Has(f) {
				if !first {
					buf = append(buf, ',')
				}
				first = false
				buf = appendJSONString(buf, f.String())
			}
		}
		buf = append(buf, ']')
		ends[s] = len(buf)
	}
	all := string(buf)
	start := 0
	for s, end := range ends {
		t.sets[s] = all[start:end]
		start = end
	}
	for i := range t.countOrder {
		t.countOrder[i] = Filter(i)
	}
	slices.SortFunc(t.countOrder[:], func(a, b Filter) int {
		return strings.Compare(a.String(), b.String())
	})
	for i, f := range t.countOrder {
		t.countKeys[i] = string(appendJSONString([]byte{','}, f.String())) + ":"
	}
	return t
}
