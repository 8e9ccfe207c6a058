package configs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// The base directory of the rule table: valid on its own. Cases append
// entries to a section or replace it.
const (
	baseTeams = `teams:
  - id: alpha
    name: Alpha
    kind: segment
    segment: mass
    time_zone: Asia/Hong_Kong
    hours:
      - {days: [mon, fri], open: "09:00", close: "18:00"}
    holidays: [2026-12-25]
  - id: pool
    name: Pool
    kind: specialist
    time_zone: UTC
`
	baseRMs = `rms:
  - id: rm-a
    name: A
    team: alpha
    skills: {wealth: 3}
    languages: [en]
  - id: rm-b
    name: B
    team: alpha
    languages: [yue]
    deputy: rm-a
`
	baseCustomers = `customers:
  - id: cus-1
    segment: mass
    own_rm: rm-a
    addresses:
      - {kind: phone, value: "+85255500001"}
`
)

// marker ends the line a table case expects its problem on.
const marker = "# <-"

// dirDoc assembles a directory from sections; "" keeps a base section.
func dirDoc(teams, rms, customers string) string {
	if teams == "" {
		teams = baseTeams
	}
	if rms == "" {
		rms = baseRMs
	}
	if customers == "" {
		customers = baseCustomers
	}
	return teams + rms + customers
}

// markedLine returns the 1-based line holding marker, or 0.
func markedLine(doc string) int {
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasSuffix(strings.TrimSpace(l), marker) {
			return i + 1
		}
	}
	return 0
}

func TestParseDirectoryBaseIsValid(t *testing.T) {
	t.Parallel()
	if _, err := ParseDirectory("base.yaml", []byte(dirDoc("", "", ""))); err != nil {
		t.Fatal(err)
	}
}

func TestParseDirectoryRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		teams, rms, customers string
		field                 string
		sentinel              error // nil means ErrInvalid
		msg                   string
	}{
		// Teams.
		{name: "team id empty", teams: baseTeams + "  - {id: \"\", name: X, kind: specialist, time_zone: UTC} " + marker + "\n",
			field: "teams[2].id", msg: "team has no id (allowed: 1 to 64 letters"},
		{name: "team id with a space", teams: baseTeams + "  - {id: \"be ta\", name: X, kind: specialist, time_zone: UTC} " + marker + "\n",
			field: "teams[2].id", msg: `team id "be ta" is not allowed`},
		{name: "team id duplicate", teams: baseTeams + "  - {id: alpha, name: X, kind: specialist, time_zone: UTC} " + marker + "\n",
			field: "teams[2].id", msg: `team id "alpha" is already used by teams[0] (line 2) (allowed: unique ids)`},
		{name: "team without name", teams: baseTeams + "  - {id: beta, kind: specialist, time_zone: UTC} " + marker + "\n",
			field: "teams[2].name", msg: "team beta has no name"},
		{name: "team kind unknown", teams: baseTeams + "  - {id: beta, name: B, kind: branch, time_zone: UTC} " + marker + "\n",
			field: "teams[2].kind", msg: `team beta has kind "branch" (allowed: segment, specialist)`},
		{name: "segment team without segment", teams: baseTeams + "  - {id: beta, name: B, kind: segment, time_zone: UTC} " + marker + "\n",
			field: "teams[2].segment", msg: `segment team beta has segment "" (allowed: mass, mass_affluent, affluent, private, small_business, retail_lending)`},
		{name: "segment team with unknown segment", teams: baseTeams + "  - {id: beta, name: B, kind: segment, segment: vip, time_zone: UTC} " + marker + "\n",
			field: "teams[2].segment", msg: `segment "vip"`},
		{name: "specialist pool with a segment", teams: baseTeams + "  - {id: beta, name: B, kind: specialist, segment: private, time_zone: UTC} " + marker + "\n",
			field: "teams[2].segment", msg: `specialist pool beta has segment "private" (allowed: no segment`},
		{name: "time zone missing", teams: baseTeams + "  - {id: beta, name: B, kind: specialist} " + marker + "\n",
			field: "teams[2].time_zone", msg: "team beta has no time zone (allowed: an IANA time zone"},
		{name: "time zone unknown", teams: baseTeams + "  - {id: beta, name: B, kind: specialist, time_zone: Asia/Atlantis} " + marker + "\n",
			field: "teams[2].time_zone", msg: `time zone "Asia/Atlantis" is unknown`},
		{name: "time zone Local", teams: baseTeams + "  - {id: beta, name: B, kind: specialist, time_zone: Local} " + marker + "\n",
			field: "teams[2].time_zone", msg: `uses the machine's zone "Local"`},
		{name: "hours without days", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - {open: \"09:00\", close: \"17:00\"} " + marker + "\n",
			field: "teams[2].hours[0].days", msg: "opening hours name no day (allowed: a list of mon, tue, wed, thu, fri, sat, sun)"},
		{name: "hours unknown day", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - days: [mon, funday] " + marker + "\n        open: \"09:00\"\n        close: \"17:00\"\n",
			field: "teams[2].hours[0].days[1]", msg: `day "funday" is unknown (allowed: mon, tue`},
		{name: "hours day twice", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - days: [mon, mon] " + marker + "\n        open: \"09:00\"\n        close: \"17:00\"\n",
			field: "teams[2].hours[0].days[1]", msg: `day "mon" is listed twice`},
		{name: "hours open not HH:MM", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - days: [mon]\n        open: 9am " + marker + "\n        close: \"17:00\"\n",
			field: "teams[2].hours[0].open", msg: `opening time "9am" is not a time (allowed: "HH:MM" from 00:00 to 23:59)`},
		{name: "hours close 24:30", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - days: [mon]\n        open: \"09:00\"\n        close: \"24:30\" " + marker + "\n",
			field: "teams[2].hours[0].close", msg: `closing time "24:30" is not a time (allowed: "HH:MM" from 00:01 to 24:00)`},
		{name: "hours close before open", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - days: [mon]\n        open: \"18:00\"\n        close: \"09:00\" " + marker + "\n",
			field: "teams[2].hours[0].close", msg: "closes at 09:00, not after it opens at 18:00"},
		{name: "hours close equal to open", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    hours:\n      - days: [mon]\n        open: \"09:00\"\n        close: \"09:00\" " + marker + "\n",
			field: "teams[2].hours[0].close", msg: "not after it opens"},
		{name: "holiday not a date", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    holidays:\n      - 2026-12-25\n      - Christmas " + marker + "\n",
			field: "teams[2].holidays[1]", msg: `holiday "Christmas" is not a date (allowed: YYYY-MM-DD`},
		{name: "holiday impossible date", teams: baseTeams + "  - id: beta\n    name: B\n    kind: specialist\n    time_zone: UTC\n    holidays: [2026-02-30] " + marker + "\n",
			field: "teams[2].holidays[0]", msg: `holiday "2026-02-30" is not a date`},
		{name: "team group unknown", teams: baseTeams + "  - {id: beta, name: B, kind: specialist, time_zone: UTC, group: treatment} " + marker + "\n",
			field: "teams[2].group", msg: `team beta has group "treatment" (allowed: pilot, control, or empty)`},

		// RMs.
		{name: "rm id empty", rms: baseRMs + "  - {id: \"\", name: C, team: alpha, languages: [en]} " + marker + "\n",
			field: "rms[2].id", msg: "rm has no id"},
		{name: "rm id duplicate", rms: baseRMs + "  - {id: rm-a, name: C, team: alpha, languages: [en]} " + marker + "\n",
			field: "rms[2].id", msg: `rm id "rm-a" is already used by rms[0]`},
		{name: "rm without name", rms: baseRMs + "  - {id: rm-c, team: alpha, languages: [en]} " + marker + "\n",
			field: "rms[2].name", msg: "rm rm-c has no name"},
		{name: "rm in unknown team", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: gamma " + marker + "\n    languages: [en]\n",
			field: "rms[2].team", msg: `rm rm-c is in unknown team "gamma" (allowed: alpha, pool)`},
		{name: "rm without team", rms: baseRMs + "  - {id: rm-c, name: C, languages: [en]} " + marker + "\n",
			field: "rms[2].team", msg: `unknown team ""`},
		{name: "skill proficiency 0", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages: [en]\n    skills:\n      fx: 0 " + marker + "\n",
			field: "rms[2].skills.fx", msg: "rm rm-c skill fx has proficiency 0 (allowed: 1 to 5)"},
		{name: "skill proficiency 6", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages: [en]\n    skills:\n      fx: 2\n      mortgage: 6 " + marker + "\n",
			field: "rms[2].skills.mortgage", msg: "has proficiency 6 (allowed: 1 to 5)"},
		{name: "skill name not snake case", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages: [en]\n    skills:\n      Wealth Mgmt: 3 " + marker + "\n",
			field: "rms[2].skills.Wealth Mgmt", msg: `skill name "Wealth Mgmt" is not allowed (allowed: lower_snake_case`},
		{name: "languages missing", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha} " + marker + "\n",
			field: "rms[2].languages", msg: "rm rm-c speaks no language (allowed: a list of en, zh, yue"},
		{name: "language unknown", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages:\n      - en\n      - tlh " + marker + "\n",
			field: "rms[2].languages[1]", msg: `language "tlh" is not known (allowed: en, zh, yue`},
		{name: "language listed twice", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages:\n      - yue\n      - yue " + marker + "\n",
			field: "rms[2].languages[1]", msg: `language "yue" is listed twice`},
		{name: "licence without name", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages: [en]\n    licences:\n      - {expires: 2027-06-30} " + marker + "\n",
			field: "rms[2].licences[0].name", msg: `licence name "" is not allowed`},
		{name: "licence expires not a date", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages: [en]\n    licences:\n      - {name: investment_advice, expires: next year} " + marker + "\n",
			field: "rms[2].licences[0].expires", sentinel: ErrWrongType, msg: `got "next year" (allowed: a date such as 2027-06-30`},
		{name: "capacity negative", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha, languages: [en], capacity: -1} " + marker + "\n",
			field: "rms[2].capacity", msg: "rm rm-c has capacity -1 (allowed: 1 to 100 cost units; 0 or absent means 100)"},
		{name: "capacity above 100", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha, languages: [en], capacity: 101} " + marker + "\n",
			field: "rms[2].capacity", msg: "has capacity 101"},
		{name: "capacity not a number", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha, languages: [en], capacity: lots} " + marker + "\n",
			field: "rms[2].capacity", sentinel: ErrWrongType, msg: `got "lots" (allowed: an integer)`},
		{name: "rm group unknown", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha, languages: [en], group: test} " + marker + "\n",
			field: "rms[2].group", msg: `rm rm-c has group "test"`},
		{name: "rm unknown key", rms: baseRMs + "  - id: rm-c\n    name: C\n    team: alpha\n    languages: [en]\n    skils: {fx: 3} " + marker + "\n",
			field: "rms[2].skils", sentinel: ErrUnknownKey, msg: `unknown key "skils" (allowed: id, name, team, skills, languages, licences, deputy, capacity, group); did you mean "skills"?`},
		{name: "deputy unknown", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha, languages: [en], deputy: rm-z} " + marker + "\n",
			field: "rms[2].deputy", msg: `rm rm-c has unknown deputy "rm-z" (allowed: rm-a, rm-b, rm-c)`},
		{name: "deputy is the rm itself", rms: baseRMs + "  - {id: rm-c, name: C, team: alpha, languages: [en], deputy: rm-c} " + marker + "\n",
			field: "rms[2].deputy", msg: "rm rm-c is its own deputy (allowed: another rm, or empty)"},
		{name: "deputy cycle of two", rms: `rms:
  - {id: rm-a, name: A, team: alpha, languages: [en], deputy: rm-b} ` + marker + `
  - {id: rm-b, name: B, team: alpha, languages: [en], deputy: rm-a}
`, field: "rms[0].deputy", msg: "deputies form a cycle rm-a → rm-b → rm-a (allowed: a deputy chain that ends at an rm without a deputy)"},
		{name: "deputy cycle of three entered from outside", rms: `rms:
  - {id: rm-a, name: A, team: alpha, languages: [en], deputy: rm-c}
  - {id: rm-b, name: B, team: alpha, languages: [en]}
  - {id: rm-c, name: C, team: alpha, languages: [en], deputy: rm-d} ` + marker + `
  - {id: rm-d, name: D, team: alpha, languages: [en], deputy: rm-e}
  - {id: rm-e, name: E, team: alpha, languages: [en], deputy: rm-c}
`, field: "rms[2].deputy", msg: "deputies form a cycle rm-c → rm-d → rm-e → rm-c"},

		// Customers.
		{name: "customer id empty", customers: baseCustomers + "  - {id: \"\", segment: mass} " + marker + "\n",
			field: "customers[1].id", msg: "customer has no id"},
		{name: "customer id duplicate", customers: baseCustomers + "  - {id: cus-1, segment: mass} " + marker + "\n",
			field: "customers[1].id", msg: `customer id "cus-1" is already used by customers[0]`},
		{name: "customer segment missing", customers: baseCustomers + "  - {id: cus-2} " + marker + "\n",
			field: "customers[1].segment", msg: `customer cus-2 has segment "" (allowed: mass, mass_affluent`},
		{name: "customer segment unknown", customers: baseCustomers + "  - {id: cus-2, segment: gold} " + marker + "\n",
			field: "customers[1].segment", msg: `has segment "gold"`},
		{name: "customer verification unknown", customers: baseCustomers + "  - {id: cus-2, segment: mass, verification: medium} " + marker + "\n",
			field: "customers[1].verification", msg: `verification "medium" (allowed: none, basic, strong; absent means basic)`},
		{name: "customer own rm unknown", customers: baseCustomers + "  - {id: cus-2, segment: mass, own_rm: rm-z} " + marker + "\n",
			field: "customers[1].own_rm", msg: `customer cus-2 has unknown own_rm "rm-z" (allowed: rm-a, rm-b)`},
		{name: "customer deputy rm unknown", customers: baseCustomers + "  - {id: cus-2, segment: mass, own_rm: rm-a, deputy_rm: rm-z} " + marker + "\n",
			field: "customers[1].deputy_rm", msg: `unknown deputy_rm "rm-z"`},
		{name: "customer deputy rm is own rm", customers: baseCustomers + "  - {id: cus-2, segment: mass, own_rm: rm-a, deputy_rm: rm-a} " + marker + "\n",
			field: "customers[1].deputy_rm", msg: "customer cus-2 has rm-a as both own_rm and deputy_rm"},
		{name: "customer language unknown", customers: baseCustomers + "  - {id: cus-2, segment: mass, preferred_language: latin} " + marker + "\n",
			field: "customers[1].preferred_language", msg: `prefers unknown language "latin" (allowed: en, zh, yue`},
		{name: "address kind unknown", customers: baseCustomers + "  - id: cus-2\n    segment: mass\n    addresses:\n      - {kind: fax, value: \"+85255500002\"} " + marker + "\n",
			field: "customers[1].addresses[0]", msg: `address kind "fax" is unknown (allowed: phone, wechat_openid, app_user, sip_uri)`},
		{name: "address without value", customers: baseCustomers + "  - id: cus-2\n    segment: mass\n    addresses:\n      - {kind: app_user, value: \" \"} " + marker + "\n",
			field: "customers[1].addresses[0]", msg: "app_user address has no value"},
		{name: "phone not E.164", customers: baseCustomers + "  - id: cus-2\n    segment: mass\n    addresses:\n      - {kind: phone, value: \"5550 0002\"} " + marker + "\n",
			field: "customers[1].addresses[0]", msg: `is not E.164 (allowed: "+" then 8 to 15 digits`},
		{name: "phone without plus", customers: baseCustomers + "  - id: cus-2\n    segment: mass\n    addresses:\n      - {kind: phone, value: \"85255500002\"} " + marker + "\n",
			field: "customers[1].addresses[0]", msg: "is not E.164"},
		{name: "address claimed by two customers", customers: baseCustomers + "  - id: cus-2\n    segment: mass\n    addresses:\n      - {kind: phone, value: \"+85255500001\"} " + marker + "\n",
			field: "customers[1].addresses[0]", msg: "address phone:+852****0001 of customer cus-2 already belongs to customer cus-1 at customers[0].addresses[0] (line 30)"},
		{name: "address listed twice by one customer", customers: baseCustomers + "  - id: cus-2\n    segment: mass\n    addresses:\n      - {kind: wechat_openid, value: o-test-1}\n      - {kind: wechat_openid, value: o-test-1} " + marker + "\n",
			field: "customers[1].addresses[1]", msg: "customer cus-2 lists address wechat_openid:o-t…-1 twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := dirDoc(tt.teams, tt.rms, tt.customers)
			line := markedLine(doc)
			if line == 0 {
				t.Fatal("case has no marker line")
			}
			_, err := ParseDirectory("dir.yaml", []byte(doc))
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			sentinel := tt.sentinel
			if sentinel == nil {
				sentinel = ErrInvalid
			}
			p := ps[0]
			if p.File != "dir.yaml" || p.Line != line || p.Field != tt.field || !errors.Is(p, sentinel) || !strings.Contains(p.Message, tt.msg) {
				t.Errorf("problem = %q (%v)\nwant      dir.yaml:%d: %s: ...%s... (%v)", p.Error(), p.Err, line, tt.field, tt.msg, sentinel)
			}
		})
	}
}

