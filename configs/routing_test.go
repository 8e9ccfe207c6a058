package configs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/routing"
)

// TestEmbeddedRoutingCompilesAgainstDemo: the routing section of the
// embedded config compiles against the embedded demo directory, overflow
// team included, and routes a private-bank client to their own RM first.
func TestEmbeddedRoutingCompilesAgainstDemo(t *testing.T) {
	t.Parallel()
	cfg := Default()
	dir, err := LoadDirectory(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := CompileRouting(cfg, dir)
	if err != nil {
		t.Fatalf("embedded routing does not compile against the demo directory:\n%v", err)
	}
	if got := len(p.All()); got != len(routing.DefaultConfig().Policies) {
		t.Errorf("%d policies, want %d", got, len(routing.DefaultConfig().Policies))
	}
	ctx := context.Background()
	ov, err := dir.Team(ctx, routing.DefaultOverflowTeam)
	if err != nil {
		t.Fatalf("demo has no overflow team: %v", err)
	}
	rms, _ := dir.RMs(ctx)
	multilingual := 0
	for _, r := range rms {
		if r.TeamID == ov.ID && r.Speaks("en") && r.Speaks("zh") && r.Speaks("yue") {
			multilingual++
		}
	}
	if multilingual < 2 {
		t.Errorf("overflow team has %d RMs speaking en, zh and yue; want at least 2", multilingual)
	}
}

// routingCase is one routing mistake and where check-config must put it.
type routingCase struct {
	name string
	// routing is the YAML under "routing:", indented two spaces; the line
	// ending in marker is where the problem must be reported (no marker:
	// the problem has no line).
	routing  string
	field    string
	msg      string
	sentinel error
}

func TestCheckReportsRoutingProblemsWithTheirPlace(t *testing.T) {
	t.Parallel()
	tests := []routingCase{
		{name: "policy that does not compile", field: "routing.policies[0].when", msg: "does not compile", routing: `
  policies:
    - id: broken
      when: segment == # <-
      steps: [{target: "team:mass"}]
`},
		{name: "when that is not bool", field: "routing.policies[0].when", msg: "does not compile", routing: `
  policies:
    - id: broken
      when: segment # <-
      steps: [{target: "team:mass"}]
`},
		{name: "step naming an unknown team", field: "routing.policies[0].steps[1].target", msg: `unknown team "nowhere"`, routing: `
  policies:
    - id: mass
      when: "true"
      steps:
        - {target: own_rm, expiry: 20s}
        - {target: "team:nowhere"} # <-
`},
		{name: "fallback to an unknown overflow team", field: "routing.policies[0].fallback", msg: `unknown team "spill"`, routing: `
  policies:
    - id: mass
      when: "true"
      steps: [{target: "team:mass", expiry: 60s}]
      fallback: "overflow:team:spill" # <-
`},
		{name: "rm expression naming an unknown skill", field: "routing.policies[1].steps[0].rm", msg: `unknown skill "astrology"`, routing: `
  policies:
    - id: first
      when: segment == "private"
      steps: [{target: own_rm}]
    - id: second
      when: "true"
      steps:
        - {target: "team:mass", rm: "rm.skills.astrology >= 3"} # <-
`},
		{name: "when naming an unknown skill", field: "routing.policies[0].when", msg: `unknown skill "astrology"`, routing: `
  policies:
    - id: stars
      when: skills.astrology >= 2 # <-
      steps: [{target: "team:mass"}]
`},
		{name: "step expiry out of range", field: "routing.policies[0].steps[0].expiry", msg: "allowed: 1s..24h", routing: `
  policies:
    - id: mass
      when: "true"
      steps:
        - {target: own_rm, expiry: 48h} # <-
        - {target: "team:mass"}
`},
		{name: "missing fallback points at the policy", field: "routing.policies[0].fallback", msg: "missing although the last step expires", routing: `
  policies:
    - id: mass # <-
      when: "true"
      steps: [{target: "team:mass", expiry: 60s}]
`},
		{name: "target with an rm expression", field: "routing.policies[0].steps[0]", msg: "target own_rm with an rm expression", routing: `
  policies:
    - id: mass
      when: "true"
      steps:
        - {target: own_rm, rm: "rm.skills.fx >= 2"} # <-
`},
		{name: "policy id written twice", field: "routing.policies[1]", msg: "defined twice", routing: `
  policies:
    - id: mass
      when: "true"
      steps: [{target: "team:mass"}]
    - id: mass # <-
      when: "true"
      steps: [{target: "team:overflow"}]
`},
		{name: "policy id not allowed", field: "routing.policies[0].id", msg: `id "Mass Policy"`, routing: `
  policies:
    - id: Mass Policy # <-
      when: "true"
      steps: [{target: "team:mass"}]
`},
		{name: "capacity cost over 100", field: "routing.costs.voice", msg: "150 cost units (allowed: 1..100)", routing: `
  costs:
    voice: 150 # <-
`},
		{name: "cost for an unknown channel", field: "routing.costs.fax", msg: `unknown channel "fax"`, routing: `
  costs:
    fax: 10 # <-
`},
		{name: "offer timeout for an unknown key", field: "routing.offer_timeouts.email", msg: `unknown key "email"`, routing: `
  offer_timeouts:
    email: 1h # <-
`},
		{name: "unknown segment", field: "routing.segments.vip", msg: `unknown segment "vip"`, routing: `
  segments:
    vip: {priority: 90, wait_budget: {percent: 80, within: 10s}} # <-
`},
		{name: "ageing cap below a segment priority", field: "routing.ageing.cap", msg: "more than the highest segment priority", routing: `
  ageing:
    cap: 50 # <-
`},
		{name: "unknown licence", field: "routing.intent_licences.pension", msg: `unknown licence "pension_advice"`, routing: `
  intent_licences:
    pension: [pension_advice] # <-
`},
		{name: "bad disposition", field: "routing.wrap_up.dispositions[1]", msg: `"Call Back" is not a disposition`, routing: `
  wrap_up:
    dispositions:
      - resolved
      - Call Back # <-
`},
		{name: "conflict naming an unknown rm", field: "routing.conflicts[0]", msg: `unknown rm "rm-zz-99"`, routing: `
  conflicts:
    - {rm: rm-zz-99, customer: cus-pb-0001} # <-
`},
		{name: "unknown routing key (strict)", field: "routing.polices", msg: `did you mean "policies"?`, sentinel: ErrUnknownKey, routing: `
  polices: [] # <-
`},
		{name: "unknown step key (strict)", field: "routing.policies[0].steps[0].expire", msg: `unknown key "expire"`, sentinel: ErrUnknownKey, routing: `
  policies:
    - id: mass
      when: "true"
      steps:
        - {target: own_rm, expire: 20s} # <-
`},
		{name: "step expiry of the wrong type", field: "routing.policies[0].steps[0].expiry", msg: "wrong type", sentinel: ErrWrongType, routing: `
  policies:
    - id: mass
      when: "true"
      steps:
        - {target: "team:mass", expiry: 20} # <-
`},
	}
	demo, err := filepath.Abs(filepath.Join("demo", "directory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := "directory:\n  file: " + strconv.Quote(demo) + "\nrouting:" + tt.routing
			path := writeFile(t, "airbranch.yaml", doc)
			_, _, err := Check(path, nil)
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			p := ps[0]
			sentinel := tt.sentinel
			if sentinel == nil {
				sentinel = ErrInvalid
			}
			line := markedLine(doc)
			if p.File != path || p.Line != line || p.Field != tt.field || !strings.Contains(p.Message, tt.msg) || !errors.Is(p, sentinel) {
				t.Errorf("problem = %q (%v)\nwant %s:%d: %s: …%s… (%v)", p.Error(), p.Err, path, line, tt.field, tt.msg, sentinel)
			}
		})
	}
}

