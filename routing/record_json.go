package routing

import (
	"fmt"
	"slices"
	"time"
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
	if len(d.Also) > 0 {
		dst = append(dst, `,"also":[`...)
		for i := range d.Also {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = d.Also[i].appendJSON(dst)
		}
		dst = append(dst, ']')
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
	for i := range d.Also {
		if err := check("also expires_at", d.Also[i].ExpiresAt); err != nil {
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
	for i := range d.Also {
		n += 210 + len(d.Also[i].RMID) + len(d.Also[i].CursorKey)
	}
	if d.Reserved != nil {
		n += 100 + len(d.Reserved.RMID)
	}
	if d.Transfer != nil {
		n += 140 + len(d.Transfer.Team) + len(d.Transfer.By) + len(d.Transfer.State)
	}
	for i := range d.Candidates {
		c := &d.Candidates[i]
		n += 72 + len(c.RMID) + len(c.Presence) + int(recordTables.setLens[c.Failed&knownFilters])
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
