package state

import (
	"encoding/binary"
	"math/bits"
)

// maxJSONDepth is encoding/json's limit on nested arrays and objects; a
// deeper value is invalid for json.Valid, and so for validJSON.
const maxJSONDepth = 10000

// validJSON reports whether data is one JSON value (RFC 8259 §2) with
// optional whitespace around it. It accepts exactly what json.Valid
// accepts — strings may hold any byte from 0x20 up, invalid UTF-8
// included; at most maxJSONDepth nested arrays and objects — in one pass
// over data, without allocating below 64 levels of nesting. It is
// Commit's check of a decision record given as JSON: about three times
// faster than json.Valid on routing records (mostly short strings and
// small numbers), strings scanned eight bytes at a time.
func validJSON(data []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var stackBuf [64]byte
	stack := stackBuf[:0] // '{' or '[' per open container, innermost last
	key := false          // a member's key, not a value, starts at i
	i := skipJSONSpace(data, 0)
	for {
		if i >= len(data) {
			return false
		}
		c := data[i]
		switch {
		case c == '"':
			// A string: eight plain bytes at a time up to the first quote,
			// backslash or control byte (the lowest flagged byte is exact;
			// a borrow only flags bytes above a flagged one).
			i++
			closed := false
			for i+8 <= len(data) {
				w := binary.LittleEndian.Uint64(data[i:])
				quote, backslash := w^(ones*'"'), w^(ones*'\\')
				m := ((w - ones*0x20) &^ w) | ((quote - ones) &^ quote) | ((backslash - ones) &^ backslash)
				if m &= highs; m != 0 {
					k := bits.TrailingZeros64(m) / 8
					i += k
					if closed = byte(w>>(8*k)) == '"'; closed {
						i++
					}
					break
				}
				i += 8
			}
			if !closed {
				if i = jsonStringTail(data, i); i < 0 {
					return false
				}
			}
			if key {
				i = skipJSONSpace(data, i)
				if i >= len(data) || data[i] != ':' {
					return false
				}
				i = skipJSONSpace(data, i+1)
				key = false
				continue
			}
		case key:
			return false
		case c == '{' || c == '[':
			if len(stack) == maxJSONDepth {
				return false
			}
			i = skipJSONSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '}' or ']'
				i++
				break
			}
			stack = append(stack, c)
			key = c == '{'
			continue
		case '1' <= c && c <= '9':
			// An integer, the common number, without a call.
			i = jsonDigits(data, i+1)
			if i < len(data) && (data[i] == '.' || data[i] == 'e' || data[i] == 'E') {
				if i = jsonFraction(data, i); i < 0 {
					return false
				}
			}
		case c == '0' || c == '-':
			if i = jsonNumber(data, i); i < 0 {
				return false
			}
		case c == 't':
			if i = jsonLiteral(data, i, "true"); i < 0 {
				return false
			}
		case c == 'f':
			if i = jsonLiteral(data, i, "false"); i < 0 {
				return false
			}
		case c == 'n':
			if i = jsonLiteral(data, i, "null"); i < 0 {
				return false
			}
		default:
			return false
		}
		// A value ended at i: close containers until one continues.
		for {
			i = skipJSONSpace(data, i)
			if len(stack) == 0 {
				return i == len(data)
			}
			if i >= len(data) {
				return false
			}
			open := stack[len(stack)-1]
			if data[i] == ',' {
				i = skipJSONSpace(data, i+1)
				key = open == '{'
				break
			}
			if data[i] != open+2 {
				return false
			}
			stack = stack[:len(stack)-1]
			i++
		}
	}
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON whitespace (space, tab, line feed, carriage return).
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonStringTail checks the rest of a string from data[i] on, and returns
// the index after its closing quote, or -1.
func jsonStringTail(data []byte, i int) int {
	for {
		for i < len(data) && data[i] >= 0x20 && data[i] != '"' && data[i] != '\\' {
			i++
		}
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(data) {
				return -1
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) {
					return -1
				}
				for _, h := range data[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				i += 6
			default:
				return -1
			}
		default: // a control byte
			return -1
		}
	}
}

// jsonNumber checks the number starting at data[i] (RFC 8259 §6:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) and returns the index
// after it, or -1.
func jsonNumber(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return -1
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		i = jsonDigits(data, i+1)
	default:
		return -1
	}
	return jsonFraction(data, i)
}

// jsonFraction checks the optional fraction and exponent of a number at
// data[i], after its integer part, and returns the index after them, or -1.
func jsonFraction(data []byte, i int) int {
	if i < len(data) && data[i] == '.' {
		j := jsonDigits(data, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := jsonDigits(data, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// jsonDigits returns the index of the first byte at or after i that is
// not a decimal digit.
func jsonDigits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// jsonLiteral checks that lit (true, false or null) starts at data[i] and
// returns the index after it, or -1.
func jsonLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
