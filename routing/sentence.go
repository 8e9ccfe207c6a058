package routing

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// filterPhrases name the candidates a filter ruled out, for wait reasons.
var filterPhrases = [NumFilters]string{
	"not available", "at capacity", "reserved for another conversation", "already declined", "in conflict of interest",
	"barred by the private-bank gate", "outside hours", "without the language", "without the skills", "without the licence",
}

// roleWords are a role as a sentence says it.
func roleWords(r Role) string {
	switch r {
	case RoleOwnRM:
		return "own RM"
	case RoleDeputy:
		return "deputy"
	case RoleLastRM:
		return "last RM"
	}
	return "RM"
}

// note explains in words why RM i failed the filters in failed, e.g.
// "at capacity (100/100)" or "offline, outside team private_bank hours".
func (e *evaluation) note(i int, failed FilterSet) string {
	r, d, c := &e.snap.rms[i], &e.dyn[i], e.conv
	var parts []string
	for _, f := range failed.List() {
		switch f {
		case FilterPresence:
			pr := d.presence.At(e.now)
			switch {
			case pr.State == conversation.PresenceAvailable:
				parts = append(parts, fmt.Sprintf("not responding (%d missed offers in a row)", d.missed))
			case pr.State == conversation.PresenceAway && pr.Reason != "":
				parts = append(parts, "away ("+pr.Reason+")")
			case pr.State == conversation.PresenceWrapUp:
				parts = append(parts, "in wrap-up")
			default:
				parts = append(parts, string(pr.State))
			}
		case FilterCapacity:
			if d.load >= r.capacity {
				parts = append(parts, fmt.Sprintf("at capacity (%d/%d)", d.load, r.capacity))
			} else {
				parts = append(parts, fmt.Sprintf("at capacity (%d/%d, needs %d)", d.load, r.capacity, e.cost))
			}
		case FilterDeclined:
			parts = append(parts, "declined or missed this conversation")
		case FilterConflict:
			parts = append(parts, "has a conflict of interest with the client")
		case FilterSegmentGate:
			who := "unverified"
			if c.Prospect {
				who = "a prospect"
			}
			parts = append(parts, "private-bank RM barred: client is "+who)
		case FilterHours:
			parts = append(parts, "outside team "+string(r.rm.TeamID)+" hours")
		case FilterLanguage:
			parts = append(parts, "does not speak "+c.Language)
		case FilterSkill:
			for _, s := range c.Skills {
				if r.rm.Skills[s.Skill] < s.MinLevel {
					parts = append(parts, fmt.Sprintf("lacks %s >= %d (has %d)", s.Skill, s.MinLevel, r.rm.Skills[s.Skill]))
					break
				}
			}
		case FilterLicence:
			parts = append(parts, e.licenceNote(r.rm))
		case FilterReserved:
			parts = append(parts, e.reserved[i].note)
		}
	}
	return strings.Join(parts, ", ")
}

// licenceNote names the first required licence rm lacks or let expire.
func (e *evaluation) licenceNote(rm conversation.RM) string {
	for _, l := range e.licences {
		if rm.HasLicence(l, e.now) {
			continue
		}
		for _, held := range rm.Licences {
			if held.Name == l {
				return "licence " + l + " expired " + held.Expires.UTC().Format(time.DateOnly)
			}
		}
		return "no " + l + " licence"
	}
	return "licence missing"
}