func TestParseDirectoryReportsEveryProblem(t *testing.T) {
	t.Parallel()
	doc := `teams:
  - {id: alpha, name: Alpha, kind: segment, segment: vip, time_zone: Mars/Olympus}
rms:
  - {id: rm-a, name: A, team: beta, languages: [], capacity: 500, deputy: rm-a}
  - {id: rm-a, name: A2, team: alpha, languages: [en], skils: {}}
customers:
  - {id: cus-1, segment: mass, own_rm: rm-x, addresses: [{kind: phone, value: "123"}]}
`
	_, err := ParseDirectory("dir.yaml", []byte(doc))
	ps := problemsOf(t, err)
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	want := []string{
		"teams[0].segment", "teams[0].time_zone",
		"rms[0].team", "rms[0].languages", "rms[0].capacity", "rms[0].deputy",
		"rms[1].skils", "rms[1].id",
		"customers[0].own_rm", "customers[0].addresses[0]",
	}
	slices.Sort(fields)
	slices.Sort(want)
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v\nwant     %v\n%v", fields, want, err)
	}
}

func TestParseDirectoryDefaultsAndForms(t *testing.T) {
	t.Parallel()
	doc := `teams:
  - id: alpha
    name: Alpha
    kind: segment
    segment: private
    time_zone: Asia/Hong_Kong
    hours: &always
      - {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "24:00"}
  - {id: beta, name: Beta, kind: specialist, time_zone: Europe/London, hours: *always}
rms:
  - id: rm-a
    name: A
    team: alpha
    languages: [yue]
    licences:
      - {name: investment_advice, expires: "2027-06-30"}
      - {name: insurance, expires: 2026-09-30}
      - {name: complex_products, expires: "2027-01-15T09:30:00+08:00"}
      - {name: mortgage}
customers:
  - id: cus-1
    segment: private
    own_rm: rm-a
`
	d, err := ParseDirectory("dir.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rm, err := d.RM(ctx, "rm-a")
	if err != nil {
		t.Fatal(err)
	}
	if rm.Capacity != DefaultCapacity {
		t.Errorf("capacity = %d, want default %d", rm.Capacity, DefaultCapacity)
	}
	wantExpiry := []time.Time{
		time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 15, 1, 30, 0, 0, time.UTC),
		{},
	}
	for i, l := range rm.Licences {
		if !l.Expires.Equal(wantExpiry[i]) {
			t.Errorf("licence %s expires %v, want %v", l.Name, l.Expires, wantExpiry[i])
		}
	}
	c, err := d.Customer(ctx, "cus-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Verification != conversation.VerificationBasic {
		t.Errorf("verification = %q, want default basic", c.Verification)
	}
	beta, err := d.Team(ctx, "beta")
	if err != nil || len(beta.Hours) != 1 || beta.Hours[0].Close != "24:00" {
		t.Errorf("aliased hours = %+v (%v)", beta.Hours, err)
	}
}

