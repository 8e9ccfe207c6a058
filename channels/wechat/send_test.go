package wechat

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

var testTo = conversation.Address{Kind: conversation.AddressWeChat, Value: testOpenID}

// sendHarness is a harness whose API base is a fake WeChat; the user has
// written a text message, so the window is open (5 messages, 48 h).
func sendHarness(t *testing.T, edit func(*Config, *Deps)) (*harness, *fakeWeChat) {
	t.Helper()
	f := newFakeWeChat(t)
	h := newHarness(t, func(c *Config, d *Deps) {
		c.APIBaseURL = f.srv.URL
		c.Accounts[0].Template = TemplateConfig{TemplateID: "TPL-RM-REPLY", URL: "https://bank.example/chat",
			Data: map[string]string{"first": "Your RM replied", "keyword1": "{text}"}}
		if edit != nil {
			edit(c, d)
		}
	})
	if status, body := h.postPlain(fixture(t, "plain/text.xml")); status != http.StatusOK {
		t.Fatalf("text callback: %d %s", status, body)
	}
	return h, f
}

func providerCode(err error) string {
	var pe *conversation.ProviderError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestSendText(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	ctx := context.Background()
	sent, err := h.a.SendText(ctx, testOriginalID, testTo, "Hello <b>&</b> 您好")
	if err != nil {
		t.Fatal(err)
	}
	if sent.Status != conversation.DeliverySent || len(sent.ProviderIDs) != 1 || !strings.HasPrefix(sent.ProviderIDs[0], "cs-") {
		t.Fatalf("sent %+v", sent)
	}
	f.edit(func(f *fakeWeChat) {
		if len(f.sent) != 1 || f.sent[0].ToUser != testOpenID || f.sent[0].MsgType != "text" || f.sent[0].Text.Content != "Hello <b>&</b> 您好" {
			t.Fatalf("WeChat got %+v", f.sent)
		}
		if !strings.Contains(f.rawSent[0], `"content":"Hello <b>&</b> 您好"`) {
			t.Fatalf("JSON %s escapes the text (WeChat shows escapes literally)", f.rawSent[0])
		}
	})
	open, rem, closes, err := h.a.Window(ctx, testOriginalID, testOpenID, testNow)
	if err != nil || !open || rem != 4 || !closes.Equal(testNow.Add(48*time.Hour)) {
		t.Fatalf("window open=%v remaining=%d closes=%s err=%v, want open, 4, %s", open, rem, closes, err, testNow.Add(48*time.Hour))
	}
}

// TestSendTokenRefresh: a token WeChat refuses (40001, 42001, 40014) is
// refreshed once and the send retried; a refused refresh forces a new one.
func TestSendTokenRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(f *fakeWeChat)
		wantTokens int // stable_token calls in all
		wantForced int
	}{
		{"40001 after a refresh elsewhere", func(f *fakeWeChat) { f.revoked[f.token] = true }, 2, 0},
		{"40001 while WeChat still hands out the old token", func(f *fakeWeChat) { f.revoked[f.token] = true; f.sticky = true }, 3, 1},
		{"42001 expired", func(f *fakeWeChat) { f.sendErrs = []int64{42001} }, 3, 1},
		{"40014 malformed", func(f *fakeWeChat) { f.sendErrs = []int64{40014} }, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, f := sendHarness(t, nil)
			ctx := context.Background()
			if _, err := h.a.SendText(ctx, testOriginalID, testTo, "first"); err != nil {
				t.Fatal(err)
			}
			f.edit(tt.setup)
			if _, err := h.a.SendText(ctx, testOriginalID, testTo, "second"); err != nil {
				t.Fatal(err)
			}
			f.edit(func(f *fakeWeChat) {
				if f.tokenCalls != tt.wantTokens || f.forced != tt.wantForced || len(f.sent) != 2 {
					t.Fatalf("stable_token calls %d (forced %d), sent %d; want %d (%d), 2", f.tokenCalls, f.forced, len(f.sent), tt.wantTokens, tt.wantForced)
				}
			})
		})
	}
}

// TestSendTokenRetriedOnce: a token refused again after the refresh is not
// retried a third time.
func TestSendTokenRetriedOnce(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	f.edit(func(f *fakeWeChat) { f.alwaysErr = 40001 })
	_, err := h.a.SendText(context.Background(), testOriginalID, testTo, "hi")
	if providerCode(err) != "40001" {
		t.Fatalf("err %v, want ProviderError 40001", err)
	}
	if _, sends := f.counts(); sends != 2 {
		t.Fatalf("custom send called %d times, want 2", sends)
	}
	// WeChat did not count it: the message is given back to the window.
	if _, rem, _, _ := h.a.Window(context.Background(), testOriginalID, testOpenID, testNow); rem != 5 {
		t.Fatalf("remaining %d, want 5", rem)
	}
}

