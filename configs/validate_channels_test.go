package configs

import (
	"strings"
	"testing"
)

// twilioEnv, smppEnv and wechatEnv are complete secrets of each channel.
var (
	twilioEnv = map[string]string{EnvTwilioAccountSID: "AC00000000000000000000000000000001", EnvTwilioAuthToken: "tw-token-value"}
	smppEnv   = map[string]string{EnvSMPPPassword: "smpp-pw"}
	wechatEnv = map[string]string{EnvWeChatAppID: "wxdemo", EnvWeChatSecret: "s3cr3t-value", EnvWeChatToken: "tok123",
		EnvWeChatAESKey: strings.Repeat("A", 43)}
)

// merged returns the union of maps (later ones win).
func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// wantProblem is one expected problem: where (a line, or a source such as
// "env AIRBRANCH_SMPP_PASSWORD"), the field and part of the message.
type wantProblem struct {
	line   int
	source string
	field  string
	msg    string
}

// TestValidateChannels: each mistake in the sms and wechat sections (and
// each channel enabled without its secrets) is one problem at the line
// and field that hold it, naming the variables for secrets.
func TestValidateChannels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		vars map[string]string
		want []wantProblem
	}{
		{
			name: "twilio enabled without its secrets",
			yaml: "http:\n  public_url: https://gw.bank.example\nsms:\n  twilio:\n    accounts:\n      - {name: \"+85230001234\"}\n",
			want: []wantProblem{{line: 5, field: "sms.twilio.accounts", msg: "AIRBRANCH_TWILIO_ACCOUNT_SID and AIRBRANCH_TWILIO_AUTH_TOKEN are not set"}},
		},
		{
			name: "twilio without a public URL",
			yaml: "sms:\n  twilio:\n    accounts: [{name: \"+85230001234\"}]\n",
			vars: twilioEnv,
			want: []wantProblem{{line: 2, field: "sms.twilio.public_base_url", msg: "http.public_url is empty too"}},
		},
		{
			name: "twilio reusing a public URL with a path",
			yaml: "http:\n  public_url: https://gw.bank.example/airbranch\nsms:\n  twilio:\n    accounts: [{name: \"+85230001234\"}]\n",
			vars: twilioEnv,
			want: []wantProblem{{line: 2, field: "http.public_url", msg: "must have no path or query"}},
		},
		{
			name: "twilio accounts and limits",
			yaml: "sms:\n  twilio:\n    public_base_url: https://sms.bank.example\n    accounts:\n" +
				"      - {name: \"a b\", from: \"+85230001234\"}\n" +
				"      - {name: hk}\n" +
				"      - {name: hk, from: \"+85230001234\"}\n" +
				"    request_timeout: 0s\n    max_text_runes: 0\n",
			vars: twilioEnv,
			want: []wantProblem{
				{line: 5, field: "sms.twilio.accounts[0].name", msg: `name "a b" must be 1 to 64 letters`},
				{line: 6, field: "sms.twilio.accounts[1].from", msg: `account "hk": needs from (E.164) or messaging_service_sid`},
				{line: 7, field: "sms.twilio.accounts[2].name", msg: `name "hk" appears twice`},
				{line: 8, field: "sms.twilio.request_timeout", msg: "0s is out of range (allowed: more than 0s, at most 1m)"},
				{line: 9, field: "sms.twilio.max_text_runes", msg: "0 is out of range (allowed: 1 to 10000 characters"},
			},
		},
		{
			name: "smpp without its password",
			yaml: "sms:\n  smpp:\n    addr: 127.0.0.1:2775\n    system_id: bank\n    account: \"+85230001234\"\n",
			want: []wantProblem{{line: 3, field: "sms.smpp.addr", msg: "AIRBRANCH_SMPP_PASSWORD is not set"}},
		},
		{
			name: "smpp password too long",
			yaml: "sms:\n  smpp:\n    addr: 127.0.0.1:2775\n    system_id: bank\n    account: \"+85230001234\"\n",
			vars: map[string]string{EnvSMPPPassword: "longer-than-8"},
			want: []wantProblem{{source: "env " + EnvSMPPPassword, field: "secrets.smpp_password", msg: "more than 8 characters"}},
		},
		{
			name: "smpp values",
			yaml: "sms:\n  twilio:\n    public_base_url: https://sms.bank.example\n    accounts: [{name: \"95566\", from: \"95566\"}]\n" +
				"  smpp:\n    addr: smsc-without-port\n    system_id: bank\n    account: \"95566\"\n" +
				"    source_ton: 9\n    source_npi: 2\n    window: 300\n    throughput: 0\n    rebind_max: 100ms\n",
			vars: merged(twilioEnv, smppEnv),
			want: []wantProblem{
				// Not written: reported at its section's line.
				{line: 5, field: "sms.smpp.source_addr", msg: "must have 1 to 20 characters"},
				{line: 6, field: "sms.smpp.addr", msg: `"smsc-without-port" is not host:port`},
				{line: 8, field: "sms.smpp.account", msg: `"95566" is also the name of a Twilio account`},
				{line: 9, field: "sms.smpp.source_ton", msg: "9 is not a type of number"},
				{line: 10, field: "sms.smpp.source_npi", msg: "2 is not a numbering plan indicator"},
				{line: 11, field: "sms.smpp.window", msg: "300 is not 1 to 255"},
				{line: 12, field: "sms.smpp.throughput", msg: "0 is out of range (allowed: 1 or more)"},
				{line: 13, field: "sms.smpp.rebind_max", msg: "100ms is below rebind_min 1s"},
			},
		},
		{
			name: "wechat enabled without its secrets",
			yaml: "wechat:\n  accounts:\n    - original_id: gh_0123456789ab\n      safe_mode_only: true\n",
			vars: map[string]string{EnvWeChatAppID: "wxdemo"},
			want: []wantProblem{
				{line: 3, field: "wechat.accounts[0]", msg: "the WeChat account is configured (safe mode only) but AIRBRANCH_WECHAT_SECRET, AIRBRANCH_WECHAT_TOKEN and AIRBRANCH_WECHAT_AES_KEY are not set"},
				{source: "env " + EnvWeChatAppID, field: "secrets.wechat_appid", msg: "set but AIRBRANCH_WECHAT_SECRET, AIRBRANCH_WECHAT_TOKEN not"},
			},
		},
		{
			name: "wechat values",
			yaml: "wechat:\n  accounts:\n    - name: Bank!\n      welcome_text: hi\n  ack_timeout: 5s\n  token_lock_ttl: 0s\n" +
				"  window:\n    message:\n      quota: -1\n",
			vars: wechatEnv,
			want: []wantProblem{
				{line: 3, field: "wechat.accounts[0].name", msg: `"Bank!" is not allowed`},
				{line: 3, field: "wechat.accounts[0].original_id", msg: "empty (the account's original id"},
				{line: 5, field: "wechat.ack_timeout", msg: "5s is out of range (allowed: more than 0s, less than 5s"},
				{line: 6, field: "wechat.token_lock_ttl", msg: "0s is out of range"},
				{line: 9, field: "wechat.window.message.quota", msg: "-1 is out of range (allowed: 0 to 1000)"},
			},
		},
		{
			name: "several wechat accounts read their own variables",
			yaml: "wechat:\n  accounts:\n    - {name: hk-main, original_id: gh_1}\n    - {name: sg, original_id: gh_2}\n" +
				"    - {original_id: gh_3}\n    - {name: hk_main, original_id: gh_4}\n",
			vars: map[string]string{
				"AIRBRANCH_WECHAT_HK_MAIN_APPID": "wxhk", "AIRBRANCH_WECHAT_HK_MAIN_SECRET": "hk-secret-value", "AIRBRANCH_WECHAT_HK_MAIN_TOKEN": "hk-token!",
				"AIRBRANCH_WECHAT_SG_APPID": "wxsg",
			},
			want: []wantProblem{
				{line: 4, field: "wechat.accounts[1]", msg: `WeChat account "sg" is configured but AIRBRANCH_WECHAT_SG_SECRET and AIRBRANCH_WECHAT_SG_TOKEN are not set`},
				{line: 5, field: "wechat.accounts[2].name", msg: "empty (each of several accounts needs a name"},
				{line: 6, field: "wechat.accounts[3].name", msg: `"hk_main" reads its credentials from the same AIRBRANCH_WECHAT_HK_MAIN_* variables as wechat.accounts[0]`},
				{source: "env AIRBRANCH_WECHAT_HK_MAIN_TOKEN", field: "secrets.wechat_accounts.hk-main.token", msg: "other than letters and digits"},
			},
		},
		{
			name: "several wechat accounts and the single account's variables",
			yaml: "wechat:\n  accounts:\n    - {name: a, original_id: gh_1}\n    - {name: b, original_id: gh_2}\n",
			vars: merged(wechatEnv, map[string]string{
				"AIRBRANCH_WECHAT_A_APPID": "wxa", "AIRBRANCH_WECHAT_A_SECRET": "a-secret", "AIRBRANCH_WECHAT_A_TOKEN": "tokA1",
				"AIRBRANCH_WECHAT_B_APPID": "wxb", "AIRBRANCH_WECHAT_B_SECRET": "b-secret", "AIRBRANCH_WECHAT_B_TOKEN": "tokB1",
			}),
			want: []wantProblem{
				{source: "env " + EnvWeChatAppID, field: "wechat.accounts", msg: "AIRBRANCH_WECHAT_APPID is set but wechat.accounts has 2 accounts"},
				{source: "env " + EnvWeChatSecret, field: "wechat.accounts", msg: "AIRBRANCH_WECHAT_SECRET is set"},
				{source: "env " + EnvWeChatToken, field: "wechat.accounts", msg: "AIRBRANCH_WECHAT_TOKEN is set"},
				{source: "env " + EnvWeChatAESKey, field: "wechat.accounts", msg: "AIRBRANCH_WECHAT_AES_KEY is set"},
			},
		},
		{
			name: "every channel complete",
			yaml: "sms:\n  twilio:\n    public_base_url: https://sms.bank.example\n    accounts: [{name: \"+85230001234\"}]\n" +
				"  smpp:\n    addr: 127.0.0.1:2775\n    system_id: bank\n    account: \"95566\"\n    source_addr: \"95566\"\n    source_ton: 3\n" +
				"wechat:\n  accounts: [{original_id: gh_0123456789ab, safe_mode_only: true}]\n",
			vars: merged(twilioEnv, smppEnv, wechatEnv),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, "airbranch.yaml", tt.yaml)
			_, err := Load(path, env(tt.vars))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				return
			}
			ps := problemsOf(t, err)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tt.want), err)
			}
			for i, w := range tt.want {
				p := ps[i]
				if p.Line != w.line || p.Source != w.source || p.Field != w.field || !strings.Contains(p.Message, w.msg) {
					t.Errorf("problem %d = %q (line %d, source %q), want line %d source %q field %s message containing %q",
						i, p.Error(), p.Line, p.Source, w.line, w.source, w.field, w.msg)
				}
				if p.Line > 0 && p.File != path {
					t.Errorf("problem %d is in %q, want %q", i, p.File, path)
				}
			}
			for _, v := range tt.vars {
				if len(v) >= 6 && strings.Contains(err.Error(), v) {
					t.Errorf("secret value %q appears in the problems:\n%v", v, err)
				}
			}
		})
	}
}

// TestWeChatEnvPrefix: an account name becomes its variables' prefix.
func TestWeChatEnvPrefix(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"hk-main": "AIRBRANCH_WECHAT_HK_MAIN_", "sg": "AIRBRANCH_WECHAT_SG_", "a_b-2": "AIRBRANCH_WECHAT_A_B_2_"} {
		if got := WeChatEnvPrefix(name); got != want {
			t.Errorf("WeChatEnvPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}
