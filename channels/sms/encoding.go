package sms

import (
	"fmt"
	"unicode/utf16"
)

// Encoding is the character set an SMS is sent in.
type Encoding string

// Encodings, as 3GPP TS 23.038 §4 names them.
const (
	// GSM7 is the GSM 7-bit default alphabet with its extension table
	// (3GPP TS 23.038 §6.2.1); one septet per character, two for the
	// characters of the extension table (an escape and the character).
	GSM7 Encoding = "GSM-7"
	// UCS2 is 16-bit UCS-2 (sent as UTF-16BE, so characters outside the
	// Basic Multilingual Plane take two code units, a surrogate pair).
	UCS2 Encoding = "UCS-2"
)

// Limits of one SMS and of one part of a concatenated SMS, in septets
// (GSM-7) or UTF-16 code units (UCS-2): 140 octets of user data, less the
// 6-octet concatenation header (3GPP TS 23.040 §9.2.3.24.1) in each part.
const (
	GSM7Single = 160
	GSM7Part   = 153
	UCS2Single = 70
	UCS2Part   = 67
	// MaxParts is the most parts an 8-bit concatenation reference can
	// number (3GPP TS 23.040 §9.2.3.24.1: 1 to 255).
	MaxParts = 255
)

// DataCoding returns the SMPP 3.4 data_coding value of e (SMPP 3.4
// §5.2.19): 0x00 (SMSC default alphabet, GSM-7) or 0x08 (UCS-2).
func (e Encoding) DataCoding() byte {
	if e == UCS2 {
		return 0x08
	}
	return 0x00
}

// single and part return the units that fit in one SMS and in one part.
func (e Encoding) single() int {
	if e == UCS2 {
		return UCS2Single
	}
	return GSM7Single
}

func (e Encoding) part() int {
	if e == UCS2 {
		return UCS2Part
	}
	return GSM7Part
}

// gsm7Basic is the GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1),
// indexed by septet value; index 0x1B is the escape to the extension table.
var gsm7Basic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 0x1B, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm7Extension maps the characters of the extension table (3GPP TS
// 23.038 §6.2.1.1) to the septet that follows the escape.
var gsm7Extension = map[rune]byte{
	'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F,
	'[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65,
}

// gsm7Index maps each character of the default alphabet to its septet.
var gsm7Index = func() map[rune]byte {
	m := make(map[rune]byte, len(gsm7Basic))
	for i, r := range gsm7Basic {
		if i != 0x1B {
			m[r] = byte(i)
		}
	}
	return m
}()

// Septets returns how many GSM-7 septets r takes: 1 for the default
// alphabet, 2 for the extension table (escape + character), 0 when r
// cannot be written in GSM-7 (and the message must go as UCS-2).
func Septets(r rune) int {
	if _, ok := gsm7Index[r]; ok {
		return 1
	}
	if _, ok := gsm7Extension[r]; ok {
		return 2
	}
	return 0
}

// Choose returns GSM7 when every character of text is in the GSM 7-bit
// default alphabet or its extension table, else UCS2 (as soon as one
// character is outside it: any Chinese character, an emoji, "ç").
func Choose(text string) Encoding {
	for _, r := range text {
		if Septets(r) == 0 {
			return UCS2
		}
	}
	return GSM7
}

// Units returns the length of text in enc: septets for GSM7 (extension
// characters count 2), UTF-16 code units for UCS2 (a character outside the
// Basic Multilingual Plane counts 2).
func Units(text string, enc Encoding) int {
	n := 0
	for _, r := range text {
		n += runeUnits(r, enc)
	}
	return n
}

func runeUnits(r rune, enc Encoding) int {
	if enc == GSM7 {
		return Septets(r)
	}
	return utf16.RuneLen(r)
}

// Encode returns text as the octets of an SMS user data in enc: GSM7
// unpacked, one septet per octet with the extension characters as 0x1B and
// their code (the form SMPP carries with data_coding 0, SMPP 3.4 §5.2.19),
// or UCS2 as UTF-16BE. A character GSM7 cannot hold is an error wrapping
// ErrInvalidMessage.
func Encode(text string, enc Encoding) ([]byte, error) {
	out := make([]byte, 0, len(text)*2)
	if enc == UCS2 {
		for _, u := range utf16.Encode([]rune(text)) {
			out = append(out, byte(u>>8), byte(u))
		}
		return out, nil
	}
	for _, r := range text {
		if b, ok := gsm7Index[r]; ok {
			out = append(out, b)
			continue
		}
		if b, ok := gsm7Extension[r]; ok {
			out = append(out, 0x1B, b)
			continue
		}
		return nil, fmt.Errorf("encode %U as GSM-7: %w: not in the default alphabet or its extension table", r, ErrInvalidMessage)
	}
	return out, nil
}

// Decode is the inverse of Encode: data as GSM7 unpacked septets (an
// escape followed by a code missing from the extension table reads as the
// code's default-alphabet character, 3GPP TS 23.038 §6.2.1.1; a trailing
// escape is dropped) or as UCS2 UTF-16BE (an odd trailing octet is an
// error). Octets above 0x7F in GSM7 are an error wrapping
// ErrInvalidMessage.
func Decode(data []byte, enc Encoding) (string, error) {
	if enc == UCS2 {
		if len(data)%2 != 0 {
			return "", fmt.Errorf("decode UCS-2: %w: odd length %d", ErrInvalidMessage, len(data))
		}
		units := make([]uint16, len(data)/2)
		for i := range units {
			units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
		}
		return string(utf16.Decode(units)), nil
	}
	out := make([]rune, 0, len(data))
	for i := 0; i < len(data); i++ {
		b := data[i]
		if b > 0x7F {
			return "", fmt.Errorf("decode GSM-7: %w: octet %#x at %d is not a septet", ErrInvalidMessage, b, i)
		}
		if b != 0x1B {
			out = append(out, gsm7Basic[b])
			continue
		}
		if i+1 == len(data) {
			break
		}
		i++
		r, ok := gsm7Reverse[data[i]]
		if !ok {
			r = gsm7Basic[data[i]&0x7F]
		}
		out = append(out, r)
	}
	return string(out), nil
}

// gsm7Reverse maps a septet after the escape to its extension character.
var gsm7Reverse = func() map[byte]rune {
	m := make(map[byte]rune, len(gsm7Extension))
	for r, b := range gsm7Extension {
		m[b] = r
	}
	return m
}()
