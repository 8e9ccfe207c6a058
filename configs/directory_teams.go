package configs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// MaxIDLen is the longest team, RM or customer id, in bytes.
const MaxIDLen = 64

// Languages returns the BCP 47 language codes an RM may speak and a
// customer may prefer: en (English), zh (Mandarin / written Chinese), yue
// (Cantonese), and other languages a Hong Kong centre may staff.
func Languages() []string {
	return []string{"en", "zh", "yue", "ja", "ko", "hi", "id", "ms", "th", "vi", "tl", "fr", "de", "es", "pt"}
}

// weekdays are the day names of working hours, Monday first.
func weekdays() []string { return []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} }

// checkDirectory checks a decoded directory and records every problem.
func checkDirectory(f *DirectoryFile, v *collector) {
	teams := checkTeams(f.Teams, v)
	rms := checkRMs(f.RMs, teams, v)
	checkCustomers(f.Customers, rms, v)
}

// checkTeams checks every team and returns the index of each team id.
func checkTeams(teams []conversation.Team, v *collector) map[string]int {
	seen := map[string]int{}
	for i, t := range teams {
		p := fmt.Sprintf("teams[%d]", i)
		checkID(v, p, "team", string(t.ID), i, seen)
		if strings.TrimSpace(t.Name) == "" {
			v.invalid(p+".name", "team %s has no name (allowed: a display name such as \"Private Bank\")", t.ID)
		}
		switch t.Kind {
		case conversation.TeamSegment:
			if !t.Segment.Valid() {
				v.invalid(p+".segment", "segment team %s has segment %q (allowed: %s)", t.ID, t.Segment, segmentList())
			}
		case conversation.TeamSpecialist:
			if t.Segment != "" {
				v.invalid(p+".segment", "specialist pool %s has segment %q (allowed: no segment; specialists are invited into conversations of any segment)", t.ID, t.Segment)
			}
		default:
			v.invalid(p+".kind", "team %s has kind %q (allowed: segment, specialist)", t.ID, t.Kind)
		}
		checkTimeZone(v, p+".time_zone", t)
		for k, h := range t.Hours {
			checkHours(v, fmt.Sprintf("%s.hours[%d]", p, k), t.ID, h)
		}
		for k, d := range t.Holidays {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				v.invalid(fmt.Sprintf("%s.holidays[%d]", p, k), "team %s holiday %q is not a date (allowed: YYYY-MM-DD such as 2026-12-25)", t.ID, d)
			}
		}
		checkGroup(v, p+".group", "team "+string(t.ID), t.Group)
	}
	return seen
}

// checkTimeZone checks that a team's zone is an IANA zone that loads.
func checkTimeZone(v *collector, field string, t conversation.Team) {
	const allowed = "an IANA time zone such as Asia/Hong_Kong, Europe/London or UTC"
	switch t.TimeZone {
	case "":
		v.invalid(field, "team %s has no time zone (allowed: %s)", t.ID, allowed)
	case "Local":
		v.invalid(field, "team %s uses the machine's zone \"Local\" (allowed: %s)", t.ID, allowed)
	default:
		if _, err := time.LoadLocation(t.TimeZone); err != nil {
			v.invalid(field, "team %s time zone %q is unknown (allowed: %s)", t.ID, t.TimeZone, allowed)
		}
	}
}

// checkHours checks one opening window.
func checkHours(v *collector, field string, team conversation.TeamID, h conversation.WorkingHours) {
	if len(h.Days) == 0 {
		v.invalid(field+".days", "team %s opening hours name no day (allowed: a list of %s)", team, strings.Join(weekdays(), ", "))
	}
	seen := map[string]bool{}
	for k, d := range h.Days {
		switch {
		case !slices.Contains(weekdays(), d):
			v.invalid(fmt.Sprintf("%s.days[%d]", field, k), "team %s day %q is unknown (allowed: %s)", team, d, strings.Join(weekdays(), ", "))
		case seen[d]:
			v.invalid(fmt.Sprintf("%s.days[%d]", field, k), "team %s day %q is listed twice in one window (allowed: each day once)", team, d)
		}
		seen[d] = true
	}
	open, okOpen := clockMinutes(h.Open)
	if !okOpen || open == 24*60 {
		v.invalid(field+".open", "team %s opening time %q is not a time (allowed: \"HH:MM\" from 00:00 to 23:59)", team, h.Open)
	}
	closing, okClose := clockMinutes(h.Close)
	if !okClose {
		v.invalid(field+".close", "team %s closing time %q is not a time (allowed: \"HH:MM\" from 00:01 to 24:00)", team, h.Close)
	}
	if okOpen && okClose && closing <= open {
		v.invalid(field+".close", "team %s closes at %s, not after it opens at %s (allowed: a closing time after the opening time, 24:00 for midnight)", team, h.Close, h.Open)
	}
}

// clockMinutes reads "HH:MM" (24-hour clock, "24:00" allowed) as minutes
// after midnight.
func clockMinutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case h == 24 && m == 0:
		return 24 * 60, true
	case h > 23 || m > 59:
		return 0, false
	}
	return h*60 + m, true
}

// checkGroup checks a pilot group tag.
func checkGroup(v *collector, field, who string, g conversation.Group) {
	switch g {
	case conversation.GroupNone, conversation.GroupPilot, conversation.GroupControl:
	default:
		v.invalid(field, "%s has group %q (allowed: pilot, control, or empty)", who, g)
	}
}

// checkID checks the id of list entry i at path p ("teams[2]") and records
// it in seen when it is the first of its kind.
func checkID(v *collector, p, what, id string, i int, seen map[string]int) {
	field := p + ".id"
	switch {
	case id == "":
		v.invalid(field, "%s has no id (allowed: 1 to %d letters, digits, \".\", \"_\", \"-\")", what, MaxIDLen)
	case !validID(id):
		v.invalid(field, "%s id %q is not allowed (allowed: 1 to %d letters, digits, \".\", \"_\", \"-\")", what, id, MaxIDLen)
	default:
		if j, dup := seen[id]; dup {
			other := fmt.Sprintf("%s[%d]", p[:strings.IndexByte(p, '[')], j)
			v.invalid(field, "%s id %q is already used by %s%s (allowed: unique ids)", what, id, other, v.lineNote(other+".id"))
			return
		}
		seen[id] = i
	}
}

// validID reports whether id is 1 to MaxIDLen letters, digits, ".", "_" or
// "-": safe in Redis keys, URLs and logs.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// validName reports whether s is lower_snake_case: a lower-case letter,
// then lower-case letters, digits or "_" (skill and licence names).
func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func segmentList() string {
	names := make([]string, len(conversation.Segments))
	for i, s := range conversation.Segments {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// knownList lists the keys of an id index, sorted, for "allowed" messages;
// long lists are cut after 12.
func knownList(ids map[string]int) string {
	keys := slices.Sorted(maps.Keys(ids))
	if len(keys) == 0 {
		return "none defined"
	}
	if len(keys) > 12 {
		return strings.Join(keys[:12], ", ") + fmt.Sprintf(", … (%d in all)", len(keys))
	}
	return strings.Join(keys, ", ")
}
