package twilio

import (
	"slices"
	"testing"
)

// TestConfigProblems: Problems applies the defaults and names the field of
// each problem, as the gateway's configuration reports them.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	got := Config{
		APIBaseURL:    "ftp://x",
		PublicBaseURL: "https://gw.example/webhooks",
		Accounts:      []Account{{Name: "a b"}, {Name: "dup", From: "+85230001234"}, {Name: "dup", From: "+85230001234"}, {Name: "nofrom"}},
	}.Problems()
	var fields []string
	for _, p := range got {
		if p.Message == "" {
			t.Errorf("problem of %s has no message", p.Field)
		}
		fields = append(fields, p.Field)
	}
	want := []string{"account_sid", "auth_token", "api_base_url", "public_base_url", "accounts[0].name", "accounts[0].from",
		"accounts[2].name", "accounts[3].from"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	// Defaults are applied: an E.164 name is its own sender, zero limits
	// take their defaults.
	good := Config{AccountSID: testSID, AuthToken: testToken, PublicBaseURL: testPublic, Accounts: []Account{{Name: testAcct}}}
	if ps := good.Problems(); ps != nil {
		t.Fatalf("good config: %v", ps)
	}
}

// TestAccounts: the provider names its accounts in configuration order.
func TestAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Accounts = append(c.Accounts, Account{Name: "zz", MessagingServiceSID: "MG1"}) })
	if got := e.p.Accounts(); !slices.Equal(got, []string{testAcct, "hk-alerts", "zz"}) {
		t.Fatalf("Accounts() = %v", got)
	}
}
