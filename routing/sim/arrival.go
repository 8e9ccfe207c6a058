package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Limits of an arrival's values.
const (
	// MaxDuration bounds handle_time and patience.
	MaxDuration = 24 * time.Hour
	// MaxOffset bounds at: arrivals within two days of the start.
	MaxOffset = 48 * time.Hour
	// MaxPriority bounds the absolute value of priority.
	MaxPriority = 1000
)

// Arrival is one conversation entering the queue in a simulation. As JSON
// (one object per line of a .jsonl file):
//
//	{"at":"09:00:05","segment":"mass","channel":"voice","language":"yue",
//	 "intent":"cards","skills":{"cards":2},"handle_time":240,"patience":90,
//	 "customer":"cus-pb-0001","priority":0}
//
// at is the offset from the start of the simulated day (Options.Day), as
// "HH:MM:SS" (hours may pass 24, a fraction of a second may follow:
// "09:00:05.250") or as a number of seconds; handle_time and patience are
// seconds. segment is optional when customer names a directory customer
// (the customer's segment applies). Every other field but at, channel and
// handle_time is optional; an unknown field is an error.
type Arrival struct {
	// ID names the conversation in the report; "" numbers it by position
	// ("arr-000001" for the first line).
	ID string
	// At is when the conversation is queued, from the start of the day.
	At       time.Duration
	Segment  conversation.Segment
	Channel  conversation.Channel
	Language string
	Intent   string
	// Skills are required of the RM: skill name to minimum level (1..5).
	Skills map[string]int
	// HandleTime is how long the RM serves the client once they accept
	// (talk or chat time, wrap-up not included).
	HandleTime time.Duration
	// Patience is how long the client waits for an RM to accept before
	// abandoning; 0 means they never abandon (typical of messaging).
	Patience time.Duration
	// Customer is a directory customer (own RM, deputy, verification,
	// preferred language); "" for a client routing knows only by segment,
	// verified at level basic.
	Customer conversation.CustomerID
	// Priority is added to the segment's queue priority.
	Priority int
	// Line is the 1-based line of the arrival in its file, 0 when it did
	// not come from one; errors name it.
	Line int
}

// arrivalJSON is the wire form of an Arrival.
type arrivalJSON struct {
	ID         string                  `json:"id,omitempty"`
	At         json.RawMessage         `json:"at"`
	Segment    conversation.Segment    `json:"segment,omitempty"`
	Channel    conversation.Channel    `json:"channel"`
	Language   string                  `json:"language,omitempty"`
	Intent     string                  `json:"intent,omitempty"`
	Skills     map[string]int          `json:"skills,omitempty"`
	HandleTime float64                 `json:"handle_time"`
	Patience   float64                 `json:"patience,omitempty"`
	Customer   conversation.CustomerID `json:"customer,omitempty"`
	Priority   int                     `json:"priority,omitempty"`
}

// MarshalJSON writes the arrival in the format ReadArrivals reads, with at
// as "HH:MM:SS" (plus ".mmm" when it has milliseconds) and durations in
// seconds.
func (a Arrival) MarshalJSON() ([]byte, error) {
	at, err := json.Marshal(formatOffset(a.At))
	if err != nil {
		return nil, err
	}
	return json.Marshal(arrivalJSON{
		ID: a.ID, At: at, Segment: a.Segment, Channel: a.Channel, Language: a.Language, Intent: a.Intent,
		Skills: a.Skills, HandleTime: a.HandleTime.Seconds(), Patience: a.Patience.Seconds(),
		Customer: a.Customer, Priority: a.Priority,
	})
}

// UnmarshalJSON reads one arrival strictly (see ParseArrival).
func (a *Arrival) UnmarshalJSON(b []byte) error {
	got, err := ParseArrival(b)
	if err != nil {
		return err
	}
	*a = got
	return nil
}

