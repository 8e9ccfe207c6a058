package configs

import (
	"strings"
	"testing"
)

// sipEnv holds the secrets of the voice channel in sipYAML.
var sipEnv = map[string]string{
	EnvSIPNonceSecret:                       "a-nonce-secret-of-16-bytes",
	"AIRBRANCH_SIP_TRUNK_SBC_1_PASSWORD":    "trunk-password",
	"AIRBRANCH_SIP_PHONE_RM_PB_01_PASSWORD": "phone-password",
}

// sipYAML is a complete voice channel: a trunk by source, one by digest,
// one RM phone.
const sipYAML = "sip:\n  udp_addr: \"127.0.0.1:5060\"\n  trunks:\n" +
	"    - {name: carrier-a, sources: [\"198.51.100.0/24\"], trust_identity: true}\n" +
	"    - {name: sbc-1, username: bank}\n" +
	"  rm_phones:\n    - {rm: rm-pb-01, username: rm-pb-01}\n"

// TestValidateSIP: each mistake in the sip section is one problem at the
// line and field that hold it; missing secrets name their variables.
func TestValidateSIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		vars map[string]string
		want []wantProblem
	}{
		{name: "off by default: nothing checked", yaml: "sip:\n  trunks: [{name: \"bad name\"}]\n"},
		{name: "complete", yaml: sipYAML, vars: sipEnv},
		{name: "complete, on redis", yaml: "redis:\n  url: redis://127.0.0.1:6379/0\n" + sipYAML, vars: sipEnv},
		{
			name: "secrets missing, on redis",
			yaml: "redis:\n  url: redis://127.0.0.1:6379/0\n" + sipYAML,
			want: []wantProblem{
				{line: 7, field: "sip.trunks[1].username", msg: "trunk \"sbc-1\" authenticates with digest but AIRBRANCH_SIP_TRUNK_SBC_1_PASSWORD is not set"},
				{line: 8, field: "sip.rm_phones", msg: "needs AIRBRANCH_SIP_NONCE_SECRET set"},
				{line: 9, field: "sip.rm_phones[0]", msg: "RM phone \"rm-pb-01\" is configured but AIRBRANCH_SIP_PHONE_RM_PB_01_PASSWORD is not set"},
			},
		},
		{
			name: "short nonce secret",
			yaml: sipYAML,
			vars: merged(sipEnv, map[string]string{EnvSIPNonceSecret: "short"}),
			want: []wantProblem{{source: "env " + EnvSIPNonceSecret, field: "secrets.sip_nonce_secret", msg: "the secret is 5 bytes (allowed: at least 16 bytes)"}},
		},
		{
			name: "values out of range and the adapter's own checks",
			yaml: "sip:\n  udp_addr: \"127.0.0.1:99999\"\n  media_ip: somewhere\n  rtp_port_min: 70000\n  announce_every: 0s\n" +
				"  rtp_timeout: 2s\n  retry_after: 1500ms\n  default_language: fr\n  trunks: [{name: t1}]\n",
			want: []wantProblem{
				{line: 2, field: "sip.udp_addr", msg: `port "99999" is not a number from 0 to 65535`},
				{line: 3, field: "sip.media_ip", msg: `"somewhere" is not an IP address`},
				{line: 4, field: "sip.rtp_port_min", msg: "70000 is out of range (allowed: 0 to 65535"},
				{line: 5, field: "sip.announce_every", msg: "0s is out of range (allowed: 5s to 10m0s)"},
				{line: 6, field: "sip.rtp_timeout", msg: "2s is out of range (allowed: 0s (off), or 5s to 1h0m0s)"},
				{line: 7, field: "sip.retry_after", msg: "1.5s is not whole seconds"},
				{line: 8, field: "sip.default_language", msg: `"fr": allowed en, zh`},
				{line: 9, field: "sip.trunks[0]", msg: "needs sources, username, or both"},
			},
		},
		{
			name: "names that cannot name a variable, or name one twice",
			yaml: "sip:\n  tcp_addr: \":5060\"\n  trunks:\n    - {name: \"a b\", sources: [192.0.2.1]}\n    - {name: x-1, sources: [192.0.2.2]}\n" +
				"    - {name: x.1, sources: [192.0.2.3]}\n  rm_phones:\n    - {rm: rm-pb-01, username: \"rm@pb\"}\n    - {rm: rm-pb-02, username: \"\"}\n",
			want: []wantProblem{
				{line: 4, field: "sip.trunks[0].name", msg: `"a b" has a character other than letters`},
				{line: 6, field: "sip.trunks[2].name", msg: `"x.1" reads its password from AIRBRANCH_SIP_TRUNK_X_1_PASSWORD, as sip.trunks[1] does`},
				{line: 8, field: "sip.rm_phones[0].username", msg: `"rm@pb" has a character other than letters`},
				{line: 9, field: "sip.rm_phones[1]", msg: "rm, username and password are all needed"},
			},
		},
		{
			name: "recording and outbound trunk",
			yaml: "sip:\n  udp_addr: \"127.0.0.1:5060\"\n  recording:\n    segments: [private, vip]\n  outbound:\n    addr: carrier\n" +
				"    transport: sctp\n    caller_id: \"12345\"\n    username: bank\n    ring_timeout: 1s\n",
			want: []wantProblem{
				{line: 3, field: "sip.recording.dir", msg: "segments are recorded but no folder is set"},
				{line: 4, field: "sip.recording.segments[1]", msg: `unknown segment "vip"`},
				{line: 6, field: "sip.outbound.addr", msg: `"carrier" is not host:port`},
				{line: 7, field: "sip.outbound.transport", msg: `"sctp": allowed udp, tcp, tls`},
				{line: 8, field: "sip.outbound.caller_id", msg: "must be E.164"},
				{line: 9, field: "sip.outbound.username", msg: "AIRBRANCH_SIP_OUTBOUND_PASSWORD is not set"},
				{line: 10, field: "sip.outbound.ring_timeout", msg: "1s is out of range (allowed: 5s to 5m0s)"},
			},
		},
		{
			name: "recording and outbound trunk complete",
			yaml: "sip:\n  udp_addr: \"127.0.0.1:5060\"\n  recording: {segments: [private], dir: calls}\n" +
				"  outbound: {addr: \"sbc.bank.example:5060\", caller_id: \"+85221234567\", username: bank}\n",
			vars: map[string]string{EnvSIPOutboundPassword: "out-secret"},
		},
		{
			name: "tls without its files",
			yaml: "sip:\n  tls_addr: \":5061\"\n  tls_cert_file: absent.pem\n",
			want: []wantProblem{
				{line: 3, field: "sip.tls_cert_file", msg: "absent.pem: no such file or directory"},
				{line: 3, field: "sip.tls_cert_file", msg: "tls_addr needs tls_cert_file and tls_key_file"},
			},
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
			}
			for _, v := range tt.vars {
				if strings.Contains(err.Error(), v) {
					t.Errorf("secret value %q appears in the problems:\n%v", v, err)
				}
			}
		})
	}
}

