package wechat

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if c.APIBaseURL != DefaultAPIBaseURL || c.TimestampSkew != 300*time.Second || c.AckTimeout != 4*time.Second ||
		c.MaxBodyBytes != 64<<10 || c.Window.Message != (WindowRule{Duration: 48 * time.Hour, Quota: 5}) ||
		c.Window.MenuClick != (WindowRule{Duration: time.Minute, Quota: 3}) {
		t.Fatalf("defaults %+v", c)
	}
	c.Accounts = testConfig(t).Accounts
	if err := c.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

// TestConfigValidate: every problem is reported at once, each naming its
// field.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Accounts = []AccountConfig{
		{Name: "Bank!", OriginalID: "gh_1", Credentials: Credentials{AppID: "wx1", AppSecret: "s", Token: "t", EncodingAESKey: "short"}},
		{OriginalID: "gh_1", SafeModeOnly: true, MenuIntents: map[string]MenuIntent{"K": {}}, Template: TemplateConfig{URL: "https://x"}},
	}
	c.APIBaseURL = "ftp://api"
	c.AckTimeout = 5 * time.Second
	c.TimestampSkew = 0
	c.Window.Message.Quota = -1
	c.Window.Scan = WindowRule{Quota: 3}
	err := c.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err %v, want ErrConfig", err)
	}
	for _, field := range []string{
		"accounts[0].name", "accounts[0].credentials.encoding_aes_key", "accounts[1].name", "accounts[1].original_id",
		"accounts[1].credentials.app_id", "accounts[1].credentials.app_secret", "accounts[1].credentials.token",
		"accounts[1].menu_intents", "accounts[1].safe_mode_only", "accounts[1].template.template_id", "api_base_url", "ack_timeout",
		"timestamp_skew", "window.message.quota", "window.scan.duration",
	} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("no problem reported for %s in:\n%v", field, err)
		}
	}
	if _, err := New(Config{}, Deps{Sink: newFakeSink()}); !errors.Is(err, ErrConfig) {
		t.Errorf("New without accounts: %v", err)
	}
	if _, err := New(testConfig(t), Deps{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New without a sink: %v", err)
	}
}
