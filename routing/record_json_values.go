package routing

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

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
	// setLens[s] is len(sets[s]), in a table small enough to stay in
	// cache while jsonSize walks the candidates.
	setLens [1 << NumFilters]uint16
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
		t.setLens[s] = uint16(end - start)
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
