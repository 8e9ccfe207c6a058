package wechat

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/airbranch/airbranch/channels/conversation"
)

// vectorHarness is a harness configured with a vector's account, its
// clock at the vector's timestamp.
func vectorHarness(t *testing.T, v vector, toUser string, edit func(*Config)) *harness {
	t.Helper()
	ts, err := strconv.ParseInt(v.Timestamp, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, func(c *Config, d *Deps) {
		c.Accounts[0].OriginalID = toUser
		c.Accounts[0].Credentials = Credentials{AppID: v.AppID, AppSecret: "s", Token: v.Token, EncodingAESKey: v.EncodingAESKey}
		if edit != nil {
			edit(c)
		}
		d.Now = func() time.Time { return time.Unix(ts, 0) }
	})
}

// TestSafeModeVectors posts each published safe-mode vector as WeChat
// would and checks what is stored.
func TestSafeModeVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, toUser, from, msgID, text string
	}{
		{"mp-official-sample-spamtest.json", "gh_10f6c3c3ac5a", "oyORnuP8q7ou2gfYjqLzSIWZf0rs", "6054768590064713728", "abcdteT"},
		{"wecom-official-sample-QDG6eK.json", "wx5823bf96d3bd56c7", "mycreate", "4561255354251345929", "hello"},
		{"wechatpy-work-crypto.json", "wx49f0ab532d5d035a", "messense", "4363689963896700987", "test"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			v := loadVector(t, tt.file)
			h := vectorHarness(t, v, tt.toUser, nil)
			q := url.Values{"timestamp": {v.Timestamp}, "nonce": {v.Nonce}, "encrypt_type": {"aes"}, "msg_signature": {v.MsgSignature}}
			status, body := h.post(WebhookPath, q, []byte(v.Body))
			if status != http.StatusOK || body != "success" {
				t.Fatalf("got %d %q", status, body)
			}
			got := h.sink.all()
			if len(got) != 1 {
				t.Fatalf("stored %d", len(got))
			}
			in := got[0]
			if in.Kind != conversation.IncomingMessage || in.ChannelAccount != tt.toUser || in.From.Value != tt.from ||
				in.ProviderID != tt.msgID || in.Text != tt.text {
				t.Fatalf("stored %+v", in)
			}
		})
	}
}

// TestCompatibleModeVector: Tencent's compatible-mode body carries the
// plain fields beside Encrypt; without encrypt_type it is read in plain
// mode, with it the ciphertext is used. Both give the same message.
func TestCompatibleModeVector(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "mp-official-sample-spamtest.json")
	h := vectorHarness(t, v, "gh_10f6c3c3ac5a", nil)
	plainQ := url.Values{"timestamp": {v.Timestamp}, "nonce": {v.Nonce}, "signature": {v.URLVerify.Signature}}
	safeQ := url.Values{"timestamp": {v.Timestamp}, "nonce": {v.Nonce}, "signature": {v.URLVerify.Signature},
		"encrypt_type": {"aes"}, "msg_signature": {v.MsgSignature}}
	for _, q := range []url.Values{plainQ, safeQ} {
		if status, body := h.post(WebhookPath, q, []byte(v.Body)); status != http.StatusOK || body != "success" {
			t.Fatalf("%v: got %d %q", q, status, body)
		}
	}
	got := h.sink.all()
	if len(got) != 1 || got[0].Text != "abcdteT" || got[0].ProviderID != "6054768590064713728" {
		t.Fatalf("stored %+v, want the one message once", got)
	}
}