// sentence says the decision in one plain English sentence: what became
// of a transfer target, why the named RMs were passed over, then the
// offer, the wait or the fallback.
func (e *evaluation) sentence(d *Decision, pl *plan) string {
	var parts []string
	if d.Transfer != nil {
		parts = append(parts, transferClause(d.Transfer))
	}
	for _, c := range d.Candidates {
		if c.Role != "" && !c.Eligible() {
			parts = append(parts, fmt.Sprintf("%s %s %s", roleWords(c.Role), c.RMID, c.Note))
		}
	}
	switch d.Outcome {
	case OutcomeOffer:
		ch := d.Choice
		var s string
		switch {
		case ch.Step == 0 && ch.Role != "":
			s = fmt.Sprintf("offered to %s %s", roleWords(ch.Role), ch.RMID)
		case ch.Step == 0:
			s = "offered to " + string(ch.RMID)
		case ch.Role != "":
			s = fmt.Sprintf("offered to %s %s at step %d", roleWords(ch.Role), ch.RMID, ch.Step)
		case ch.Step == e.pol.overflowStep():
			s = fmt.Sprintf("offered to %s of overflow team %s", ch.RMID, e.pol.overflow)
		default:
			s = fmt.Sprintf("offered to %s (%s) at step %d", ch.RMID, e.pol.steps[ch.Step-1].label, ch.Step)
		}
		if len(d.Also) > 0 {
			ids := make([]string, len(d.Also))
			for i, a := range d.Also {
				ids[i] = string(a.RMID)
			}
			s += ", and at once to " + strings.Join(ids, ", ")
		}
		parts = append(parts, s)
	case OutcomeWait:
		parts = append(parts, d.Reason)
	default:
		parts = append(parts, d.Reason+": "+string(d.Action))
	}
	return strings.Join(parts, "; ")
}

// waitReason says why nobody was chosen and what changes next.
func (e *evaluation) waitReason(d *Decision, pl *plan) string {
	var b strings.Builder
	switch {
	case d.Considered == 0:
		b.WriteString("waiting: no candidates")
	default:
		fmt.Fprintf(&b, "waiting: no eligible RM among %d candidate%s", d.Considered, plural(d.Considered))
		var counts []string
		for f, n := range d.Filtered {
			if n > 0 {
				counts = append(counts, strconv.Itoa(n)+" "+filterPhrases[f])
			}
		}
		if len(counts) > 0 {
			b.WriteString(" (" + strings.Join(counts, ", ") + ")")
		}
	}
	if len(d.Steps) > 0 {
		b.WriteString(" at step " + joinInts(d.Steps))
	}
	if d.Reserved != nil {
		b.WriteString("; " + reservedClause(d.Reserved))
	}
	if d.NextChange.IsZero() {
		return b.String()
	}
	in := d.NextChange.Sub(e.now).Round(time.Millisecond)
	if e.transferring() && d.NextChange.Equal(e.tr.Until) {
		fmt.Fprintf(&b, "; policy %s takes over in %v", e.pol.ID, in)
		return b.String()
	}
	if d.NextChange.Equal(pl.fallbackAt) {
		if e.pol.fallback == ActionOverflow {
			fmt.Fprintf(&b, "; overflow to team %s in %v", e.pol.overflow, in)
		} else {
			fmt.Fprintf(&b, "; fallback %s in %v", e.pol.fallback, in)
		}
		return b.String()
	}
	for k, ps := range pl.steps {
		if ps.start.Equal(d.NextChange) && !ps.skipped {
			fmt.Fprintf(&b, "; step %d (%s) joins in %v", k+1, e.pol.steps[k].label, in)
			return b.String()
		}
	}
	if d.NextChange.Equal(e.hold.at) {
		fmt.Fprintf(&b, "; reserves an RM in %v if still blocked by capacity", in)
		return b.String()
	}
	fmt.Fprintf(&b, "; steps change in %v", in)
	return b.String()
}

// noPolicyReason says that no policy matched.
func noPolicyReason(c *ConversationView, err error) string {
	s := fmt.Sprintf("no policy matches this conversation (segment %q, channel %q)", c.Segment, c.Channel)
	if err != nil {
		s += "; a policy's when failed: " + oneLine(err)
	}
	return s
}

// afterHoursReason names the closed teams.
func afterHoursReason(closed []conversation.TeamID) string {
	names := make([]string, len(closed))
	for i, t := range closed {
		names[i] = string(t)
	}
	return "after hours (team" + plural(len(names)) + " " + strings.Join(names, ", ") + " closed)"
}

// expiredReason says every step expired.
func expiredReason(n int, waited time.Duration) string {
	return fmt.Sprintf("all %d step%s expired after %v", n, plural(n), waited.Round(time.Millisecond))
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// joinInts writes 1,2,3 as "1-3" and 1,3 as "1, 3".
func joinInts(v []int) string {
	if len(v) > 1 && v[len(v)-1]-v[0] == len(v)-1 {
		return strconv.Itoa(v[0]) + "-" + strconv.Itoa(v[len(v)-1])
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