// TestSendWindowErrors: 45015 and 45047 from WeChat map to their
// sentinels and ProviderErrors, update the window record, and the next
// send is refused without calling WeChat.
func TestSendWindowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code     int64
		sentinel error
		wantCode string
	}{
		{45015, ErrWindowClosed, "45015"},
		{45047, ErrQuotaUsed, "45047"},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode, func(t *testing.T) {
			t.Parallel()
			h, f := sendHarness(t, nil)
			ctx := context.Background()
			f.edit(func(f *fakeWeChat) { f.sendErrs = []int64{tt.code} })
			_, err := h.a.SendText(ctx, testOriginalID, testTo, "hi")
			if !errors.Is(err, tt.sentinel) || providerCode(err) != tt.wantCode {
				t.Fatalf("err %v, want %v with ProviderError %s", err, tt.sentinel, tt.wantCode)
			}
			if open, rem, _, _ := h.a.Window(ctx, testOriginalID, testOpenID, testNow); open || rem != 0 {
				t.Fatalf("window open=%v remaining=%d after %d", open, rem, tt.code)
			}
			_, before := f.counts()
			_, err = h.a.SendText(ctx, testOriginalID, testTo, "again")
			if !errors.Is(err, tt.sentinel) || providerCode(err) != tt.wantCode {
				t.Fatalf("second send err %v", err)
			}
			if _, after := f.counts(); after != before {
				t.Fatal("WeChat was called for a send the window record refuses")
			}
		})
	}
}

// TestSendWindowLocal: with no interaction the send is refused before
// WeChat (not even a token fetch); the quota runs out after the rule's
// count; a new user message refills it.
func TestSendWindowLocal(t *testing.T) {
	t.Parallel()
	f := newFakeWeChat(t)
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.APIBaseURL = f.srv.URL
		c.Window = DefaultWindow()
		c.Window.Message.Quota = 2
	})
	ctx := context.Background()
	_, err := h.a.SendText(ctx, testOriginalID, testTo, "unprompted")
	if !errors.Is(err, ErrWindowClosed) || providerCode(err) != "45015" {
		t.Fatalf("err %v, want ErrWindowClosed", err)
	}
	if tokens, sends := f.counts(); tokens+sends != 0 {
		t.Fatalf("WeChat called: %d token, %d send", tokens, sends)
	}
	h.postPlain(fixture(t, "plain/text.xml"))
	for i := range 2 {
		if _, err := h.a.SendText(ctx, testOriginalID, testTo, "reply"); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	if _, err := h.a.SendText(ctx, testOriginalID, testTo, "third"); !errors.Is(err, ErrQuotaUsed) {
		t.Fatalf("third reply: %v, want ErrQuotaUsed", err)
	}
	// 48 h after the message the window is closed.
	if open, _, _, _ := h.a.Window(ctx, testOriginalID, testOpenID, testNow.Add(48*time.Hour)); open {
		t.Fatal("window open 48 h after the message")
	}
	// The user writes again a minute later: the quota refills.
	h.now = testNow.Add(time.Minute)
	next := bytes.ReplaceAll(bytes.ReplaceAll(fixture(t, "plain/text.xml"), []byte("1700000000"), []byte("1700000060")),
		[]byte("24300000000000001"), []byte("24300000000000099"))
	h.postPlain(next)
	if _, err := h.a.SendText(ctx, testOriginalID, testTo, "after"); err != nil {
		t.Fatal(err)
	}
}

func TestSendImage(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	ctx := context.Background()
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 1000)...)
	if _, err := h.a.SendImage(ctx, testOriginalID, testTo, "statement.png", png); err != nil {
		t.Fatal(err)
	}
	f.edit(func(f *fakeWeChat) {
		if len(f.sent) != 1 || f.sent[0].MsgType != "image" || !bytes.Equal(f.uploads[f.sent[0].Image.MediaID], png) {
			t.Fatalf("WeChat got %+v", f.sent)
		}
	})
	for _, bad := range []struct {
		name string
		data []byte
	}{{"statement.pdf", png}, {"empty.png", nil}, {"huge.png", make([]byte, DefaultMaxImageBytes+1)}} {
		if _, err := h.a.SendImage(ctx, testOriginalID, testTo, bad.name, bad.data); !errors.Is(err, conversation.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", bad.name, err)
		}
	}
}