// ParseArrival reads one JSON arrival and validates it. Unknown fields,
// values of the wrong type and values out of range give an error wrapping
// ErrInvalidArrival that starts with the field's name, e.g. "handle_time:
// -5 (allowed: more than 0 seconds, at most 24h)".
func ParseArrival(b []byte) (Arrival, error) {
	var w arrivalJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Arrival{}, fmt.Errorf("%s: %w", describeJSONError(err), ErrInvalidArrival)
	}
	if dec.More() {
		return Arrival{}, fmt.Errorf("more than one JSON value on the line (allowed: one object per line): %w", ErrInvalidArrival)
	}
	if len(w.At) == 0 {
		return Arrival{}, fmt.Errorf("at: missing (allowed: \"HH:MM:SS\" or seconds from the start of the day): %w", ErrInvalidArrival)
	}
	at, err := parseOffset(w.At)
	if err != nil {
		return Arrival{}, fmt.Errorf("at: %v: %w", err, ErrInvalidArrival)
	}
	a := Arrival{
		ID: w.ID, At: at, Segment: w.Segment, Channel: w.Channel, Language: w.Language, Intent: w.Intent,
		Skills: w.Skills, HandleTime: seconds(w.HandleTime), Patience: seconds(w.Patience),
		Customer: w.Customer, Priority: w.Priority,
	}
	if err := validateRanges(w); err != nil {
		return Arrival{}, err
	}
	return a, a.Validate()
}

// validateRanges checks the numbers before they become durations.
func validateRanges(w arrivalJSON) error {
	if !(w.HandleTime > 0 && w.HandleTime <= MaxDuration.Seconds()) {
		return fmt.Errorf("handle_time: %v (allowed: more than 0 seconds, at most %v): %w", w.HandleTime, MaxDuration, ErrInvalidArrival)
	}
	if !(w.Patience >= 0 && w.Patience <= MaxDuration.Seconds()) {
		return fmt.Errorf("patience: %v (allowed: 0 for never, or seconds up to %v): %w", w.Patience, MaxDuration, ErrInvalidArrival)
	}
	return nil
}

