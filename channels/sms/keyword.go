package sms

import (
	"strings"
	"unicode"
)

// Keyword is what an inbound text asks of the suppression list.
type Keyword int

// Keywords.
const (
	// KeywordNone: an ordinary message.
	KeywordNone Keyword = iota
	// KeywordOptOut: STOP, UNSUBSCRIBE, CANCEL, END, QUIT, TD or 退订.
	KeywordOptOut
	// KeywordOptIn: START.
	KeywordOptIn
)

// Event names the conversation.Incoming event a keyword becomes: "opt_out",
// "opt_in", or "" for KeywordNone.
func (k Keyword) Event() string {
	switch k {
	case KeywordOptOut:
		return EventOptOut
	case KeywordOptIn:
		return EventOptIn
	}
	return ""
}

// Event names given to the Sink (conversation.Incoming.Event).
const (
	EventOptOut = "opt_out"
	EventOptIn  = "opt_in"
)

// keywords maps each normalised keyword to what it asks. The English
// words are the opt-out and opt-in keywords carriers and aggregators
// honour (CTIA Messaging Principles and Best Practices §5.1.2; Twilio's
// default opt-out keywords); TD ("退订" by its pinyin initials) and 退订 are
// what Chinese carriers and MIIT rules expect.
var keywords = map[string]Keyword{
	"STOP":        KeywordOptOut,
	"UNSUBSCRIBE": KeywordOptOut,
	"CANCEL":      KeywordOptOut,
	"END":         KeywordOptOut,
	"QUIT":        KeywordOptOut,
	"TD":          KeywordOptOut,
	"退订":          KeywordOptOut,
	"START":       KeywordOptIn,
}

// DetectKeyword reports whether text, as a whole message, is an opt-out or
// opt-in keyword. Case does not matter, nor does white space around it
// (including the ideographic space U+3000), and full-width Latin letters
// ("ＳＴＯＰ", as Chinese input methods type them) count as their ASCII
// forms. A keyword inside a longer message ("please stop calling", "stop
// it") is not one.
func DetectKeyword(text string) Keyword {
	t := strings.TrimFunc(text, unicode.IsSpace)
	if t == "" || len(t) > 32 {
		return KeywordNone
	}
	t = strings.Map(func(r rune) rune {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII forms
			r -= 0xFEE0
		}
		return unicode.ToUpper(r)
	}, t)
	return keywords[t]
}
