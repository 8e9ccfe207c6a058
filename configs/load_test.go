package configs

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms/smpp"
	"github.com/airbranch/airbranch/channels/sms/twilio"
	"github.com/airbranch/airbranch/channels/wechat"
	"github.com/airbranch/airbranch/routing"
)

// env returns a getenv over a fixed map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// problemsOf returns the Problems in err, failing the test if err is not
// made of them.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not Problems", err, err)
	}
	return ps
}

// writeFile writes content to name in a fresh folder and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("embedded defaults have problems:\n%v", err)
	}
	want := Config{
		Log:       LogConfig{Level: "info", Format: "json"},
		HTTP:      HTTPConfig{Addr: ":8080", MaxBodyBytes: 1 << 20, ReadHeaderTimeout: 5 * time.Second, ShutdownGrace: 20 * time.Second, DrainDelay: 2 * time.Second},
		Redis:     RedisConfig{Addrs: []string{}, KeyPrefix: "{airbranch}:", DialTimeout: 2 * time.Second},
		Auth:      AuthConfig{TokenTTL: 12 * time.Hour},
		Identity:  IdentityConfig{DefaultRegion: "HK"},
		Directory: DirectoryConfig{},
		SMS: SMSConfig{
			Twilio: TwilioConfig{Accounts: []TwilioAccount{}, APIBaseURL: "https://api.twilio.com", RequestTimeout: 10 * time.Second, MaxTextRunes: 1600},
			SMPP: SMPPConfig{Window: 10, Throughput: 100, DeliveryReceipts: true, MaxParts: 10, MaxInboundParts: 32,
				EnquireLink: 30 * time.Second, ReadTimeout: 90 * time.Second, WriteTimeout: 10 * time.Second, BindTimeout: 10 * time.Second,
				RebindMin: time.Second, RebindMax: time.Minute, SubmitTimeout: 30 * time.Second, SinkTimeout: 10 * time.Second,
				ReassemblyTimeout: 5 * time.Minute, ReassemblyMaxMessages: 1000, DedupWindow: 10 * time.Minute, DedupMaxEntries: 10000},
		},
		WeChat: WeChatConfig{Accounts: []WeChatAccount{}, APIBaseURL: wechat.DefaultAPIBaseURL, TimestampSkew: wechat.DefaultTimestampSkew,
			AckTimeout: wechat.DefaultAckTimeout, APITimeout: wechat.DefaultAPITimeout, TokenLockTTL: wechat.DefaultTokenLockTTL,
			TokenRefreshMargin: wechat.DefaultTokenRefreshMargin, Window: wechat.DefaultWindow()},
		SIP: SIPConfig{MediaIP: "0.0.0.0", RTPPortMin: 10000, RTPPortMax: 10999, Trunks: []SIPTrunk{}, Realm: "airbranch", RMPhones: []SIPPhone{},
			RegisterMinExpires: time.Minute, RegisterMaxExpires: time.Hour, RegisterDefaultExpires: 10 * time.Minute,
			AnnounceEvery: 30 * time.Second, RMRingTimeout: 20 * time.Second, RTPTimeout: 30 * time.Second, DefaultLanguage: "en", RetryAfter: 5 * time.Second,
			Recording: SIPRecording{Segments: []conversation.Segment{}}, Outbound: SIPOutbound{Transport: "udp", RingTimeout: 45 * time.Second}},
		WebChat: WebChatConfig{Account: "app", Subject: "app_user", MaxAttachmentBytes: 2 << 20, AllowedOrigins: []string{}},
		Video: VideoConfig{UDPAddr: ":7882", ICEServers: []VideoICEServer{}, MaxParticipants: 6, TokenTTL: 2 * time.Hour, InvitationTTL: 24 * time.Hour,
			ReconnectGrace: 30 * time.Second, Recording: VideoRecordingConfig{Consent: VideoConsentAllParties, Dir: "recordings"}},
		Routing: routing.DefaultConfig(),
	}
	// The file writes every key, so the empty conflicts list is an empty
	// slice where DefaultConfig has nil.
	want.Routing.Conflicts = []routing.ConflictConfig{}
	// The channels' defaults are the adapters' own.
	if tw := cfg.TwilioAdapter(); tw.APIBaseURL != twilio.DefaultAPIBaseURL || tw.RequestTimeout != twilio.DefaultRequestTimeout || tw.MaxTextRunes != twilio.DefaultMaxTextRunes {
		t.Errorf("sms.twilio defaults differ from the adapter's: %+v", tw)
	}
	sm := cfg.SMPPAdapter()
	if sm.Window != smpp.DefaultWindow || sm.Throughput != smpp.DefaultThroughput || sm.EnquireLink != smpp.DefaultEnquireLink ||
		sm.ReadTimeout != 3*smpp.DefaultEnquireLink || sm.SubmitTimeout != smpp.DefaultSubmitTimeout || sm.MaxParts != smpp.DefaultMaxParts ||
		sm.RebindMax != smpp.DefaultRebindMax || sm.DedupMaxEntries != smpp.DefaultDedupMaxEntries || sm.NoReceipts {
		t.Errorf("sms.smpp defaults differ from the adapter's: %+v", sm)
	}
	// The voice channel's defaults are the adapter's own.
	sa, sd := cfg.SIPAdapter(), cfg.SIPAdapter().WithDefaults()
	sa.PublicHost, sa.PublicMediaIP, sa.DefaultRegion = sd.PublicHost, sd.PublicMediaIP, sd.DefaultRegion
	if !reflect.DeepEqual(sa, sd) {
		t.Errorf("sip defaults differ from the adapter's:\n%+v\n%+v", sa, sd)
	}
	if cfg.SMS.Twilio.Enabled() || cfg.SMS.SMPP.Enabled() || cfg.WeChat.Enabled() || cfg.SIP.Enabled() {
		t.Error("defaults enable a channel; they must all be off")
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Default() = %+v\nwant %+v", *cfg, want)
	}
	if cfg.Redis.Enabled() {
		t.Error("defaults enable Redis; they must run with the memory store")
	}
	loaded, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load(\"\", nil): %v", err)
	}
	if !reflect.DeepEqual(loaded.HTTP, want.HTTP) || loaded.File != "" {
		t.Errorf("Load(\"\") = %+v, want the defaults", loaded)
	}
}