// TestCheckRoutingAgainstItsDirectory: the default policies are compiled
// against the directory the config names; a directory without the overflow
// team makes the defaults fail, reported as "(default)" with the policy's
// field, and a cycle of deputies in the directory is reported at its line.
func TestCheckRoutingAgainstItsDirectory(t *testing.T) {
	t.Parallel()
	folder := t.TempDir()
	noOverflow := dirDoc("", "", "")
	path := filepath.Join(folder, "airbranch.yaml")
	writeAt(t, filepath.Join(folder, "directory.yaml"), noOverflow)
	writeAt(t, path, "directory:\n  file: directory.yaml\n")
	_, _, err := Check(path, nil)
	ps := problemsOf(t, err)
	if len(ps) == 0 {
		t.Fatal("no problem")
	}
	for _, p := range ps {
		if p.Source != "default" || !strings.HasPrefix(p.Field, "routing.") || !strings.Contains(p.Message, "unknown") {
			t.Errorf("problem %q: want (default): routing...: unknown ...", p.Error())
		}
	}
	for _, want := range []string{
		`(default): routing.policies[0].steps[2].target: unknown team "private_bank"`,
		`(default): routing.policies[5].fallback: unknown team "overflow"`,
		`(default): routing.intent_licences.investment: unknown licence "investment_advice"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem %s in:\n%v", want, err)
		}
	}

	cycle := dirDoc("", baseRMs+"  - {id: rm-c, name: C, team: alpha, languages: [en], deputy: rm-d} "+marker+"\n  - {id: rm-d, name: D, team: alpha, languages: [en], deputy: rm-c}\n", "")
	cyclePath := filepath.Join(folder, "cycle.yaml")
	writeAt(t, cyclePath, cycle)
	writeAt(t, path, "directory:\n  file: cycle.yaml\nrouting:\n  policies: [{id: all, when: \"true\", steps: [{target: \"team:alpha\"}]}]\n")
	_, _, err = Check(path, nil)
	ps = problemsOf(t, err)
	if len(ps) != 1 || ps[0].File != cyclePath || ps[0].Line != markedLine(cycle) || !strings.Contains(ps[0].Message, "cycle rm-c → rm-d → rm-c") {
		t.Errorf("deputy cycle: got\n%v\nwant one problem at %s:%d", err, cyclePath, markedLine(cycle))
	}
}

// TestCompileRoutingDirectoryPlaces: a directory that did not come from a
// checked file (a CRM behind the Directory interface) can still hold a
// cycle of deputies; CompileRouting names the directory and the RM.
func TestCompileRoutingDirectoryPlaces(t *testing.T) {
	t.Parallel()
	teams := []conversation.Team{{ID: "alpha", Name: "Alpha", Kind: conversation.TeamSegment, Segment: conversation.SegmentMass, TimeZone: "UTC"}}
	rms := []conversation.RM{
		{ID: "rm-a", TeamID: "alpha", Languages: []string{"en"}, Deputy: "rm-b"},
		{ID: "rm-b", TeamID: "alpha", Languages: []string{"en"}, Deputy: "rm-a"},
	}
	dir, err := directory.NewStatic(teams, rms, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Directory.File = "crm.yaml"
	cfg.Routing.IntentLicences = map[string][]string{}
	cfg.Routing.Policies = []routing.PolicyConfig{{ID: "all", When: "true", Steps: []routing.StepConfig{{Target: "team:alpha"}}}}
	_, err = CompileRouting(cfg, dir)
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].File != "crm.yaml" || ps[0].Field != "rms" || !strings.Contains(ps[0].Message, "rm rm-a: deputy cycle rm-a → rm-b → rm-a") {
		t.Fatalf("got %v, want one problem in crm.yaml at rms naming the cycle", err)
	}
}

// TestRoutingField covers every place routing.Compile writes.
func TestRoutingField(t *testing.T) {
	t.Parallel()
	policies := []routing.PolicyConfig{{ID: "a"}, {ID: "b"}, {ID: "b"}}
	tests := []struct {
		where, msg, field string
		inDirectory       bool
	}{
		{"costs.voice", "150 cost units", "routing.costs.voice", false},
		{"costs", `unknown channel "fax" (allowed: …)`, "routing.costs.fax", false},
		{"segments", `unknown segment "vip"`, "routing.segments.vip", false},
		{"segments.private.wait_budget.percent", "0 (allowed: 1..100)", "routing.segments.private.wait_budget.percent", false},
		{"policies", "none configured", "routing.policies", false},
		{"policies[4]", `id "X"`, "routing.policies[4].id", false},
		{`policy "b"`, "no steps (at least one step is required)", "routing.policies[1].steps", false},
		{`policy "b"`, "defined twice (policy ids must be unique)", "routing.policies[2]", false},
		{`policy "a" when`, "empty", "routing.policies[0].when", false},
		{`policy "a" after_hours`, `"x"`, "routing.policies[0].after_hours", false},
		{`policy "b" step 3 target`, `unknown team "x"`, "routing.policies[1].steps[2].target", false},
		{`policy "b" step 12`, `unknown skill "x"`, "routing.policies[1].steps[11].rm", false},
		{`policy "b" step 1`, "target own_rm with an rm expression", "routing.policies[1].steps[0]", false},
		{`policy "zzz" when`, "empty", "routing.policies", false},
		{"team alpha", "time zone", "teams", true},
		{"rm rm-a skill fx", "proficiency 9", "rms", true},
	}
	for _, tt := range tests {
		field, inDir := routingField(tt.where, tt.msg, policies)
		if field != tt.field || inDir != tt.inDirectory {
			t.Errorf("routingField(%q, %q) = %q, %v; want %q, %v", tt.where, tt.msg, field, inDir, tt.field, tt.inDirectory)
		}
	}
}

// writeAt writes content to path.
func writeAt(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fullRouting is the routing section of testdata/full.yaml as Load returns
// it: maps merged key by key with the defaults, lists replaced.
func fullRouting() routing.Config {
	r := routing.DefaultConfig()
	r.Costs[conversation.ChannelSMS], r.Costs[conversation.ChannelWeChat] = 20, 20
	r.OfferTimeouts["voice"], r.OfferTimeouts["webchat"] = 12*time.Second, 45*time.Second
	r.MaxMissedOffers = 2
	r.WrapUp = routing.WrapUpConfig{Timeout: 90 * time.Second, Dispositions: []string{"resolved", "complaint", "lead:fx"}}
	r.Segments[conversation.SegmentPrivate] = routing.SegmentConfig{Priority: 70, WaitBudget: routing.WaitBudget{Percent: 90, Within: 15 * time.Second}}
	r.Ageing = routing.AgeingConfig{PerSecond: 2, BudgetBoost: 30, Cap: 300}
	r.LastRMWithin = 4 * time.Hour
	r.PrivateGate.MinVerification = conversation.VerificationStrong
	r.IntentLicences["insurance"] = []string{"insurance"}
	r.Conflicts = []routing.ConflictConfig{{RM: "rm-pb-03", Customer: "cus-pb-0001"}}
	r.Selection = routing.SelectLeastOccupied
	r.Record = routing.RecordCompact
	r.Policies = []routing.PolicyConfig{
		{
			ID: "private-video", When: `segment == "private" && channel == "video"`,
			Mode: routing.ModeReplace, Selection: routing.SelectHighestProficiency,
			Licences: []string{"investment_advice"},
			Steps: []routing.StepConfig{
				{Target: routing.TargetOwnRM, Expiry: 30 * time.Second},
				{Target: "team:private_bank", RM: "rm.skills.wealth >= 4", Expiry: 2 * time.Minute},
			},
			Fallback: "voicemail", AfterHours: "voicemail",
		},
		{
			ID: "everyone", When: "true",
			Steps: []routing.StepConfig{
				{Target: routing.TargetLastRM, Expiry: 10 * time.Second},
				{RM: `"en" in rm.languages`},
			},
		},
	}
	return r
}
