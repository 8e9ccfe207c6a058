package wechat

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestVerifyURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := func() url.Values {
		q := signedQuery(testToken, testNow.Unix(), "n1")
		q.Set("echostr", "echo-5927782489442352469")
		return q
	}
	tests := []struct {
		name     string
		path     string
		edit     func(url.Values)
		status   int
		wantBody string
	}{
		{"signed", WebhookPath, nil, http.StatusOK, "echo-5927782489442352469"},
		{"signed, named account", WebhookPath + "/bank", nil, http.StatusOK, "echo-5927782489442352469"},
		{"forged signature", WebhookPath, func(q url.Values) { q.Set("signature", util.Signature("other-token", q.Get("timestamp"), "n1")) }, http.StatusForbidden, ""},
		{"no signature", WebhookPath, func(q url.Values) { q.Del("signature") }, http.StatusForbidden, ""},
		{"no signature, safe-mode parameters", WebhookPath, func(q url.Values) {
			q.Del("signature")
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", util.Signature(testToken, q.Get("timestamp"), "n1", q.Get("echostr")))
		}, http.StatusForbidden, ""},
		{"stale timestamp", WebhookPath, func(q url.Values) {
			ts := strconv.FormatInt(testNow.Add(-301*time.Second).Unix(), 10)
			q.Set("timestamp", ts)
			q.Set("signature", util.Signature(testToken, ts, "n1"))
		}, http.StatusForbidden, ""},
		{"no echostr", WebhookPath, func(q url.Values) { q.Del("echostr") }, http.StatusBadRequest, ""},
		{"unknown account", WebhookPath + "/other", nil, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := good()
			if tt.edit != nil {
				tt.edit(q)
			}
			status, body := h.get(tt.path, q)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%s)", status, tt.status, body)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Fatalf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

// TestVerifyURLVector answers the URL verification of Tencent's sample
// account (token spamtest) with the vector's signature.
func TestVerifyURLVector(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "mp-official-sample-spamtest.json")
	ts, _ := strconv.ParseInt(v.URLVerify.Timestamp, 10, 64)
	h := newHarness(t, func(c *Config, d *Deps) {
		c.Accounts[0].OriginalID = "gh_10f6c3c3ac5a"
		c.Accounts[0].Credentials = Credentials{AppID: v.AppID, AppSecret: "s", Token: v.Token, EncodingAESKey: v.EncodingAESKey}
		d.Now = func() time.Time { return time.Unix(ts, 0) }
	})
	q := url.Values{"signature": {v.URLVerify.Signature}, "timestamp": {v.URLVerify.Timestamp}, "nonce": {v.URLVerify.Nonce}, "echostr": {v.URLVerify.Echostr}}
	if status, body := h.get(WebhookPath, q); status != http.StatusOK || body != v.URLVerify.Echostr {
		t.Fatalf("got %d %q, want 200 %q", status, body, v.URLVerify.Echostr)
	}
}