// TestSendTemplate: the configured template goes out without a window,
// and its delivery report comes back as a StatusUpdate for its msgid.
func TestSendTemplate(t *testing.T) {
	t.Parallel()
	f := newFakeWeChat(t)
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.APIBaseURL = f.srv.URL
		c.Accounts[0].Template = TemplateConfig{TemplateID: "TPL-RM-REPLY", Data: map[string]string{"first": "Your RM replied", "keyword1": "{text}"}}
	})
	ctx := context.Background()
	if !h.a.HasTemplate(testOriginalID) {
		t.Fatal("HasTemplate false")
	}
	sent, err := h.a.SendTemplate(ctx, testOriginalID, testTo, "Your statement is ready", "msg-42")
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.ProviderIDs) != 1 || sent.ProviderIDs[0] != "200228333" {
		t.Fatalf("sent %+v", sent)
	}
	f.edit(func(f *fakeWeChat) {
		m := f.templates[0]
		if m.ToUser != testOpenID || m.TemplateID != "TPL-RM-REPLY" || m.ClientMsgID != "msg-42" ||
			m.Data["keyword1"].Value != "Your statement is ready" || m.Data["first"].Value != "Your RM replied" {
			t.Fatalf("template %+v", m)
		}
	})
	report := bytes.ReplaceAll(fixture(t, "plain/event-templatesendjobfinish.xml"), []byte("200163836"), []byte(sent.ProviderIDs[0]))
	h.postPlain(report)
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	if len(h.sink.statuses) != 1 || h.sink.statuses[0].ProviderID != sent.ProviderIDs[0] {
		t.Fatalf("statuses %+v", h.sink.statuses)
	}
}

func TestSendTemplateNone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if h.a.HasTemplate(testOriginalID) {
		t.Fatal("HasTemplate true without a template")
	}
	if _, err := h.a.SendTemplate(context.Background(), testOriginalID, testTo, "x", ""); !errors.Is(err, ErrNoTemplate) {
		t.Fatalf("err %v, want ErrNoTemplate", err)
	}
}

// TestSendRefusedTargets: opted-out users, other address kinds and
// unknown accounts are refused before WeChat.
func TestSendRefusedTargets(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	ctx := context.Background()
	h.postPlain(bytes.ReplaceAll(fixture(t, "plain/event-unsubscribe.xml"), []byte("1700000000"), []byte("1700000001")))
	tests := []struct {
		name    string
		account string
		to      conversation.Address
		want    error
	}{
		{"opted out", testOriginalID, testTo, conversation.ErrOptedOut},
		{"phone address", testOriginalID, conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"}, conversation.ErrInvalid},
		{"unknown account", "gh_unknown", testTo, ErrUnknownAccount},
	}
	for _, tt := range tests {
		if _, err := h.a.SendText(ctx, tt.account, tt.to, "hi"); !errors.Is(err, tt.want) {
			t.Errorf("%s: text: %v, want %v", tt.name, err, tt.want)
		}
		if _, err := h.a.SendTemplate(ctx, tt.account, tt.to, "hi", ""); !errors.Is(err, tt.want) {
			t.Errorf("%s: template: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := h.a.SendText(ctx, testOriginalID, testTo, "  "); !errors.Is(err, conversation.ErrInvalid) {
		t.Errorf("empty text: %v", err)
	}
	if tokens, sends := f.counts(); tokens+sends != 0 {
		t.Fatalf("WeChat called: %d token, %d send", tokens, sends)
	}
}

// TestSendErrorsHideToken: transport errors never carry the access token.
func TestSendErrorsHideToken(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	ctx := context.Background()
	if _, err := h.a.SendText(ctx, testOriginalID, testTo, "first"); err != nil {
		t.Fatal(err)
	}
	f.srv.Close() // the token stays cached; the send fails on the transport
	_, err := h.a.SendText(ctx, testOriginalID, testTo, "second")
	if err == nil || strings.Contains(err.Error(), "ACCESS_TOKEN") || strings.Contains(h.logs.String(), "ACCESS_TOKEN") {
		t.Fatalf("err %v (or the logs) shows the token", err)
	}
	if _, rem, _, _ := h.a.Window(ctx, testOriginalID, testOpenID, testNow); rem != 4 {
		t.Fatalf("remaining %d, want 4 (the failed send given back)", rem)
	}
}

// TestSendOtherErrcode: an errcode without special meaning is a
// ProviderError; -1 (system busy) is retryable.
func TestSendOtherErrcode(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	for _, tt := range []struct {
		code      int64
		retryable bool
	}{{40003, false}, {-1, true}} {
		f.edit(func(f *fakeWeChat) { f.sendErrs = []int64{tt.code} })
		_, err := h.a.SendText(context.Background(), testOriginalID, testTo, "hi")
		var pe *conversation.ProviderError
		if !errors.As(err, &pe) || pe.Retryable != tt.retryable || pe.Channel != conversation.ChannelWeChat ||
			errors.Is(err, ErrWindowClosed) || errors.Is(err, ErrQuotaUsed) {
			t.Fatalf("%d: err %v", tt.code, err)
		}
	}
}