var (
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}$`)
	namePattern     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Validate checks the arrival's values; the error wraps ErrInvalidArrival
// and starts with the field's name.
func (a Arrival) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalidArrival)
	}
	switch {
	case a.At < 0 || a.At > MaxOffset:
		return bad("at", "%v (allowed: 0 to %v from the start of the day)", a.At, MaxOffset)
	case a.Segment == "" && a.Customer == "":
		return bad("segment", "missing (allowed: %v; optional only with a customer)", conversation.Segments)
	case a.Segment != "" && !a.Segment.Valid():
		return bad("segment", "%q (allowed: %v)", a.Segment, conversation.Segments)
	case !a.Channel.Valid():
		return bad("channel", "%q (allowed: %v)", a.Channel, conversation.Channels)
	case a.Language != "" && !languagePattern.MatchString(a.Language):
		return bad("language", "%q (allowed: a BCP 47 language code such as en, zh, yue)", a.Language)
	case a.HandleTime <= 0 || a.HandleTime > MaxDuration:
		return bad("handle_time", "%v (allowed: more than 0 seconds, at most %v)", a.HandleTime, MaxDuration)
	case a.Patience < 0 || a.Patience > MaxDuration:
		return bad("patience", "%v (allowed: 0 for never, or up to %v)", a.Patience, MaxDuration)
	case a.Priority < -MaxPriority || a.Priority > MaxPriority:
		return bad("priority", "%d (allowed: -%d to %d)", a.Priority, MaxPriority, MaxPriority)
	}
	for _, s := range slices.Sorted(maps.Keys(a.Skills)) {
		if !namePattern.MatchString(s) {
			return bad("skills", "skill name %q (allowed: lower_snake_case such as wealth, mortgage)", s)
		}
		if lvl := a.Skills[s]; lvl < 1 || lvl > 5 {
			return bad("skills."+s, "level %d (allowed: 1 to 5)", lvl)
		}
	}
	return nil
}

// ReadArrivals reads JSON lines of arrivals from r (name names it in
// errors; blank lines are skipped) and returns them in file order, each
// with its Line. Every bad line is reported, joined, each as
// "NAME:LINE: FIELD: what is wrong (allowed: ...)" wrapping
// ErrInvalidArrival; reading stops after 20 bad lines. A read error is
// returned wrapped.
func ReadArrivals(r io.Reader, name string) ([]Arrival, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Arrival
	var errs []error
	line := 0
	ids := map[string]int{}
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		a, err := ParseArrival(text)
		if err == nil && a.ID != "" {
			if first, dup := ids[a.ID]; dup {
				err = fmt.Errorf("id: %q already used on line %d (allowed: unique ids): %w", a.ID, first, ErrInvalidArrival)
			}
			ids[a.ID] = line
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			if len(errs) == 20 {
				errs = append(errs, fmt.Errorf("%s: stopped after 20 bad lines: %w", name, ErrInvalidArrival))
				break
			}
			continue
		}
		a.Line = line
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sim: read %s: %w", name, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// WriteArrivals writes arrivals as JSON lines, one object per line, in the
// format ReadArrivals reads.
func WriteArrivals(w io.Writer, arrivals []Arrival) error {
	bw := bufio.NewWriter(w)
	for _, a := range arrivals {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("sim: write arrival %s: %w", a.ID, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sim: write arrivals: %w", err)
	}
	return nil
}

// describeJSONError names the field of a decoding error where it can.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%s: got %s (allowed: %s)", te.Field, te.Value, allowedType(te.Field))
	case errors.As(err, &se):
		return fmt.Sprintf("not JSON at byte %d: %v (allowed: one JSON object per line)", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fmt.Sprintf("%s: unknown field (allowed: id, at, segment, channel, language, intent, skills, handle_time, patience, customer, priority)", f)
	case errors.Is(err, io.EOF):
		return "empty (allowed: one JSON object per line)"
	}
	return fmt.Sprintf("%v (allowed: one JSON object per line)", err)
}

// allowedType says what a field accepts, for type errors.
func allowedType(field string) string {
	switch field {
	case "handle_time", "patience":
		return "a number of seconds"
	case "priority":
		return "an integer"
	case "skills":
		return `an object of skill to level, such as {"wealth": 4}`
	}
	return "a string"
}

// parseOffset reads at: "HH:MM:SS[.fff]" or a number of seconds.
func parseOffset(raw json.RawMessage) (time.Duration, error) {
	const allowed = `(allowed: "HH:MM:SS" such as "09:00:05", or seconds from the start of the day)`
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return 0, fmt.Errorf("%s %s", raw, allowed)
		}
		if f < 0 || f > MaxOffset.Seconds() {
			return 0, fmt.Errorf("%v seconds (allowed: 0 to %v)", f, MaxOffset.Seconds())
		}
		return seconds(f), nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 || len(parts[1]) != 2 || len(parts[2]) < 2 {
		return 0, fmt.Errorf("%q %s", s, allowed)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil || h < 0 || m > 59 || sec < 0 || sec >= 60 || parts[2][0] == '+' {
		return 0, fmt.Errorf("%q %s", s, allowed)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + seconds(sec), nil
}

// formatOffset writes an offset as "HH:MM:SS", with ".mmm" when it has
// milliseconds.
func formatOffset(d time.Duration) string {
	d = d.Round(time.Millisecond)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	out := fmt.Sprintf("%02d:%02d:%02d", h, m, s)
	if ms := int(d/time.Millisecond) % 1000; ms != 0 {
		out += fmt.Sprintf(".%03d", ms)
	}
	return out
}

// seconds converts a number of seconds to a duration, rounded to the
// millisecond.
func seconds(f float64) time.Duration {
	return time.Duration(math.Round(f*1000)) * time.Millisecond
}
