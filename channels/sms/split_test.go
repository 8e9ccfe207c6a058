package sms

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/airbranch/airbranch/channels/conversation"
)

// digits returns n characters of "1234567890" repeated.
func digits(n int) string {
	return strings.Repeat("1234567890", n/10+1)[:n]
}

// The cases mirror the published expectations of Twilio's message segment
// calculator tests (TwilioDevEd/message-segment-calculator @ 30cb8490,
// tests/index.test.js, MIT) and gosmpp's split tests (linxGnu/gosmpp @
// 1c3b3e55, data/codings_test.go, Apache-2.0), with bodies written here.
func TestCount(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		enc      Encoding
		units    int
		segments int
	}{
		{"empty", "", GSM7, 0, 0},
		{"one char", "1", GSM7, 1, 1},
		{"GSM-7 160 in one", digits(160), GSM7, 160, 1},
		{"GSM-7 161 in two", digits(161), GSM7, 161, 2},
		{"GSM-7 306 in two", digits(306), GSM7, 306, 2},
		{"GSM-7 307 in three", digits(307), GSM7, 307, 3},
		{"basic alphabet specials", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", GSM7, 42, 1},
		{"escape | + 158 in one", "|" + digits(158), GSM7, 160, 1},
		{"escape | + 159 in two", "|" + digits(159), GSM7, 161, 2},
		{"escape ^ + 159 in two", "^" + digits(159), GSM7, 161, 2},
		{"escape € + 158 in one", "€" + digits(158), GSM7, 160, 1},
		{"escape € + 159 in two", "€" + digits(159), GSM7, 161, 2},
		{"escape { } [ ] ~ \\ count twice", "{}[]~\\" + digits(148), GSM7, 160, 1},
		{"159 basic + { splits", digits(159) + "{", GSM7, 161, 2},
		{"80 escape chars fit", strings.Repeat("€", 80), GSM7, 160, 1},
		{"81 escape chars split", strings.Repeat("€", 81), GSM7, 162, 2},
		{"UCS-2 emoji + 68 in one", "😜" + digits(68), UCS2, 70, 1},
		{"UCS-2 emoji + 69 in two", "😜" + digits(69), UCS2, 71, 2},
		{"UCS-2 emoji + 133 in three", "😜" + digits(133), UCS2, 135, 3},
		{"flag (two surrogate pairs) + 66 in one", "🇮🇹" + digits(66), UCS2, 70, 1},
		{"flag + 67 in two", "🇮🇹" + digits(67), UCS2, 71, 2},
		{"ZWJ rainbow flag + 64 in one", "🏳️‍🌈" + digits(64), UCS2, 70, 1},
		{"ZWJ rainbow flag + 65 in two", "🏳️‍🌈" + digits(65), UCS2, 71, 2},
		{"extension chars count once in UCS-2", "😀" + strings.Repeat("]", 68), UCS2, 70, 1},
		{"extension chars in UCS-2, one more", "😀" + strings.Repeat("]", 69), UCS2, 71, 2},
		{"70 ç in one (ç is not GSM-7)", strings.Repeat("ç", 70), UCS2, 70, 1},
		{"71 Á in two", strings.Repeat("Á", 71), UCS2, 71, 2},
		{"Chinese 70 in one", strings.Repeat("您", 70), UCS2, 70, 1},
		{"Chinese 71 in two", strings.Repeat("您", 71), UCS2, 71, 2},
		{"Chinese 134 in two", strings.Repeat("您", 134), UCS2, 134, 2},
		{"Chinese 135 in three", strings.Repeat("您", 135), UCS2, 135, 3},
		{"one Chinese char makes all UCS-2", digits(100) + "好", UCS2, 101, 2},
		{"Cyrillic is UCS-2", "Ая", UCS2, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Count(tt.text)
			if p.Encoding != tt.enc || p.Units != tt.units || p.Segments != tt.segments {
				t.Fatalf("Count = %+v, want encoding %s, units %d, segments %d", p, tt.enc, tt.units, tt.segments)
			}
			enc, parts, err := Split(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if enc != tt.enc || len(parts) != tt.segments {
				t.Fatalf("Split = %s, %d parts; want %s, %d", enc, len(parts), tt.enc, tt.segments)
			}
			if got := strings.Join(parts, ""); got != tt.text {
				t.Fatalf("parts do not join back to the text")
			}
			limit := enc.single()
			if len(parts) > 1 {
				limit = enc.part()
			}
			used := 0
			for i, part := range parts {
				if !utf8.ValidString(part) {
					t.Fatalf("part %d is not valid UTF-8 (a character was cut)", i)
				}
				used = Units(part, enc)
				if used > limit {
					t.Fatalf("part %d has %d units, limit %d", i, used, limit)
				}
			}
			if tt.segments > 0 && p.Remaining != limit-used {
				t.Fatalf("Remaining = %d, want %d", p.Remaining, limit-used)
			}
		})
	}
}