// TestCallbackMessageTypes posts each plain fixture and checks the
// Incoming the Sink stores.
func TestCallbackMessageTypes(t *testing.T) {
	t.Parallel()
	from := conversation.Address{Kind: conversation.AddressWeChat, Value: testOpenID}
	media := func(typ, id, name string) conversation.Attachment {
		return conversation.Attachment{Type: typ, Ref: MediaRefPrefix + id, Name: name}
	}
	tests := []struct {
		file  string
		want  conversation.Incoming
		reply string // "" means "success"
	}{
		{"text.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000001", Text: "我想查询理财产品 & <fees>"}, ""},
		{"image.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000002", Attachments: []conversation.Attachment{
			media("image", "media-image-0001", "image"),
			{Type: "image", Ref: "http://mmbiz.qpic.cn/mmbiz_jpg/airbranchtest/0", Name: "image"}}}, ""},
		{"voice.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000003", Attachments: []conversation.Attachment{
			media("audio/amr", "media-voice-0001", "voice")}}, ""},
		{"voice-recognition.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000004", Text: "帮我转接客户经理",
			Attachments: []conversation.Attachment{media("audio/speex", "media-voice-0002", "voice")}}, ""},
		{"video.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000005", Attachments: []conversation.Attachment{
			media("video", "media-video-0001", "video"), media("image", "media-thumb-0001", "thumbnail")}}, ""},
		{"shortvideo.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000006", Attachments: []conversation.Attachment{
			media("video", "media-shortvideo-0001", "shortvideo"), media("image", "media-thumb-0002", "thumbnail")}}, ""},
		{"location.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000007", Text: "location 22.284681,114.158177 scale 15: 中环皇后大道中"}, ""},
		{"link.xml", conversation.Incoming{Kind: conversation.IncomingMessage, ProviderID: "24300000000000008", Text: "Fund factsheet\nIs this fund right for me?\nhttps://example.com/fund/123"}, ""},
		{"event-subscribe.xml", conversation.Incoming{Kind: conversation.IncomingEvent, Event: EventSubscribe,
			ProviderID: eventKey(testOpenID, 1700000000, "subscribe")}, "Welcome to the bank"},
		{"event-subscribe-qrscene.xml", conversation.Incoming{Kind: conversation.IncomingEvent, Event: EventSubscribe, Text: "qrscene_branch42",
			ProviderID: eventKey(testOpenID, 1700000000, "subscribe")}, "Welcome to the bank"},
		{"event-unsubscribe.xml", conversation.Incoming{Kind: conversation.IncomingEvent, Event: EventUnsubscribe,
			ProviderID: eventKey(testOpenID, 1700000000, "unsubscribe")}, ""},
		{"event-click.xml", conversation.Incoming{Kind: conversation.IncomingEvent, Event: EventMenuClick, Text: "TALK_TO_RM",
			Intent: "wealth", StartConversation: true, ProviderID: eventKey(testOpenID, 1700000000, "CLICK")}, ""},
		{"event-view.xml", conversation.Incoming{Kind: conversation.IncomingEvent, Event: EventMenuView, Text: "https://example.com/branches",
			ProviderID: eventKey(testOpenID, 1700000000, "VIEW")}, ""},
		{"event-templatesendjobfinish.xml", conversation.Incoming{Kind: conversation.IncomingEvent, Event: "templatesendjobfinish",
			ProviderID: eventKey(testOpenID, 1700000000, "TEMPLATESENDJOBFINISH")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			status, body := h.postPlain(fixture(t, "plain/"+tt.file))
			if status != http.StatusOK {
				t.Fatalf("status %d (%s)", status, body)
			}
			if tt.reply == "" && body != "success" {
				t.Fatalf("body %q, want success", body)
			}
			if tt.reply != "" && (!strings.Contains(body, tt.reply) || !strings.Contains(body, "<ToUserName><![CDATA["+testOpenID+"]]>")) {
				t.Fatalf("reply %q, want a text reply to the user containing %q", body, tt.reply)
			}
			got := h.sink.all()
			if len(got) != 1 {
				t.Fatalf("stored %d incomings, want 1", len(got))
			}
			want := tt.want
			want.Channel, want.ChannelAccount, want.From, want.ReceivedAt = conversation.ChannelWeChat, testOriginalID, from, testNow
			if !reflect.DeepEqual(got[0], want) {
				t.Fatalf("stored\n%+v\nwant\n%+v", got[0], want)
			}
		})
	}
}

// TestCallbackDuplicate: WeChat's retries of one message and one event
// are stored once and each answered "success".
func TestCallbackDuplicate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, f := range []string{"text.xml", "event-click.xml"} {
		for range 3 {
			if status, body := h.postPlain(fixture(t, "plain/"+f)); status != http.StatusOK || body != "success" {
				t.Fatalf("%s: %d %q", f, status, body)
			}
		}
	}
	if got := len(h.sink.all()); got != 2 {
		t.Fatalf("stored %d, want 2 (one message, one event)", got)
	}
	// The retries did not refill the window beyond one grant per trigger.
	open, rem, _, err := h.a.Window(context.Background(), testOriginalID, testOpenID, testNow)
	if err != nil || !open || rem != 5+3 {
		t.Fatalf("window open=%v remaining=%d err=%v, want open with 8", open, rem, err)
	}
}

