package configs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
)

// TestDemoDirectory checks the embedded demo: it loads, and it covers what
// the demo and the routing tests rely on.
func TestDemoDirectory(t *testing.T) {
	t.Parallel()
	d, err := LoadDirectory(nil)
	if err != nil {
		t.Fatalf("demo directory has problems:\n%v", err)
	}
	ctx := context.Background()
	teams, _ := d.Teams(ctx)
	rms, _ := d.RMs(ctx)

	perTeam := map[conversation.TeamID]int{}
	for _, r := range rms {
		perTeam[r.TeamID]++
	}
	segments := map[conversation.Segment]bool{}
	specialists := 0
	groups := map[conversation.Group]int{}
	for _, tm := range teams {
		if perTeam[tm.ID] < 2 {
			t.Errorf("team %s has %d RMs, want at least 2", tm.ID, perTeam[tm.ID])
		}
		if tm.TimeZone != "Asia/Hong_Kong" || len(tm.Hours) == 0 {
			t.Errorf("team %s: zone %q, %d hour windows", tm.ID, tm.TimeZone, len(tm.Hours))
		}
		groups[tm.Group]++
		if tm.Kind == conversation.TeamSpecialist {
			specialists++
			continue
		}
		segments[tm.Segment] = true
	}
	for _, s := range conversation.Segments {
		if !segments[s] {
			t.Errorf("no team for segment %s", s)
		}
	}
	for _, id := range []conversation.TeamID{"wealth_advisers", "portfolio_managers"} {
		if tm, err := d.Team(ctx, id); err != nil || tm.Kind != conversation.TeamSpecialist {
			t.Errorf("specialist pool %s: %+v, %v", id, tm, err)
		}
	}
	if specialists != 2 || groups[conversation.GroupPilot] != 1 || groups[conversation.GroupControl] != 1 {
		t.Errorf("specialists %d, groups %v; want 2 pools, one pilot and one control team", specialists, groups)
	}
	if tm, _ := d.Team(ctx, "mass"); len(tm.Holidays) == 0 {
		t.Error("mass team has no holidays")
	}

	langs := map[string]int{}
	skills := map[string]bool{}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	expired, expiring := 0, 0
	for _, r := range rms {
		for _, l := range r.Languages {
			langs[l]++
		}
		for s := range r.Skills {
			skills[s] = true
		}
		for _, l := range r.Licences {
			switch {
			case !l.ValidAt(now):
				expired++
			case !l.ValidAt(now.AddDate(0, 6, 0)):
				expiring++
			}
		}
	}
	for _, l := range []string{"en", "zh", "yue"} {
		if langs[l] < 3 {
			t.Errorf("only %d RMs speak %s", langs[l], l)
		}
	}
	for _, s := range []string{"wealth", "mortgage", "fx", "cards", "sme_lending", "investment"} {
		if !skills[s] {
			t.Errorf("no RM has skill %s", s)
		}
	}
	if expired == 0 || expiring == 0 {
		t.Errorf("licences: %d expired, %d expiring within 6 months of %s; want some of each", expired, expiring, now.Format(time.DateOnly))
	}
	if r, _ := d.RM(ctx, "rm-af-02"); r.HasLicence("investment_advice", now) {
		t.Error("rm-af-02's investment_advice licence should be expired")
	}

	pb, err := d.Customer(ctx, "cus-pb-0001")
	if err != nil {
		t.Fatal(err)
	}
	if pb.Segment != conversation.SegmentPrivate || pb.OwnRM != "rm-pb-01" || pb.DeputyRM != "rm-pb-02" {
		t.Errorf("cus-pb-0001 = %+v", pb)
	}
	for _, k := range []conversation.AddressKind{conversation.AddressPhone, conversation.AddressWeChat, conversation.AddressApp} {
		a, ok := pb.Address(k)
		if !ok {
			t.Errorf("cus-pb-0001 has no %s address", k)
			continue
		}
		if got, err := d.CustomerByAddress(ctx, a); err != nil || got.ID != pb.ID {
			t.Errorf("CustomerByAddress(%s) = %s, %v", a, got.ID, err)
		}
	}
	if a, _ := pb.Address(conversation.AddressPhone); !strings.HasPrefix(a.Value, "+852") {
		t.Errorf("cus-pb-0001 phone %s is not a +852 number", a)
	}
	for _, s := range conversation.Segments {
		if !demoHasCustomerIn(ctx, t, d, s) {
			t.Errorf("no demo customer in segment %s", s)
		}
	}
}

func demoHasCustomerIn(ctx context.Context, t *testing.T, d *directory.Static, s conversation.Segment) bool {
	t.Helper()
	var f DirectoryFile
	if _, problems, _ := decodeStrict("demo", DemoDirectoryYAML(), &f); len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, c := range f.Customers {
		if got, err := d.Customer(ctx, c.ID); err == nil && got.Segment == s {
			return true
		}
	}
	return false
}