func TestSplitNeverCutsPairs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []int // units per part
	}{
		// 152 digits then "€": the escape pair would straddle 153, so it
		// starts the second part.
		{"escape pair at the boundary", digits(152) + "€" + digits(10), []int{152, 12}},
		// 66 units then an emoji (a surrogate pair) would straddle 67.
		{"surrogate pair at the boundary", "好" + digits(65) + "😀" + digits(10), []int{66, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, parts, err := Split(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != len(tt.want) {
				t.Fatalf("%d parts, want %d", len(parts), len(tt.want))
			}
			for i, part := range parts {
				if got := Units(part, enc); got != tt.want[i] {
					t.Errorf("part %d: %d units, want %d", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestSplitTooLong(t *testing.T) {
	_, _, err := Split(strings.Repeat("好", UCS2Part*MaxParts+1))
	if !errors.Is(err, ErrTooLong) || !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("err = %v, want ErrTooLong wrapping ErrInvalid", err)
	}
	if _, parts, err := Split(strings.Repeat("好", UCS2Part*MaxParts)); err != nil || len(parts) != MaxParts {
		t.Fatalf("255 full parts: %d parts, %v", len(parts), err)
	}
}

// The GSM-7 vectors follow python-smpplib's test_gsm.py expectations ("@"
// is septet 0x00, "^" is escape 0x1B then 0x14) and gosmpp's packing test
// text; the UCS-2 one is "Ая" as UTF-16BE.
func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		text string
		enc  Encoding
		hex  string
	}{
		{"at sign", "@", GSM7, "00"},
		{"caret via escape", "^", GSM7, "1b14"},
		{"euro via escape", "€", GSM7, "1b65"},
		{"mixed", "gjwklgjkwP123+?", GSM7, "676a776b6c676a6b7750313233 2b3f"},
		{"cyrillic UCS-2", "Ая", UCS2, "0410044f"},
		{"surrogate pair", "😀", UCS2, "d83dde00"},
		{"chinese", "退订", UCS2, "90008ba2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := hex.DecodeString(strings.ReplaceAll(tt.hex, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Encode(tt.text, tt.enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode(%q) = %x, want %x", tt.text, got, want)
			}
		})
	}
	if _, err := Encode("好", GSM7); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("Encode(好, GSM7) err = %v, want ErrInvalidMessage", err)
	}
}

func TestDataCoding(t *testing.T) {
	if GSM7.DataCoding() != 0x00 || UCS2.DataCoding() != 0x08 {
		t.Fatalf("data_coding GSM-7 %#x, UCS-2 %#x", GSM7.DataCoding(), UCS2.DataCoding())
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, text := range []string{"", "@£$¥ hello {world} [~] \\ | ^ €", digits(200), "您好，我想查詢餘額😀", "Ая"} {
		enc := Choose(text)
		data, err := Encode(text, enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(data, enc)
		if err != nil || got != text {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", text, got, err)
		}
	}
	for _, tc := range []struct {
		data []byte
		enc  Encoding
		want string
		ok   bool
	}{
		{[]byte{0x1B}, GSM7, "", true},
		{[]byte{0x41, 0x1B, 0x41}, GSM7, "AA", true},
		{[]byte{0x80}, GSM7, "", false},
		{[]byte{0x00, 0x41, 0x00}, UCS2, "", false},
	} {
		got, err := Decode(tc.data, tc.enc)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Decode(%x, %s) = %q, %v", tc.data, tc.enc, got, err)
		}
	}
}
