package configs

import (
	"strings"
	"testing"
)

// TestValidateVideo: each mistake in the video section is one problem at
// the line and field that hold it, saying what is allowed; video on
// without its token secret names the variable.
func TestValidateVideo(t *testing.T) {
	t.Parallel()
	secret := map[string]string{EnvVideoTokenSecret: strings.Repeat("v", 32)}
	tests := []struct {
		name string
		yaml string
		vars map[string]string
		want []wantProblem
	}{
		{
			name: "enabled without the token secret",
			yaml: "video:\n  enabled: true\n",
			want: []wantProblem{{line: 2, field: "video.enabled", msg: EnvVideoTokenSecret + " is not set"}},
		},
		{
			name: "a short token secret",
			yaml: "video:\n  enabled: true\n",
			vars: map[string]string{EnvVideoTokenSecret: "short"},
			want: []wantProblem{{source: "env " + EnvVideoTokenSecret, field: "secrets.video_token_secret", msg: "at least 32"}},
		},
		{
			name: "bad address, public IP, ICE servers, size and rule",
			yaml: "video:\n  enabled: true\n  udp_addr: \"7882\"\n  public_ip: 203.0.113\n  ice_servers:\n    - {urls: [\"http://turn.example\"], username: u}\n" +
				"  max_participants: 80\n  recording:\n    consent: maybe\n",
			vars: secret,
			want: []wantProblem{
				{line: 3, field: "video.udp_addr", msg: "host:port"},
				{line: 4, field: "video.public_ip", msg: "not an IPv4 address"},
				{line: 6, field: "video.ice_servers[0].urls", msg: "stun:, stuns:, turn: or turns:"},
				{line: 6, field: "video.ice_servers[0].username", msg: EnvVideoTURNCredential},
				{line: 7, field: "video.max_participants", msg: "2 to 50"},
				{line: 9, field: "video.recording.consent", msg: "all_parties, not_required"},
			},
		},
		{
			name: "recording without a folder",
			yaml: "video:\n  enabled: true\n  recording:\n    enabled: true\n    dir: \"\"\n",
			vars: secret,
			want: []wantProblem{{line: 5, field: "video.recording.dir", msg: "no folder"}},
		},
		{
			name: "a valid section",
			yaml: "video:\n  enabled: true\n  public_ip: 203.0.113.10\n  ice_servers: [{urls: [\"stun:stun.bank.example:3478\"]}]\n",
			vars: secret,
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
		})
	}
}