// leafPaths lists the YAML paths of every non-struct field of t.
func leafPaths(t reflect.Type, prefix string) []string {
	var out []string
	for _, name := range fieldNames(t) {
		ft := yamlFields(t)[name]
		p := joinPath(prefix, name)
		if ft.Kind() == reflect.Struct && ft != timeType() {
			out = append(out, leafPaths(ft, p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func TestDefaultYAMLWritesAndDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	var cfg Config
	lines, problems, _ := decodeStrict("airbranch.yaml", DefaultYAML(), &cfg)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, p := range leafPaths(reflect.TypeFor[Config](), "") {
		if _, ok := lines[p]; !ok {
			t.Errorf("configs/airbranch.yaml does not write key %s", p)
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(DefaultYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	// Every key of the format (a struct field, at any depth) has a comment;
	// the entries of a map (costs.voice, segments.private) are values, not
	// keys of the format, and are documented by their map's comment.
	var check func(n *yaml.Node, typ reflect.Type, path string)
	check = func(n *yaml.Node, typ reflect.Type, path string) {
		fields := yamlFields(typ)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			p := joinPath(path, key.Value)
			if strings.TrimSpace(key.HeadComment) == "" && strings.TrimSpace(key.LineComment) == "" {
				t.Errorf("configs/airbranch.yaml:%d: key %s has no comment", key.Line, p)
			}
			ft, ok := fields[key.Value]
			if !ok {
				t.Errorf("configs/airbranch.yaml:%d: key %s is not a field of %s", key.Line, p, typ)
				continue
			}
			if val.Kind == yaml.MappingNode && ft.Kind() == reflect.Struct && ft != timeType() {
				check(val, ft, p)
			}
		}
	}
	check(doc.Content[0], reflect.TypeFor[Config](), "")
	for _, p := range []string{"routing.wrap_up.timeout", "routing.ageing.cap", "routing.private_gate.min_verification", "routing.policies"} {
		if _, ok := lines[p]; !ok {
			t.Errorf("configs/airbranch.yaml does not write routing key %s", p)
		}
	}
}

// fullSecrets are the secrets the channels of testdata/full.yaml need.
var fullSecrets = map[string]string{
	EnvTwilioAccountSID:                      "AC00000000000000000000000000000001",
	EnvTwilioAuthToken:                       "full-twilio-token",
	EnvSMPPPassword:                          "smpp-pw",
	EnvWebChatAnonymousSecret:                "full-webchat-anonymous-secret-32bytes",
	"AIRBRANCH_WECHAT_HK_MAIN_APPID":         "wxfullhkmain",
	"AIRBRANCH_WECHAT_HK_MAIN_SECRET":        "full-hk-secret",
	"AIRBRANCH_WECHAT_HK_MAIN_TOKEN":         "fullHKtoken1",
	"AIRBRANCH_WECHAT_HK_MAIN_AES_KEY":       strings.Repeat("B", 43),
	"AIRBRANCH_WECHAT_SG_APPID":              "wxfullsg",
	"AIRBRANCH_WECHAT_SG_SECRET":             "full-sg-secret",
	"AIRBRANCH_WECHAT_SG_TOKEN":              "fullSGtoken1",
	"AIRBRANCH_WECHAT_NOT_CONFIGURED_KEY":    "ignored",
	EnvSIPNonceSecret:                        "full-sip-nonce-secret-16+",
	"AIRBRANCH_SIP_TRUNK_SBC_B_PASSWORD":     "full-sbc-password",
	"AIRBRANCH_SIP_PHONE_RM_PB_01_PASSWORD":  "full-phone-password",
	"AIRBRANCH_SIP_TRUNK_CARRIER_A_PASSWORD": "ignored: carrier-a has no username",
}

// withVars returns fullSecrets with more variables.
func withVars(more map[string]string) map[string]string {
	out := maps.Clone(fullSecrets)
	maps.Copy(out, more)
	return out
}

func TestLoadFullFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "full.yaml")
	cfg, err := Load(path, env(fullSecrets))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		InstanceID: "gw-test-1",
		Log:        LogConfig{Level: "debug", Format: "text"},
		HTTP: HTTPConfig{Addr: "127.0.0.1:9090", PublicURL: "https://airbranch.bank.example", MaxBodyBytes: 2 << 20,
			ReadHeaderTimeout: 3 * time.Second, ShutdownGrace: 45 * time.Second, DrainDelay: 500 * time.Millisecond},
		Redis: RedisConfig{Addrs: []string{"127.0.0.1:26379", "127.0.0.1:26380"}, MasterName: "airbranch-master",
			KeyPrefix: "{ab-test}:", DialTimeout: 1500 * time.Millisecond},
		Auth: AuthConfig{JWKSFile: filepath.Join("testdata", "jwks.json"), Issuer: "https://login.bank.example",
			Audience: "airbranch", TokenTTL: 8 * time.Hour},
		Identity:  IdentityConfig{DefaultRegion: "GB"},
		Directory: DirectoryConfig{File: filepath.Join("demo", "directory.yaml")},
		SMS: SMSConfig{
			Twilio: TwilioConfig{
				Accounts: []TwilioAccount{{Name: "+85230001234"},
					{Name: "hk-alerts", From: "+85230005678", MessagingServiceSID: "MG00000000000000000000000000000001"}},
				PublicBaseURL: "https://sms.bank.example", APIBaseURL: "https://api.sms-provider.example",
				RequestTimeout: 5 * time.Second, MaxTextRunes: 800,
			},
			SMPP: SMPPConfig{Addr: "smsc.carrier.example:2775", SystemID: "airbranch", SystemType: "vma", Account: "95566",
				SourceAddr: "95566", SourceTON: 3, SourceNPI: 9, Window: 20, Throughput: 50, DeliveryReceipts: false, MaxParts: 6,
				MaxInboundParts: 16, EnquireLink: 20 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Second,
				BindTimeout: 5 * time.Second, RebindMin: 2 * time.Second, RebindMax: 2 * time.Minute, SubmitTimeout: 20 * time.Second,
				SinkTimeout: 5 * time.Second, ReassemblyTimeout: 2 * time.Minute, ReassemblyMaxMessages: 500,
				DedupWindow: 5 * time.Minute, DedupMaxEntries: 5000},
		},
		WeChat: WeChatConfig{
			Accounts: []WeChatAccount{
				{Name: "hk-main", OriginalID: "gh_0123456789ab", SafeModeOnly: true, WelcomeText: "Welcome.",
					MenuIntents: map[string]wechat.MenuIntent{"TALK_TO_RM": {Intent: "wealth", StartConversation: true}},
					Template: wechat.TemplateConfig{TemplateID: "tpl-1", URL: "https://bank.example/inbox",
						Data: map[string]string{"first": "Your RM wrote to you", "keyword1": "{text}"}}},
				{Name: "sg", OriginalID: "gh_ba9876543210"},
			},
			APIBaseURL: "https://api.wechat-proxy.example", TimestampSkew: time.Minute, AckTimeout: 3 * time.Second,
			APITimeout: 5 * time.Second, TokenLockTTL: 5 * time.Second, TokenRefreshMargin: 2 * time.Minute,
			Window: wechat.WindowConfig{Message: wechat.WindowRule{Duration: 24 * time.Hour, Quota: 3},
				MenuClick: wechat.WindowRule{Duration: 2 * time.Minute, Quota: 2},
				Subscribe: wechat.WindowRule{Duration: 2 * time.Minute, Quota: 1},
				Scan:      wechat.WindowRule{Duration: 30 * time.Second}},
		},
		SIP: SIPConfig{UDPAddr: "0.0.0.0:5070", TCPAddr: "0.0.0.0:5070", TLSAddr: "0.0.0.0:5071",
			TLSCertFile: filepath.Join("testdata", "sip-tls-cert.pem"), TLSKeyFile: filepath.Join("testdata", "sip-tls-key.pem"),
			PublicHost: "sip.bank.example", MediaIP: "192.0.2.5", PublicMediaIP: "198.51.100.5", RTPPortMin: 20000, RTPPortMax: 20999,
			DefaultRegion: "HK", ChannelAccount: "+85221234567",
			Trunks:      []SIPTrunk{{Name: "carrier-a", Sources: []string{"198.51.100.0/24"}, TrustIdentity: true}, {Name: "sbc.b", Username: "airbranch-sbc"}},
			DropUnknown: true, Realm: "bank.example", RMPhones: []SIPPhone{{RM: "rm-pb-01", Username: "rm-pb-01"}},
			RegisterMinExpires: 30 * time.Second, RegisterMaxExpires: 2 * time.Hour, RegisterDefaultExpires: 15 * time.Minute,
			RingBeforeAnswer: 2 * time.Second, AnnounceEvery: 45 * time.Second, RMRingTimeout: 25 * time.Second, RTPTimeout: 0,
			DefaultLanguage: "zh", RetryAfter: 10 * time.Second, PhoneFirst: true,
			Recording: SIPRecording{Segments: []conversation.Segment{}}, Outbound: SIPOutbound{Transport: "udp", RingTimeout: 45 * time.Second}},
		WebChat: WebChatConfig{Enabled: true, Account: "hk-app", JWKSFile: filepath.Join("testdata", "jwks.json"), Issuer: "https://app.bank.example",
			Audience: "airbranch-chat", Subject: "customer", Anonymous: true, MaxAttachmentBytes: 1 << 20, AllowedOrigins: []string{"https://www.bank.example"}},
		Video: VideoConfig{UDPAddr: ":7882", ICEServers: []VideoICEServer{}, MaxParticipants: 6, TokenTTL: 2 * time.Hour, InvitationTTL: 24 * time.Hour,
			ReconnectGrace: 30 * time.Second, Recording: VideoRecordingConfig{Consent: VideoConsentAllParties, Dir: filepath.Join("testdata", "recordings")}},
		Routing: fullRouting(),
		Secrets: Secrets{SIPNonceSecret: "full-sip-nonce-secret-16+", SIPTrunkPasswords: map[string]string{"sbc.b": "full-sbc-password"},
			SIPPhonePasswords: map[string]string{"rm-pb-01": "full-phone-password"},
			TwilioAccountSID:  fullSecrets[EnvTwilioAccountSID], TwilioAuthToken: fullSecrets[EnvTwilioAuthToken],
			SMPPPassword: fullSecrets[EnvSMPPPassword], WebChatAnonymousSecret: fullSecrets[EnvWebChatAnonymousSecret],
			WeChatAccounts: map[string]WeChatCredentials{
				"hk-main": {AppID: "wxfullhkmain", Secret: "full-hk-secret", Token: "fullHKtoken1", AESKey: strings.Repeat("B", 43)},
				"sg":      {AppID: "wxfullsg", Secret: "full-sg-secret", Token: "fullSGtoken1"},
			}},
		File: path,
	}
	got := *cfg
	got.origins = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(full.yaml) =\n%+v\nwant\n%+v", got, want)
	}
	if !cfg.Redis.Enabled() {
		t.Error("Redis.Enabled() = false with addrs set")
	}
	dir, err := LoadDirectory(cfg)
	if err != nil {
		t.Fatalf("LoadDirectory through a relative path: %v", err)
	}
	if _, err := CompileRouting(cfg, dir); err != nil {
		t.Errorf("routing of full.yaml does not compile against the demo directory:\n%v", err)
	}
}

func TestLoadThreeMistakes(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "three_mistakes.yaml")
	_, err := Load(path, nil)
	ps := problemsOf(t, err)
	want := []struct {
		line  int
		field string
		msg   string
	}{
		{4, "log.level", `unknown level "verbose" (allowed: debug, info, warn, error)`},
		{8, "http.max_body_bytes", "100 bytes is out of range (allowed: 1024 (1 KiB) to 67108864 (64 MiB))"},
		{11, "redis.key_prefix", `"airbranch:" has no hash tag (allowed:`},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for i, w := range want {
		p := ps[i]
		if p.File != path || p.Line != w.line || p.Field != w.field || !strings.Contains(p.Message, w.msg) || !errors.Is(p, ErrInvalid) {
			t.Errorf("problem %d = %q, want %s:%d: %s: %s", i, p.Error(), path, w.line, w.field, w.msg)
		}
	}
	if strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("Error() is not one problem per line:\n%s", err)
	}
}

func TestLoadStructuralProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     string // a testdata file, or "" to write yaml
		yaml     string
		line     int
		field    string
		sentinel error
		msg      string
	}{
		{name: "unknown key", path: "testdata/unknown_key.yaml", line: 4, field: "http.adr", sentinel: ErrUnknownKey,
			msg: `unknown key "adr" (allowed: addr, public_url, max_body_bytes, read_header_timeout, shutdown_grace, drain_delay); did you mean "addr"?`},
		{name: "wrong type: bare number for a duration", path: "testdata/wrong_type.yaml", line: 5, field: "http.shutdown_grace", sentinel: ErrWrongType,
			msg: `wrong type: got "20" (allowed: a duration such as "20s"`},
		{name: "unknown top-level section", yaml: "log:\n  level: info\nmetrics:\n  addr: x\n", line: 3, field: "metrics", sentinel: ErrUnknownKey,
			msg: "allowed: instance_id, log, http, redis, auth, identity, directory"},
		{name: "wrong type: list for a string", yaml: "log:\n  level: [info]\n", line: 2, field: "log.level", sentinel: ErrWrongType,
			msg: "got a list (allowed: a string)"},
		{name: "wrong type: text for an integer", yaml: "http:\n  max_body_bytes: 1MiB\n", line: 2, field: "http.max_body_bytes", sentinel: ErrWrongType,
			msg: `got "1MiB" (allowed: an integer)`},
		{name: "wrong type: scalar for a section", yaml: "redis: localhost\n", line: 1, field: "redis", sentinel: ErrWrongType,
			msg: "allowed: a mapping with keys url, addrs, master_name, key_prefix, dial_timeout"},
		{name: "wrong type: string for a list", yaml: "redis:\n  addrs: 127.0.0.1:6379\n", line: 2, field: "redis.addrs", sentinel: ErrWrongType,
			msg: "allowed: a list of a string"},
		{name: "duplicate key", yaml: "log:\n  level: info\n  level: debug\n", line: 3, field: "log.level", sentinel: ErrSyntax,
			msg: `key "level" written twice (first at line 2`},
		{name: "syntax error", yaml: "log:\n  level: [info\n", line: -1, field: "", sentinel: ErrSyntax, msg: "yaml syntax:"},
		{name: "two documents", yaml: "log: {level: info}\n---\nlog: {level: debug}\n", line: 2, field: "", sentinel: ErrSyntax,
			msg: "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.path
			if path == "" {
				path = writeFile(t, "config.yaml", tt.yaml)
			}
			_, err := Load(path, nil)
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			p := ps[0]
			if tt.line == -1 && p.Line <= 0 || tt.line > 0 && p.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", p.Line, tt.line, p)
			}
			if p.File != path || p.Field != tt.field || !errors.Is(p, tt.sentinel) || !strings.Contains(p.Message, tt.msg) {
				t.Errorf("problem = %q (%v), want field %q, %v, message containing %q", p.Error(), p.Err, tt.field, tt.sentinel, tt.msg)
			}
		})
	}
}