// TestCheckSIPPhoneOfUnknownRM: check-config reports an RM phone whose rm
// the directory lacks, at its line.
func TestCheckSIPPhoneOfUnknownRM(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "airbranch.yaml", "sip:\n  udp_addr: \"127.0.0.1:5060\"\n  rm_phones:\n    - {rm: rm-pb-01, username: a}\n    - {rm: rm-nobody, username: b}\n")
	_, _, err := Check(path, env(map[string]string{"AIRBRANCH_SIP_PHONE_A_PASSWORD": "pa", "AIRBRANCH_SIP_PHONE_B_PASSWORD": "pb"}))
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Line != 5 || ps[0].Field != "sip.rm_phones[1].rm" || !strings.Contains(ps[0].Message, `RM "rm-nobody" is not in the directory`) {
		t.Fatalf("problems:\n%v", err)
	}
}

// TestSIPAdapter: the adapter's config takes the secrets by trunk and
// phone, identity.default_region when sip.default_region is empty, and
// rtp_timeout 0s as off.
func TestSIPAdapter(t *testing.T) {
	t.Parallel()
	cfg, err := Load(writeFile(t, "airbranch.yaml", sipYAML+"  rtp_timeout: 0s\n"), env(sipEnv))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.SIPAdapter()
	if a.NonceSecret != sipEnv[EnvSIPNonceSecret] || a.Trunks[0].Password != "" || a.Trunks[1].Password != "trunk-password" ||
		a.RMPhones[0].Password != "phone-password" || a.DefaultRegion != "HK" || a.RTPTimeout >= 0 || !a.Trunks[0].TrustIdentity {
		t.Errorf("adapter config %+v", a)
	}
	for name, want := range map[string]string{"carrier-a": "AIRBRANCH_SIP_TRUNK_CARRIER_A_PASSWORD", "sbc.2": "AIRBRANCH_SIP_TRUNK_SBC_2_PASSWORD"} {
		if got := SIPTrunkPasswordEnv(name); got != want {
			t.Errorf("SIPTrunkPasswordEnv(%q) = %q, want %q", name, got, want)
		}
	}
	if got := SIPPhonePasswordEnv("rm-pb-01"); got != "AIRBRANCH_SIP_PHONE_RM_PB_01_PASSWORD" {
		t.Errorf("SIPPhonePasswordEnv = %q", got)
	}
}