// TestCallbackRefused covers every way a callback is refused: nothing is
// stored and WeChat does not get "success".
func TestCallbackRefused(t *testing.T) {
	t.Parallel()
	text := fixture(t, "plain/text.xml")
	signed := func(ts time.Time) url.Values { return signedQuery(testToken, ts.Unix(), "n2") }
	tests := []struct {
		name   string
		path   string
		query  url.Values
		body   []byte
		status int
	}{
		{"forged signature", WebhookPath, func() url.Values {
			q := signed(testNow)
			q.Set("signature", strings.Repeat("0", 40))
			return q
		}(), text, http.StatusForbidden},
		{"signed with another token", WebhookPath, signedQuery("another-token", testNow.Unix(), "n2"), text, http.StatusForbidden},
		{"no signature", WebhookPath, url.Values{"timestamp": {"1700000000"}, "nonce": {"n2"}}, text, http.StatusForbidden},
		{"timestamp 301 s old", WebhookPath, signed(testNow.Add(-301 * time.Second)), text, http.StatusForbidden},
		{"timestamp 301 s ahead", WebhookPath, signed(testNow.Add(301 * time.Second)), text, http.StatusForbidden},
		{"timestamp not a number", WebhookPath, func() url.Values {
			q := url.Values{"timestamp": {"soon"}, "nonce": {"n2"}}
			q.Set("signature", util.Signature(testToken, "soon", "n2"))
			return q
		}(), text, http.StatusForbidden},
		{"malformed XML", WebhookPath, signed(testNow), []byte("<xml><ToUserName>gh_a1b2c3d4e5f6</ToUserName><MsgType>text"), http.StatusBadRequest},
		{"not XML", WebhookPath, signed(testNow), []byte(`{"MsgType":"text"}`), http.StatusBadRequest},
		{"other root element", WebhookPath, signed(testNow), bytes.ReplaceAll(text, []byte("xml>"), []byte("msg>")), http.StatusBadRequest},
		{"content after the document", WebhookPath, signed(testNow), append(append([]byte{}, text...), "<xml/>"...), http.StatusBadRequest},
		{"no FromUserName", WebhookPath, signed(testNow), []byte("<xml><ToUserName>gh_a1b2c3d4e5f6</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"), http.StatusBadRequest},
		{"event without Event", WebhookPath, signed(testNow), []byte("<xml><ToUserName>gh_a1b2c3d4e5f6</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType></xml>"), http.StatusBadRequest},
		{"CreateTime not a number", WebhookPath, signed(testNow), bytes.Replace(text, []byte("1700000000"), []byte("today"), 1), http.StatusBadRequest},
		{"body over the limit", WebhookPath, signed(testNow), bytes.Replace(text, []byte("<Content>"), append([]byte("<Content>"), bytes.Repeat([]byte("x"), 70<<10)...), 1), http.StatusRequestEntityTooLarge},
		{"unknown encrypt_type", WebhookPath, func() url.Values { q := signed(testNow); q.Set("encrypt_type", "des"); return q }(), text, http.StatusBadRequest},
		{"ToUserName of another account", WebhookPath, signed(testNow), bytes.ReplaceAll(text, []byte(testOriginalID), []byte("gh_000000000000")), http.StatusForbidden},
		{"unknown account in the URL", WebhookPath + "/retail", signed(testNow), text, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			status, body := h.post(tt.path, tt.query, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%s)", status, tt.status, body)
			}
			if body == "success" {
				t.Fatal("answered success")
			}
			if n := len(h.sink.all()); n != 0 {
				t.Fatalf("stored %d", n)
			}
		})
	}
}