func TestParseDirectorySyntaxError(t *testing.T) {
	t.Parallel()
	_, err := ParseDirectory("dir.yaml", []byte("teams:\n  - id: a\n   name: broken\n"))
	ps := problemsOf(t, err)
	if len(ps) != 1 || !errors.Is(ps[0], ErrSyntax) || ps[0].Line == 0 {
		t.Fatalf("got %v, want one syntax problem with a line", err)
	}
}

func TestLoadDirectoryFileErrors(t *testing.T) {
	t.Parallel()
	_, err := LoadDirectory(&Config{Directory: DirectoryConfig{File: t.TempDir() + "/absent.yaml"}})
	if err == nil || !strings.Contains(err.Error(), "configs: read directory") {
		t.Fatalf("err = %v, want a read error", err)
	}
	doc := dirDoc("", "", baseCustomers+"  - {id: cus-2, segment: gold} "+marker+"\n")
	path := writeFile(t, "dir.yaml", doc)
	_, err = LoadDirectory(&Config{Directory: DirectoryConfig{File: path}})
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].File != path || ps[0].Line != markedLine(doc) {
		t.Fatalf("got %v, want one problem at %s:%d", err, path, markedLine(doc))
	}
}

func TestParseDirectoryMergeKeys(t *testing.T) {
	t.Parallel()
	doc := `teams:
  - &base {id: a, name: Shared, kind: specialist, time_zone: UTC}
  - <<: *base
    id: b
  - <<: *base
    id: c
    nmae: typo ` + marker + `
`
	_, err := ParseDirectory("dir.yaml", []byte(doc))
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Field != "teams[2].nmae" || ps[0].Line != markedLine(doc) || !errors.Is(ps[0], ErrUnknownKey) {
		t.Fatalf("got %v, want one unknown key teams[2].nmae", err)
	}
	d, err := ParseDirectory("dir.yaml", []byte(strings.ReplaceAll(doc, "    nmae: typo "+marker+"\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Team(context.Background(), "b")
	if err != nil || b.Name != "Shared" || b.TimeZone != "UTC" {
		t.Errorf("merged team b = %+v, %v", b, err)
	}
}
