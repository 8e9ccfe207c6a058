package sms

import (
	"fmt"
	"strings"
)

// Plan is what a desk shows before sending a text: the encoding it will
// go in, its length in that encoding and how many SMS it takes.
type Plan struct {
	Encoding Encoding `json:"encoding"`
	// Units is the text's length in septets (GSM-7; extension characters
	// count 2) or UTF-16 code units (UCS-2; characters outside the Basic
	// Multilingual Plane count 2).
	Units int `json:"units"`
	// Segments is the number of SMS sent: 1 up to 160 septets or 70 UCS-2
	// units, else the number of 153- or 67-unit parts Split makes (an
	// escape pair or a surrogate pair is never cut, so a part can hold one
	// unit less). 0 for an empty text.
	Segments int `json:"segments"`
	// PerSegment is the units one segment holds at this length: 160 or 70
	// for a single SMS, 153 or 67 for the parts of a longer one.
	PerSegment int `json:"per_segment"`
	// Remaining is how many units fit before another segment is needed.
	Remaining int `json:"remaining"`
}

// Count returns the Plan of text (3GPP TS 23.038 §6.2.1, TS 23.040
// §9.2.3.24.1).
func Count(text string) Plan {
	enc := Choose(text)
	p := Plan{Encoding: enc, Units: Units(text, enc)}
	switch {
	case text == "":
		p.PerSegment = enc.single()
		p.Remaining = p.PerSegment
	case p.Units <= enc.single():
		p.Segments = 1
		p.PerSegment = enc.single()
		p.Remaining = p.PerSegment - p.Units
	default:
		parts := splitUnits(text, enc)
		p.Segments = len(parts)
		p.PerSegment = enc.part()
		p.Remaining = enc.part() - Units(parts[len(parts)-1], enc)
	}
	return p
}

// Split returns the encoding of text and its parts, each one SMS: the
// whole text when it fits in one (160 septets, 70 UCS-2 units), else parts
// of at most 153 septets or 67 UCS-2 units, cut only between characters, so
// that neither a GSM-7 escape pair nor a UTF-16 surrogate pair is split.
// Joining the parts gives text back. An empty text has no parts; more than
// MaxParts parts is an error wrapping ErrTooLong.
func Split(text string) (Encoding, []string, error) {
	enc := Choose(text)
	if text == "" {
		return enc, nil, nil
	}
	if Units(text, enc) <= enc.single() {
		return enc, []string{text}, nil
	}
	parts := splitUnits(text, enc)
	if len(parts) > MaxParts {
		return enc, nil, fmt.Errorf("split: %d parts: %w (at most %d)", len(parts), ErrTooLong, MaxParts)
	}
	return enc, parts, nil
}

// splitUnits cuts text greedily into parts of at most enc.part() units.
func splitUnits(text string, enc Encoding) []string {
	limit := enc.part()
	var parts []string
	var b strings.Builder
	n := 0
	for _, r := range text {
		u := runeUnits(r, enc)
		if n+u > limit {
			parts = append(parts, b.String())
			b.Reset()
			n = 0
		}
		b.WriteRune(r)
		n += u
	}
	if b.Len() > 0 {
		parts = append(parts, b.String())
	}
	return parts
}