func TestLoadReportsStructuralAndValueProblemsTogether(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "config.yaml", "log:\n  levle: debug\n  format: xml\nhttp:\n  shutdown_grace: 20\n")
	_, err := Load(path, nil)
	ps := problemsOf(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, p.Field)
	}
	want := []string{"log.levle", "log.format", "http.shutdown_grace"}
	if !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v:\n%v", got, want, err)
	}
}

func TestLoadEmptyFileIsDefaults(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "empty.yaml", "# nothing set\n")
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":8080" || cfg.File != path {
		t.Errorf("empty file gave %+v", cfg)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	var ps Problems
	if errors.As(err, &ps) {
		t.Error("a missing file is reported as Problems")
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	t.Parallel()
	cfg, err := Load(filepath.Join("testdata", "full.yaml"), env(withVars(map[string]string{
		EnvHTTPAddr: ":7070",
		EnvLogLevel: "warn",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != ":7070" || cfg.Log.Level != "warn" {
		t.Errorf("env did not override the file: addr %q level %q", cfg.HTTP.Addr, cfg.Log.Level)
	}

	// Redis URL from the environment, over the defaults.
	cfg, err = Load("", env(map[string]string{EnvRedisURL: "redis://127.0.0.1:6379/15"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Redis.URL != "redis://127.0.0.1:6379/15" || !cfg.Redis.Enabled() {
		t.Errorf("redis url = %q", cfg.Redis.URL)
	}

	// Empty variables are unset.
	cfg, err = Load("", env(map[string]string{EnvHTTPAddr: ""}))
	if err != nil || cfg.HTTP.Addr != ":8080" {
		t.Errorf("empty AIRBRANCH_HTTP_ADDR changed addr to %q (%v)", cfg.HTTP.Addr, err)
	}
}

func TestLoadEnvProblemsNameTheVariable(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "config.yaml", "http:\n  addr: \":9090\"\nlog:\n  level: info\n")
	_, err := Load(path, env(map[string]string{
		EnvHTTPAddr: "no-port",
		EnvLogLevel: "loud",
		EnvRedisURL: "http://u:hunter2hunter2@127.0.0.1:6379",
	}))
	ps := problemsOf(t, err)
	want := map[string]string{
		"http.addr": "(env AIRBRANCH_HTTP_ADDR): http.addr:",
		"log.level": "(env AIRBRANCH_LOG_LEVEL): log.level:",
		"redis.url": "(env AIRBRANCH_REDIS_URL): redis.url:",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for _, p := range ps {
		if !strings.HasPrefix(p.Error(), want[p.Field]) || p.Line != 0 {
			t.Errorf("problem %q, want prefix %q and no line", p.Error(), want[p.Field])
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a password from the Redis URL leaked into the error: %v", err)
	}
}

func TestLoadSecretsFromEnvironment(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		EnvJWTSecret:        strings.Repeat("k", 32),
		EnvWeChatAppID:      "wx0000000000demo",
		EnvWeChatSecret:     "demo-wechat-secret",
		EnvWeChatToken:      "demoToken123",
		EnvWeChatAESKey:     strings.Repeat("A", 43),
		EnvTwilioAccountSID: "AC00000000000000000000000000000000",
		EnvTwilioAuthToken:  "demo-twilio-token",
		EnvSMPPPassword:     "smpp-pw",
	}
	cfg, err := Load("", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	want := Secrets{
		JWTSecret:   vars[EnvJWTSecret],
		WeChatAppID: vars[EnvWeChatAppID], WeChatSecret: vars[EnvWeChatSecret],
		WeChatToken: vars[EnvWeChatToken], WeChatAESKey: vars[EnvWeChatAESKey],
		TwilioAccountSID: vars[EnvTwilioAccountSID], TwilioAuthToken: vars[EnvTwilioAuthToken],
		SMPPPassword: vars[EnvSMPPPassword],
	}
	if !reflect.DeepEqual(cfg.Secrets, want) {
		t.Errorf("Secrets = %+v, want %+v", cfg.Secrets, want)
	}
	if cfg, _ := Load("", nil); !reflect.DeepEqual(cfg.Secrets, Secrets{}) {
		t.Errorf("nil getenv read secrets: %+v", cfg.Secrets)
	}
}

func TestLoadSecretsNeverFromFile(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "config.yaml", "secrets:\n  jwt_secret: in-the-file\n")
	_, err := Load(path, nil)
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Field != "secrets" || !errors.Is(ps[0], ErrUnknownKey) {
		t.Fatalf("a secrets section in the file gave %v, want one unknown key", err)
	}
}
