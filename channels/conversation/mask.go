package conversation

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaskPhone hides the middle of a phone number for logs: "+85291234567"
// becomes "+852****4567". Numbers of 8 characters or fewer keep only their
// last two digits.
func MaskPhone(s string) string {
	n := len(s)
	switch {
	case n == 0:
		return ""
	case n <= 8:
		return strings.Repeat("*", n-min(n, 2)) + s[n-min(n, 2):]
	default:
		return s[:4] + strings.Repeat("*", n-8) + s[n-4:]
	}
}

// MaskOpaque hides the middle of an opaque identifier (WeChat openid, app
// user id, SIP URI) for logs: "oJlus55nABCDEF" becomes "oJl…EF". Values of
// 6 runes or fewer become "…".
func MaskOpaque(s string) string {
	if utf8.RuneCountInString(s) <= 6 {
		if s == "" {
			return ""
		}
		return "…"
	}
	r := []rune(s)
	return string(r[:3]) + "…" + string(r[len(r)-2:])
}

// MaskText replaces a message body with its length for logs: "[text 12
// runes]". Bodies are personal data and never logged in clear.
func MaskText(s string) string {
	return fmt.Sprintf("[text %d runes]", utf8.RuneCountInString(s))
}

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}
