package sim

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// WriteTable writes the report as plain-text tables: one line per segment
// and a total (offered, answered, abandoned, fallback, waiting, SLA against
// the segment's target, ASA, AHT, abandonment), then one line per team
// (RMs, answered, occupancy), then the offer counts. Rates are percent
// with one decimal, ASA and AHT seconds with one decimal. The output is a
// function of the report only.
func (r Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-15s %7s %8s %9s %8s %7s %7s %-12s %8s %8s %8s\n",
		"segment", "offered", "answered", "abandoned", "fallback", "waiting", "SLA", "target", "ASA (s)", "AHT (s)", "abandon")
	row := func(name string, s SegmentStats) {
		target := "-"
		if s.Target > 0 {
			target = fmt.Sprintf("%d%% in %s", s.TargetPercent, shortDuration(s.Target))
		}
		fmt.Fprintf(bw, "%-15s %7d %8d %9d %8d %7d %6.1f%% %-12s %8.1f %8.1f %7.1f%%\n",
			name, s.Offered, s.Answered, s.Abandoned, s.Fallback, s.Waiting+s.Unrouted, s.SLA, target,
			s.ASA.Seconds(), s.AHT.Seconds(), s.AbandonRate)
	}
	for _, s := range r.Segments {
		row(string(s.Segment), s)
	}
	row("total", r.Total)
	fmt.Fprintf(bw, "\n%-18s %4s %8s %10s %10s %9s\n", "team", "RMs", "answered", "busy (h)", "avail (h)", "occupancy")
	for _, t := range r.Teams {
		fmt.Fprintf(bw, "%-18s %4d %8d %10.2f %10.2f %8.1f%%\n", t.Team, t.RMs, t.Answered, t.Busy.Hours(), t.Available.Hours(), t.Occupancy)
	}
	fmt.Fprintf(bw, "\noffers %d, missed %d, rms set away %d; %d events, %s to %s\n",
		r.Offers, r.MissedOffers, r.NotResponding, r.Events,
		r.Day.Format("2006-01-02 15:04 MST"), r.End.Format("2006-01-02 15:04:05"))
	if r.Total.Unrouted > 0 {
		fmt.Fprintf(bw, "%d conversations matched no policy (counted as waiting above)\n", r.Total.Unrouted)
	}
	return bw.Flush()
}

// shortDuration formats d without zero trailing units: 20s, 1m, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if len(s) > 3 && s[len(s)-3:] == "m0s" {
		s = s[:len(s)-2]
	}
	if len(s) > 3 && s[len(s)-3:] == "h0m" {
		s = s[:len(s)-2]
	}
	return s
}
