package configs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// privateJWKS writes a key set holding a private P-256 key and returns its
// path.
func privateJWKS(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "private-1", Algorithm: "ES256"}}})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "private.jwks.json", string(b))
}

func TestValidateValues(t *testing.T) {
	t.Parallel()
	publicJWKS := filepath.Join("testdata", "jwks.json")
	tests := []struct {
		name   string
		modify func(t *testing.T, c *Config)
		field  string // "" means no problem expected
		msg    string
	}{
		{"instance id with a space", func(_ *testing.T, c *Config) { c.InstanceID = "gw 1" }, "instance_id", "is not a valid instance id (allowed: 1 to 64"},
		{"instance id ok", func(_ *testing.T, c *Config) { c.InstanceID = "gw-1.hk_a" }, "", ""},
		{"log level unknown", func(_ *testing.T, c *Config) { c.Log.Level = "trace" }, "log.level", `unknown level "trace" (allowed: debug, info, warn, error)`},
		{"log format unknown", func(_ *testing.T, c *Config) { c.Log.Format = "xml" }, "log.format", `unknown format "xml" (allowed: json, text)`},
		{"http addr without port", func(_ *testing.T, c *Config) { c.HTTP.Addr = "8080" }, "http.addr", "missing port in address (allowed: host:port"},
		{"http addr port out of range", func(_ *testing.T, c *Config) { c.HTTP.Addr = ":99999" }, "http.addr", `port "99999" is not a number from 0 to 65535`},
		{"http addr empty", func(_ *testing.T, c *Config) { c.HTTP.Addr = "" }, "http.addr", "allowed: host:port"},
		{"http addr ipv6 ok", func(_ *testing.T, c *Config) { c.HTTP.Addr = "[::1]:8080" }, "", ""},
		{"http addr port 0 ok", func(_ *testing.T, c *Config) { c.HTTP.Addr = "127.0.0.1:0" }, "", ""},
		{"public url relative", func(_ *testing.T, c *Config) { c.HTTP.PublicURL = "/airbranch" }, "http.public_url", `has scheme ""`},
		{"public url ftp", func(_ *testing.T, c *Config) { c.HTTP.PublicURL = "ftp://files.bank.example" }, "http.public_url", `has scheme "ftp"`},
		{"public url with query", func(_ *testing.T, c *Config) { c.HTTP.PublicURL = "https://a.example/?x=1" }, "http.public_url", "has user info, a query or a fragment"},
		{"public url with user", func(_ *testing.T, c *Config) { c.HTTP.PublicURL = "https://u:pw@a.example" }, "http.public_url", "has user info"},
		{"public url ok", func(_ *testing.T, c *Config) { c.HTTP.PublicURL = "https://airbranch.bank.example/gw/" }, "", ""},
		{"body limit below 1 KiB", func(_ *testing.T, c *Config) { c.HTTP.MaxBodyBytes = 1023 }, "http.max_body_bytes", "1023 bytes is out of range (allowed: 1024 (1 KiB) to 67108864 (64 MiB))"},
		{"body limit above 64 MiB", func(_ *testing.T, c *Config) { c.HTTP.MaxBodyBytes = 64<<20 + 1 }, "http.max_body_bytes", "67108865 bytes is out of range"},
		{"body limit at 1 KiB ok", func(_ *testing.T, c *Config) { c.HTTP.MaxBodyBytes = 1 << 10 }, "", ""},
		{"body limit at 64 MiB ok", func(_ *testing.T, c *Config) { c.HTTP.MaxBodyBytes = 64 << 20 }, "", ""},
		{"read header timeout zero", func(_ *testing.T, c *Config) { c.HTTP.ReadHeaderTimeout = 0 }, "http.read_header_timeout", "0s is out of range (allowed: more than 0s, at most 1m)"},
		{"read header timeout too long", func(_ *testing.T, c *Config) { c.HTTP.ReadHeaderTimeout = 2 * time.Minute }, "http.read_header_timeout", "2m is out of range"},
		{"shutdown grace negative", func(_ *testing.T, c *Config) { c.HTTP.ShutdownGrace = -time.Second }, "http.shutdown_grace", "-1s is out of range (allowed: more than 0s, at most 10m)"},
		{"shutdown grace too long", func(_ *testing.T, c *Config) { c.HTTP.ShutdownGrace = time.Hour }, "http.shutdown_grace", "1h is out of range"},
		{"redis url wrong scheme", func(_ *testing.T, c *Config) { c.Redis.URL = "http://127.0.0.1:6379" }, "redis.url", `has scheme "http" (allowed: redis://`},
		{"redis url bad database", func(_ *testing.T, c *Config) { c.Redis.URL = "redis://127.0.0.1:6379/abc" }, "redis.url", `invalid database number`},
		{"redis url does not parse", func(_ *testing.T, c *Config) { c.Redis.URL = "redis://[::1" }, "redis.url", "does not parse"},
		{"redis url tls ok", func(_ *testing.T, c *Config) { c.Redis.URL = "rediss://user:pw@redis.bank.example:6380/2" }, "", ""},
		{"redis url with separate username", func(_ *testing.T, c *Config) { c.Redis.URL = "redis://127.0.0.1:6379/0"; c.Redis.Username = "ab" }, "redis.url", "username, db and tls are for addrs"},
		{"redis db negative", func(_ *testing.T, c *Config) { c.Redis.DB = -1 }, "redis.db", "-1 is out of range"},
		{"redis addrs with user, db and tls ok", func(_ *testing.T, c *Config) {
			c.Redis.Addrs = []string{"10.0.0.1:26379"}
			c.Redis.MasterName = "primary"
			c.Redis.Username, c.Redis.DB, c.Redis.TLS = "ab", 3, true
		}, "", ""},
		{"redis url and addrs", func(_ *testing.T, c *Config) {
			c.Redis.URL, c.Redis.Addrs = "redis://127.0.0.1:6379", []string{"127.0.0.1:7000"}
		}, "redis.addrs", "both redis.url and redis.addrs are set"},
		{"redis addr without host", func(_ *testing.T, c *Config) { c.Redis.Addrs = []string{"127.0.0.1:7000", ":7001"} }, "redis.addrs[1]", "missing host"},
		{"redis addr port zero", func(_ *testing.T, c *Config) { c.Redis.Addrs = []string{"127.0.0.1:0"} }, "redis.addrs[0]", `port "0" is not a number from 1 to 65535`},
		{"sentinel master without addrs", func(_ *testing.T, c *Config) { c.Redis.MasterName = "mymaster" }, "redis.master_name", "needs Sentinel seeds in redis.addrs"},
		{"sentinel ok", func(_ *testing.T, c *Config) {
			c.Redis.MasterName, c.Redis.Addrs = "mymaster", []string{"127.0.0.1:26379"}
		}, "", ""},
		{"key prefix without hash tag", func(_ *testing.T, c *Config) { c.Redis.KeyPrefix = "airbranch:" }, "redis.key_prefix", "has no hash tag"},
		{"key prefix with empty hash tag", func(_ *testing.T, c *Config) { c.Redis.KeyPrefix = "{}:airbranch:" }, "redis.key_prefix", "has no hash tag"},
		{"key prefix tag in the middle ok", func(_ *testing.T, c *Config) { c.Redis.KeyPrefix = "bank:{ab}:" }, "", ""},
		{"dial timeout zero", func(_ *testing.T, c *Config) { c.Redis.DialTimeout = 0 }, "redis.dial_timeout", "allowed: more than 0s, at most 1m"},
		{"jwks file missing", func(t *testing.T, c *Config) { c.Auth.JWKSFile = filepath.Join(t.TempDir(), "absent.json") }, "auth.jwks_file", "cannot read: no such file or directory"},
		{"jwks file not json", func(t *testing.T, c *Config) { c.Auth.JWKSFile = writeFile(t, "jwks.json", "keys: []") }, "auth.jwks_file", "not a JSON Web Key Set"},
		{"jwks file without keys", func(t *testing.T, c *Config) { c.Auth.JWKSFile = writeFile(t, "jwks.json", `{"keys":[]}`) }, "auth.jwks_file", "the key set has no keys"},
		{"jwks file with a private key", func(t *testing.T, c *Config) { c.Auth.JWKSFile = privateJWKS(t) }, "auth.jwks_file", `key 0 (kid "private-1") is not a public key`},
		{"jwks file ok", func(_ *testing.T, c *Config) { c.Auth.JWKSFile = publicJWKS }, "", ""},
		{"token ttl below a minute", func(_ *testing.T, c *Config) { c.Auth.TokenTTL = 30 * time.Second }, "auth.token_ttl", "30s is out of range (allowed: 1m to 720h)"},
		{"token ttl above 30 days", func(_ *testing.T, c *Config) { c.Auth.TokenTTL = 31 * 24 * time.Hour }, "auth.token_ttl", "744h is out of range"},
		{"token ttl 30 days ok", func(_ *testing.T, c *Config) { c.Auth.TokenTTL = 30 * 24 * time.Hour }, "", ""},
		{"region lower case", func(_ *testing.T, c *Config) { c.Identity.DefaultRegion = "hk" }, "identity.default_region", `did you mean "HK"?`},
		{"region unknown", func(_ *testing.T, c *Config) { c.Identity.DefaultRegion = "XX" }, "identity.default_region", `"XX" is not a region known to the phone number library`},
		{"region empty", func(_ *testing.T, c *Config) { c.Identity.DefaultRegion = "" }, "identity.default_region", "allowed: an upper-case ISO 3166-1 alpha-2 code"},
		{"region GB ok", func(_ *testing.T, c *Config) { c.Identity.DefaultRegion = "GB" }, "", ""},
		{"directory file missing", func(t *testing.T, c *Config) { c.Directory.File = filepath.Join(t.TempDir(), "d.yaml") }, "directory.file", "no such file or directory"},
		{"directory file is a folder", func(t *testing.T, c *Config) { c.Directory.File = t.TempDir() }, "directory.file", "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.modify(t, c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				return
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.Field != tt.field || !strings.Contains(p.Message, tt.msg) || !errors.Is(p, ErrInvalid) || p.Source != "default" {
				t.Errorf("problem = %q, want field %s (default) with message containing %q", p.Error(), tt.field, tt.msg)
			}
			if !strings.Contains(p.Message, "allowed") {
				t.Errorf("message %q does not say what is allowed", p.Message)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Log.Level, c.Log.Format = "loud", "xml"
	c.HTTP.MaxBodyBytes = 0
	c.Redis.KeyPrefix = ""
	c.Identity.DefaultRegion = "ZZ"
	if ps := problemsOf(t, c.Validate()); len(ps) != 5 {
		t.Fatalf("got %d problems, want 5:\n%v", len(ps), Problems(ps))
	}
}

func TestValidateSecrets(t *testing.T) {
	t.Parallel()
	wechat := map[string]string{EnvWeChatAppID: "wxdemo", EnvWeChatSecret: "s3cr3t-value", EnvWeChatToken: "tok123"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			if bk != k {
				m[bk] = bv
			}
		}
		return m
	}
	tests := []struct {
		name  string
		vars  map[string]string
		env   string // variable named by the problem; "" for none
		field string
		msg   string
	}{
		{"jwt secret too short", map[string]string{EnvJWTSecret: "short-secret"}, EnvJWTSecret, "secrets.jwt_secret", "the secret is 12 bytes, too short for HS256 (allowed: at least 32 bytes"},
		{"jwt secret 32 bytes ok", map[string]string{EnvJWTSecret: strings.Repeat("x", 32)}, "", "", ""},
		{"wechat appid alone", map[string]string{EnvWeChatAppID: "wxdemo"}, EnvWeChatAppID, "secrets.wechat_appid",
			"AIRBRANCH_WECHAT_APPID set but AIRBRANCH_WECHAT_SECRET, AIRBRANCH_WECHAT_TOKEN not (allowed: all of"},
		{"wechat secret without appid", map[string]string{EnvWeChatSecret: "s3cr3t-value", EnvWeChatToken: "tok123"}, EnvWeChatSecret, "secrets.wechat_secret",
			"set but AIRBRANCH_WECHAT_APPID not"},
		{"wechat complete ok", wechat, "", "", ""},
		{"wechat token too short", with(wechat, EnvWeChatToken, "ab"), EnvWeChatToken, "secrets.wechat_token", "allowed: 3 to 32 letters or digits"},
		{"wechat token with punctuation", with(wechat, EnvWeChatToken, "tok-123!"), EnvWeChatToken, "secrets.wechat_token", "has other than letters and digits"},
		{"wechat aes key wrong length", with(wechat, EnvWeChatAESKey, strings.Repeat("A", 42)), EnvWeChatAESKey, "secrets.wechat_aes_key", "allowed: exactly 43 base64 characters"},
		{"wechat aes key not base64", with(wechat, EnvWeChatAESKey, strings.Repeat("*", 43)), EnvWeChatAESKey, "secrets.wechat_aes_key", "not an EncodingAESKey"},
		{"wechat aes key ok", with(wechat, EnvWeChatAESKey, strings.Repeat("A", 43)), "", "", ""},
		{"wechat aes key alone", map[string]string{EnvWeChatAESKey: strings.Repeat("A", 43)}, EnvWeChatAESKey, "secrets.wechat_aes_key", "set without AIRBRANCH_WECHAT_APPID"},
		{"twilio sid without token", map[string]string{EnvTwilioAccountSID: "AC0000"}, EnvTwilioAccountSID, "secrets.twilio_account_sid",
			"AIRBRANCH_TWILIO_ACCOUNT_SID set but AIRBRANCH_TWILIO_AUTH_TOKEN not"},
		{"twilio token without sid", map[string]string{EnvTwilioAuthToken: "tw-token-value"}, EnvTwilioAuthToken, "secrets.twilio_auth_token", "set but AIRBRANCH_TWILIO_ACCOUNT_SID not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load("", env(tt.vars))
			if tt.env == "" {
				if err != nil {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				return
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.Source != "env "+tt.env || p.Field != tt.field || !strings.Contains(p.Message, tt.msg) {
				t.Errorf("problem = %q, want (env %s): %s: ...%s...", p.Error(), tt.env, tt.field, tt.msg)
			}
			for _, v := range tt.vars {
				if len(v) >= 6 && strings.Contains(err.Error(), v) {
					t.Errorf("secret value %q appears in the error %q", v, err)
				}
			}
		})
	}
}