// TestSafeModeRefused: forged msg_signature, a wrong nonce, another app
// id, a missing key and a ciphertext that does not decrypt.
func TestSafeModeRefused(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "wechatpy-work-crypto.json")
	base := func() url.Values {
		return url.Values{"timestamp": {v.Timestamp}, "nonce": {v.Nonce}, "encrypt_type": {"aes"}, "msg_signature": {v.MsgSignature}}
	}
	// A well-signed Encrypt that is not a valid ciphertext (one block).
	junk := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	junkBody := "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName><Encrypt><![CDATA[" + junk + "]]></Encrypt></xml>"
	tests := []struct {
		name   string
		edit   func(*Config)
		query  func() url.Values
		body   string
		status int
	}{
		{"forged msg_signature", nil, func() url.Values { q := base(); q.Set("msg_signature", strings.Repeat("a", 40)); return q }, v.Body, http.StatusForbidden},
		{"no msg_signature", nil, func() url.Values { q := base(); q.Del("msg_signature"); return q }, v.Body, http.StatusForbidden},
		{"wrong nonce", nil, func() url.Values { q := base(); q.Set("nonce", v.Nonce+"1"); return q }, v.Body, http.StatusForbidden},
		{"wrong plain signature beside a good msg_signature", nil, func() url.Values { q := base(); q.Set("signature", strings.Repeat("b", 40)); return q }, v.Body, http.StatusForbidden},
		{"another app id", func(c *Config) { c.Accounts[0].Credentials.AppID = "wx0000000000000000" }, base, v.Body, http.StatusForbidden},
		{"no EncodingAESKey configured", func(c *Config) { c.Accounts[0].Credentials.EncodingAESKey = "" }, base, v.Body, http.StatusBadRequest},
		{"Encrypt does not decrypt", nil, func() url.Values {
			q := base()
			q.Set("msg_signature", util.Signature(v.Token, v.Timestamp, v.Nonce, junk))
			return q
		}, junkBody, http.StatusBadRequest},
		{"no Encrypt", nil, base, "<xml><ToUserName>wx49f0ab532d5d035a</ToUserName></xml>", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := vectorHarness(t, v, "wx49f0ab532d5d035a", tt.edit)
			status, body := h.post(WebhookPath, tt.query(), []byte(tt.body))
			if status != tt.status || body == "success" {
				t.Fatalf("got %d %q, want %d", status, body, tt.status)
			}
			if n := len(h.sink.all()); n != 0 {
				t.Fatalf("stored %d", n)
			}
		})
	}
}

// TestSafeModeWelcomeReply: the welcome reply to a subscribe event is
// encrypted in safe mode: its MsgSignature verifies and it decrypts to a
// text reply to the user.
func TestSafeModeWelcomeReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	cr := h.cfg.Accounts[0].Credentials
	q, body := safeBody(t, cr, testOriginalID, fixture(t, "plain/event-subscribe.xml"), testNow.Unix(), "n3")
	status, answer := h.post(WebhookPath, q, body)
	if status != http.StatusOK {
		t.Fatalf("status %d %q", status, answer)
	}
	var reply struct {
		Encrypt, MsgSignature, Nonce string
		TimeStamp                    int64
	}
	if err := xml.Unmarshal([]byte(answer), &reply); err != nil {
		t.Fatalf("reply %q: %v", answer, err)
	}
	if !verifySignature(reply.MsgSignature, cr.Token, strconv.FormatInt(reply.TimeStamp, 10), reply.Nonce, reply.Encrypt) {
		t.Fatal("reply MsgSignature does not verify")
	}
	_, plain, err := util.DecryptMsg(cr.AppID, reply.Encrypt, cr.EncodingAESKey)
	if err != nil {
		t.Fatal(err)
	}
	var text struct{ ToUserName, FromUserName, MsgType, Content string }
	if err := xml.Unmarshal(plain, &text); err != nil {
		t.Fatal(err)
	}
	if text.ToUserName != testOpenID || text.FromUserName != testOriginalID || text.MsgType != "text" || text.Content != h.cfg.Accounts[0].WelcomeText {
		t.Fatalf("reply %+v", text)
	}
	if got := h.sink.all(); len(got) != 1 || got[0].Event != EventSubscribe {
		t.Fatalf("stored %+v", got)
	}
}

// TestSafeModeMessage: an own fixture encrypted with silenceper's
// EncryptMsg round-trips through the handler.
func TestSafeModeMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	q, body := safeBody(t, h.cfg.Accounts[0].Credentials, testOriginalID, fixture(t, "plain/location.xml"), testNow.Unix(), "n4")
	if status, answer := h.post(WebhookPath, q, body); status != http.StatusOK || answer != "success" {
		t.Fatalf("got %d %q", status, answer)
	}
	if got := h.sink.all(); len(got) != 1 || !strings.HasPrefix(got[0].Text, "location 22.284681,114.158177") {
		t.Fatalf("stored %+v", got)
	}
}

// TestSafeModeOnly: an account in safe mode only refuses plain callbacks
// and takes encrypted ones.
func TestSafeModeOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config, _ *Deps) { c.Accounts[0].SafeModeOnly = true })
	text := fixture(t, "plain/text.xml")
	if status, body := h.postPlain(text); status != http.StatusForbidden {
		t.Fatalf("plain callback: %d %q, want 403", status, body)
	}
	q, body := safeBody(t, h.cfg.Accounts[0].Credentials, testOriginalID, text, testNow.Unix(), "n5")
	if status, answer := h.post(WebhookPath, q, body); status != http.StatusOK || answer != "success" {
		t.Fatalf("safe callback: %d %q", status, answer)
	}
	if n := len(h.sink.all()); n != 1 {
		t.Fatalf("stored %d, want 1", n)
	}
}