// TestCallbackTimestampInsideSkew: 299 s either way is accepted.
func TestCallbackTimestampInsideSkew(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for i, d := range []time.Duration{-299 * time.Second, 299 * time.Second} {
		q := signedQuery(testToken, testNow.Add(d).Unix(), "n"+strconv.Itoa(i))
		if status, body := h.post(WebhookPath, q, fixture(t, "plain/text.xml")); status != http.StatusOK {
			t.Fatalf("%s: %d %s", d, status, body)
		}
	}
}

// TestCallbackSinkFailure: when the Sink (or a store) cannot take the
// callback, WeChat gets no "success" and a retry once it recovers is
// stored once.
func TestCallbackSinkFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fail   func(ctx context.Context, in conversation.Incoming) error
		status int
	}{
		{"store unavailable", func(context.Context, conversation.Incoming) error {
			return errors.Join(errors.New("redis: connection refused"), conversation.ErrUnavailable)
		}, http.StatusServiceUnavailable},
		{"store slower than the ack timeout", func(ctx context.Context, _ conversation.Incoming) error {
			<-ctx.Done()
			return ctx.Err()
		}, http.StatusServiceUnavailable},
		{"sink says invalid", func(context.Context, conversation.Incoming) error {
			return conversation.ErrInvalid
		}, http.StatusBadRequest},
		{"other sink error", func(context.Context, conversation.Incoming) error { return errors.New("bug") }, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config, _ *Deps) { c.AckTimeout = 100 * time.Millisecond })
			h.sink.setReceiveErr(tt.fail)
			status, body := h.postPlain(fixture(t, "plain/text.xml"))
			if status != tt.status || body == "success" {
				t.Fatalf("got %d %q, want %d and no success", status, body, tt.status)
			}
			if open, _, _, _ := h.a.Window(context.Background(), testOriginalID, testOpenID, testNow); open {
				t.Fatal("window opened by a callback that was not stored")
			}
			h.sink.setReceiveErr(nil)
			if status, body := h.postPlain(fixture(t, "plain/text.xml")); status != http.StatusOK || body != "success" {
				t.Fatalf("retry: %d %q", status, body)
			}
			if n := len(h.sink.all()); n != 1 {
				t.Fatalf("stored %d, want 1", n)
			}
		})
	}
}

// failingWindows is a Windows whose Grant fails while fail is set.
type failingWindows struct {
	*MemoryWindows
	fail func() error
}

func (f failingWindows) Grant(ctx context.Context, account, openid string, g Grant) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.MemoryWindows.Grant(ctx, account, openid, g)
}

// failingSuppressions is a Suppressions whose writes fail.
type failingSuppressions struct{ *MemorySuppressions }

func (failingSuppressions) Suppress(context.Context, string, string, time.Time) error {
	return errStore
}

func TestCallbackStoreFailure(t *testing.T) {
	t.Parallel()
	t.Run("window store down", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, func(_ *Config, d *Deps) {
			d.Windows = failingWindows{NewMemoryWindows(), func() error { return errStore }}
		})
		if status, body := h.postPlain(fixture(t, "plain/text.xml")); status != http.StatusServiceUnavailable || body == "success" {
			t.Fatalf("got %d %q, want 503", status, body)
		}
	})
	t.Run("opt-out store down", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, func(_ *Config, d *Deps) { d.Suppressions = failingSuppressions{NewMemorySuppressions()} })
		if status, body := h.postPlain(fixture(t, "plain/event-unsubscribe.xml")); status != http.StatusServiceUnavailable || body == "success" {
			t.Fatalf("got %d %q, want 503", status, body)
		}
	})
}

// TestCallbackMenuKeys: a mapped key carries its intent, an unmapped one
// none.
func TestCallbackMenuKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	body := fixture(t, "plain/event-click.xml")
	h.postPlain(body)
	h.postPlain(bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("TALK_TO_RM"), []byte("BRANCH_HOURS")), []byte("1700000000"), []byte("1700000001")))
	got := h.sink.all()
	if len(got) != 2 || got[0].Intent != "wealth" || !got[0].StartConversation || got[1].Intent != "" || got[1].StartConversation {
		t.Fatalf("got %+v", got)
	}
}

