package state

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// sampleRecord is a routing decision record shaped as the router writes
// them, with n candidates (one in 50 a named RM with a note).
func sampleRecord(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"conversation_id":"conv-0001","at":"2026-03-02T02:00:00.123456Z","policy_id":"mass","policy_version":"c73367442a2318e5","outcome":"offer","steps":[1,2],` +
		`"choice":{"rm_id":"rm-mass-007","step":1,"cost":25,"load_before":50,"capacity":100,"timeout":15000000000,"expires_at":"2026-03-02T02:00:15.123456Z","score":-3,"cursor_key":"mass"},` +
		`"record":"full","considered":` + fmt.Sprint(n) + `,"filtered":{"capacity":3,"presence":12},"candidates":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		failed := [...]string{`[]`, `["capacity"]`, `["presence","capacity"]`, `["capacity","language","skill"]`}[i%4]
		fmt.Fprintf(&b, `{"rm_id":"rm-mass-%03d","step":%d,"failed":%s,"presence":"available","load":%d,"capacity":100`, i, 1+i%3, failed, i%101)
		if i%50 == 0 {
			b.WriteString(`,"role":"own_rm","score":-1234567,"note":"at capacity (100/100) \u003c\u2028\"\\ 中文"`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`],"sentence":"offered to rm-mass-007 at step 1"}`)
	return []byte(b.String())
}

func TestValidJSONCases(t *testing.T) {
	t.Parallel()
	deep := func(n int, open, close string) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	cases := []struct {
		name string
		in   string
	}{
		{"empty", ""}, {"space only", " \t\r\n"}, {"object", `{}`}, {"array", `[]`}, {"spaced", " \t\n{ \"a\" : [ 1 , 2 ] }\r\n"},
		{"nested", `{"a":{"b":[{"c":null},[true,false]],"d":""}}`},
		{"string", `"x"`}, {"escapes", `"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00 \uABCD"`},
		{"raw control", "\"a\x01b\""}, {"raw tab", "\"a\tb\""}, {"raw del", "\"a\x7fb\""},
		{"invalid utf8", "\"\xff\xfe\xed\xa0\x80\""}, {"utf8", `"中文😀"`},
		{"bad escape", `"\x"`}, {"short unicode", `"\u12"`}, {"bad hex", `"\u12g4"`}, {"escape at end", `"\`}, {"unicode at end", `"\u00`},
		{"unterminated", `"abc`}, {"unterminated long", `"abcdefghijklmnopqrstuvwxyz`}, {"quote after 8", `"abcdefgh"`},
		{"numbers", `[0,-0,1,-1,12.5,1e10,1E+2,1e-2,-0.0e0,123456789012345678901234567890]`},
		{"leading zero", `01`}, {"minus only", `-`}, {"dot end", `1.`}, {"dot start", `.5`}, {"exp end", `1e`}, {"exp sign end", `1e+`},
		{"plus", `+1`}, {"hex", `0x1`}, {"nan", `NaN`}, {"minus space", `- 1`},
		{"literals", `[true,false,null]`}, {"short literal", `tru`}, {"literal tail", `truex`}, {"capital", `True`}, {"nul", `nul`},
		{"trailing comma array", `[1,]`}, {"trailing comma object", `{"a":1,}`}, {"leading comma", `[,1]`}, {"missing comma", `[1 2]`},
		{"missing colon", `{"a" 1}`}, {"missing value", `{"a":}`}, {"number key", `{1:2}`}, {"bare key", `{a:1}`},
		{"mismatched", `[}`}, {"mismatched 2", `{"a":1]`}, {"unclosed", `[1,[2]`}, {"extra close", `[1]]`}, {"two values", `1 2`}, {"two objects", `{}{}`},
		{"not json", "{not json"}, {"comma only", `,`}, {"colon only", `:`},
		{"depth 10000", deep(10000, "[", "]")}, {"depth 10001", deep(10001, "[", "]")},
		{"object depth 10000", strings.Repeat(`{"a":`, 9999) + `{}` + strings.Repeat("}", 9999)},
		{"object depth 10001", strings.Repeat(`{"a":`, 10000) + `{}` + strings.Repeat("}", 10000)},
		{"depth 100 then value", deep(100, "[", "]") + " x"},
		{"record", string(sampleRecord(50))}, {"record truncated", string(sampleRecord(5)[:200])},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, want := validJSON([]byte(tt.in)), json.Valid([]byte(tt.in)); got != want {
				t.Errorf("validJSON(%.80q) = %v, json.Valid says %v", tt.in, got, want)
			}
		})
	}
}

// TestValidJSONMutations compares with json.Valid on every prefix of a
// record and on records with random bytes changed, removed or inserted.
func TestValidJSONMutations(t *testing.T) {
	t.Parallel()
	rec := sampleRecord(8)
	for n := range len(rec) + 1 {
		if got, want := validJSON(rec[:n]), json.Valid(rec[:n]); got != want {
			t.Fatalf("prefix %d %q: validJSON %v, json.Valid %v", n, rec[:n], got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[]\",:\\/ \t\n0123456789.-+eEtrufalsn\x00\x1f\x7f\xff")
	for range 20000 {
		m := append([]byte(nil), rec...)
		for range 1 + r.IntN(3) {
			i := r.IntN(len(m))
			c := alphabet[r.IntN(len(alphabet))]
			switch r.IntN(3) {
			case 0:
				m[i] = c
			case 1:
				m = append(m[:i], m[i+1:]...)
			default:
				m = append(m[:i], append([]byte{c}, m[i:]...)...)
			}
		}
		if got, want := validJSON(m), json.Valid(m); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", m, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{``, `{}`, `[1,2]`, `{"a":"\u00e9"}`, `"\"`, `-0.5e+3`, `[tru]`, "\"\x1f\"", `{"a":1,}`, string(sampleRecord(2))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", data, got, want)
		}
	})
}

// BenchmarkValidJSON checks a record with 1,000 candidates, as Commit
// does, with validJSON and with json.Valid.
func BenchmarkValidJSON(b *testing.B) {
	rec := sampleRecord(1000)
	for _, v := range []struct {
		name  string
		valid func([]byte) bool
	}{{"validJSON", validJSON}, {"json.Valid", json.Valid}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			for b.Loop() {
				if !v.valid(rec) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
