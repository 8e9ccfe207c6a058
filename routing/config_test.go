package routing

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/airbranch/airbranch/channels/conversation"
)

// decodeStrict decodes YAML refusing unknown keys, as the configs package
// does.
func decodeStrict(t *testing.T, b []byte) (Config, error) {
	t.Helper()
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	return cfg, err
}

func TestDefaultConfigMatchesShippedYAML(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeStrict(t, b)
	if err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("testdata/policies.yaml and DefaultConfig differ:\n yaml: %+v\n  go: %+v", got, want)
	}
	if _, err := Compile(got, testTeams(), testRMs()); err != nil {
		t.Errorf("shipped config does not compile: %v", err)
	}
}

func TestConfigStrictDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, wantErr string
	}{
		{name: "unknown top-level key", yaml: "polices: []\n", wantErr: "field polices not found"},
		{name: "unknown step key", yaml: "policies:\n  - id: a\n    when: \"true\"\n    steps: [{target: own_rm, expire: 20s}]\n", wantErr: "field expire not found"},
		{name: "duration that does not parse", yaml: "wrap_up: {timeout: soon}\n", wantErr: "soon"},
		{name: "valid partial config", yaml: "costs: {sms: 20}\nrecord: compact\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeStrict(t, []byte(tt.yaml))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("decode: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("decode error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompileAppliesDefaults(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, Config{Costs: map[conversation.Channel]int{conversation.ChannelSMS: 20}, OfferTimeouts: map[string]time.Duration{"webchat": 45 * time.Second}})
	checks := []struct {
		name      string
		got, want any
	}{
		{"sms cost as configured", p.Cost(conversation.ChannelSMS), 20},
		{"voice cost default", p.Cost(conversation.ChannelVoice), 100},
		{"wechat cost default", p.Cost(conversation.ChannelWeChat), 25},
		{"voice offer timeout", p.OfferTimeout(conversation.ChannelVoice), 15 * time.Second},
		{"video offer timeout", p.OfferTimeout(conversation.ChannelVideo), 30 * time.Second},
		{"sms offer timeout from chat", p.OfferTimeout(conversation.ChannelSMS), 30 * time.Second},
		{"webchat offer timeout own key", p.OfferTimeout(conversation.ChannelWebChat), 45 * time.Second},
		{"max missed offers", p.MaxMissedOffers(), 3},
		{"not responding at 3", p.NotResponding(3), true},
		{"responding at 2", p.NotResponding(2), false},
		{"wrap-up timeout", p.WrapUpTimeout(), 60 * time.Second},
		{"record mode", p.RecordMode(), RecordFull},
		{"policies", len(p.All()), 6},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if wb, ok := p.WaitBudget(conversation.SegmentPrivate); !ok || wb != (WaitBudget{Percent: 80, Within: 20 * time.Second}) {
		t.Errorf("private wait budget = %+v, %v", wb, ok)
	}
}

func TestCheckDisposition(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	for _, tt := range []struct {
		code string
		ok   bool
	}{
		{"resolved", true}, {"lead:mortgage", true}, {"lead:wealth", true}, {"complaint", true},
		{"callback_scheduled", true}, {"lead:cars", false}, {"", false}, {"Resolved", false},
	} {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			err := p.CheckDisposition(tt.code)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckDisposition(%q) = %v, want ok=%v", tt.code, err, tt.ok)
			}
			if err != nil && (!errors.Is(err, ErrUnknownDisposition) || !strings.Contains(err.Error(), "lead:mortgage")) {
				t.Errorf("error %q should wrap ErrUnknownDisposition and list the allowed codes", err)
			}
		})
	}
}

func TestPolicyVersionHash(t *testing.T) {
	t.Parallel()
	a := mustCompile(t, DefaultConfig())
	b := mustCompile(t, DefaultConfig())
	changed := DefaultConfig()
	changed.Policies[0].Steps[0].Expiry = 25 * time.Second
	c := mustCompile(t, changed)
	pa, _ := a.Policy("private-bank")
	pb, _ := b.Policy("private-bank")
	pc, _ := c.Policy("private-bank")
	if len(pa.Version) != 64 {
		t.Fatalf("version %q is not a hex sha256", pa.Version)
	}
	if pa.Version != pb.Version {
		t.Errorf("same policy, different versions: %s, %s", pa.Version, pb.Version)
	}
	if pa.Version == pc.Version {
		t.Errorf("changed expiry kept version %s", pa.Version)
	}
	ma, _ := a.Policy("mass")
	mc, _ := c.Policy("mass")
	if ma.Version != mc.Version {
		t.Errorf("unchanged policy mass changed version")
	}
	explicit := DefaultConfig()
	explicit.Policies[0].Mode = ModeCumulative
	pe, _ := mustCompile(t, explicit).Policy("private-bank")
	if pe.Version != pa.Version {
		t.Errorf("explicit default mode changed the version: canonical form must apply defaults")
	}
}