// TestCallbackOptOut: unsubscribe suppresses the openid, a later
// subscribe lifts it, and a late retry of the older unsubscribe does not
// suppress it again.
func TestCallbackOptOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	suppressed := func() bool {
		out, err := h.a.supp.Suppressed(ctx, testOriginalID, testOpenID)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	unsub := fixture(t, "plain/event-unsubscribe.xml")
	sub := bytes.ReplaceAll(fixture(t, "plain/event-subscribe.xml"), []byte("1700000000"), []byte("1700000060"))
	h.postPlain(unsub)
	if !suppressed() {
		t.Fatal("not suppressed after unsubscribe")
	}
	h.postPlain(sub)
	if suppressed() {
		t.Fatal("still suppressed after subscribe")
	}
	h.postPlain(unsub)
	if suppressed() {
		t.Fatal("a retried older unsubscribe suppressed a newer subscribe")
	}
}

// TestCallbackNamedAccounts: with two accounts the URL names the account
// and the body's ToUserName must be that account's.
func TestCallbackNamedAccounts(t *testing.T) {
	t.Parallel()
	const privateID = "gh_private00001"
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.Accounts = append(c.Accounts, AccountConfig{Name: "private", OriginalID: privateID,
			Credentials: Credentials{AppID: "wxprivate", AppSecret: "s2", Token: "private-token"}})
	})
	text := fixture(t, "plain/text.xml")
	privateText := bytes.ReplaceAll(text, []byte(testOriginalID), []byte(privateID))
	tests := []struct {
		name   string
		path   string
		token  string
		body   []byte
		status int
	}{
		{"bank account", WebhookPath + "/bank", testToken, text, http.StatusOK},
		{"private account", WebhookPath + "/private", "private-token", privateText, http.StatusOK},
		{"no account in the URL", WebhookPath, testToken, text, http.StatusNotFound},
		{"bank body on the private URL", WebhookPath + "/private", "private-token", text, http.StatusForbidden},
		{"private URL signed with the bank token", WebhookPath + "/private", testToken, privateText, http.StatusForbidden},
	}
	for _, tt := range tests {
		if status, body := h.post(tt.path, signedQuery(tt.token, testNow.Unix(), "n"), tt.body); status != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, status, tt.status, body)
		}
	}
	got := h.sink.all()
	if len(got) != 2 || got[0].ChannelAccount != testOriginalID || got[1].ChannelAccount != privateID {
		t.Fatalf("stored %+v", got)
	}
}

// TestCallbackTemplateReport: TEMPLATESENDJOBFINISH reaches Sink.Status
// under the template's msgid.
func TestCallbackTemplateReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if status, _ := h.postPlain(fixture(t, "plain/event-templatesendjobfinish.xml")); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	want := conversation.StatusUpdate{Channel: conversation.ChannelWeChat, ChannelAccount: testOriginalID, ProviderID: "200163836",
		Status: conversation.DeliveryFailed, ErrorCode: "user_block", At: testNow}
	if len(h.sink.statuses) != 1 || h.sink.statuses[0] != want {
		t.Fatalf("statuses %+v, want %+v", h.sink.statuses, want)
	}
}

// TestCallbackLogsMasked: openids and message text never reach the logs.
func TestCallbackLogsMasked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.postPlain(fixture(t, "plain/text.xml"))
	h.postPlain(fixture(t, "plain/voice-recognition.xml"))
	logs := h.logs.String()
	for _, secret := range []string{testOpenID, "理财", "客户经理"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, conversation.MaskOpaque(testOpenID)) {
		t.Errorf("logs lack the masked openid %q:\n%s", conversation.MaskOpaque(testOpenID), logs)
	}
}
