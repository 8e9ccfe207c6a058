package routing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// weekdays maps day names to time.Weekday.
var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// window is an opening window in seconds since local midnight, [open, close).
type window struct{ open, close int }

// calendar answers whether a team is open: its working hours in its time
// zone, minus its holidays. A team with no hours is open around the clock
// except on holidays.
type calendar struct {
	loc      *time.Location
	always   bool
	days     [7][]window
	holidays []int // yyyymmdd, sorted
}

// newCalendar parses a team's time zone, hours and holidays. Days are
// "mon".."sun" or a range such as "mon-fri"; Open and Close are "HH:MM"
// (24-hour clock, Close may be "24:00", after Open); holidays are
// "YYYY-MM-DD" in the team's zone.
// zones, when not nil, holds locations already loaded; an empty time zone
// is UTC.
func newCalendar(t conversation.Team, zones map[string]*time.Location) (*calendar, error) {
	zone := t.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	loc, ok := zones[zone]
	if !ok {
		var err error
		if loc, err = time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("time zone %q: %v (allowed: an IANA zone such as Asia/Hong_Kong)", t.TimeZone, err)
		}
	}
	cal := &calendar{loc: loc, always: len(t.Hours) == 0}
	for i, h := range t.Hours {
		open, err1 := clock(h.Open)
		closing, err2 := clock(h.Close)
		if err1 != nil || err2 != nil || closing <= open {
			return nil, fmt.Errorf("hours[%d]: %q to %q (allowed: HH:MM to a later HH:MM, up to 24:00)", i, h.Open, h.Close)
		}
		if len(h.Days) == 0 {
			return nil, fmt.Errorf("hours[%d]: no days (allowed: mon..sun or a range such as mon-fri)", i)
		}
		for _, d := range h.Days {
			days, err := dayRange(d)
			if err != nil {
				return nil, fmt.Errorf("hours[%d]: %v", i, err)
			}
			for _, wd := range days {
				cal.days[wd] = append(cal.days[wd], window{open, closing})
			}
		}
	}
	for _, h := range t.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return nil, fmt.Errorf("holiday %q (allowed: YYYY-MM-DD)", h)
		}
		cal.holidays = append(cal.holidays, dateKey(d))
	}
	slices.Sort(cal.holidays)
	return cal, nil
}

// open reports whether the team is open at now.
func (c *calendar) open(now time.Time) bool {
	local := now.In(c.loc)
	if _, found := slices.BinarySearch(c.holidays, dateKey(local)); found {
		return false
	}
	if c.always {
		return true
	}
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	for _, w := range c.days[local.Weekday()] {
		if sec >= w.open && sec < w.close {
			return true
		}
	}
	return false
}

// dateKey is a date as yyyymmdd.
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// clock parses "HH:MM" (00:00..24:00) into seconds since midnight.
func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err == nil {
		return t.Hour()*3600 + t.Minute()*60, nil
	}
	if s == "24:00" {
		return 24 * 3600, nil
	}
	return 0, err
}

// dayRange parses "mon" or "mon-fri" (wrapping, e.g. "sat-mon").
func dayRange(s string) ([]time.Weekday, error) {
	from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	if !isRange {
		to = from
	}
	a, ok1 := weekdays[from]
	b, ok2 := weekdays[to]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("day %q (allowed: mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri)", s)
	}
	var out []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		out = append(out, d)
		if d == b {
			return out, nil
		}
	}
}
