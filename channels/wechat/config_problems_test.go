package wechat

import (
	"slices"
	"testing"
)

// TestConfigProblems: Problems applies the defaults (so a zero Config has
// only its missing account) and names the field of each problem in a
// stable order.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	if got := (Config{}).Problems(); len(got) != 1 || got[0].Field != "accounts" {
		t.Fatalf("zero config: %v, want only the missing account", got)
	}
	c := Config{Accounts: []AccountConfig{{
		Name: "Bank!", OriginalID: "gh_1", SafeModeOnly: true,
		MenuIntents: map[string]MenuIntent{"B": {}, "A": {}},
		Credentials: Credentials{AppID: "wx1", AppSecret: "s", Token: "t"},
	}}}
	var fields, messages []string
	for _, p := range c.Problems() {
		fields, messages = append(fields, p.Field), append(messages, p.Message)
	}
	want := []string{"accounts[0].name", "accounts[0].safe_mode_only", "accounts[0].menu_intents", "accounts[0].menu_intents"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	if messages[2] > messages[3] {
		t.Errorf("menu intent problems not in key order: %q", messages[2:])
	}
	good := Config{Accounts: testConfig(t).Accounts}
	if ps := good.Problems(); ps != nil {
		t.Fatalf("good config: %v", ps)
	}
}
