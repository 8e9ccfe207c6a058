package wechat

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// nopSink accepts everything (the store's cost is not the adapter's).
type nopSink struct{}

func (nopSink) Receive(context.Context, conversation.Incoming) (conversation.Receipt, error) {
	return conversation.Receipt{}, nil
}
func (nopSink) Status(context.Context, conversation.StatusUpdate) error { return nil }

// benchCallback serves one callback per iteration through handler, in
// process (no network), and fails on any answer but 200.
func benchCallback(b *testing.B, handler http.Handler, target string, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkCallback compares the adapter's callback path, plain and safe
// mode, with a bare net/http handler that reads the body and answers
// "success", in the same run.
func BenchmarkCallback(b *testing.B) {
	cfg := testConfig(b)
	a, err := New(cfg, Deps{Sink: nopSink{}, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	h := a.Handler()
	text := fixture(b, "plain/text.xml")
	b.Run("bare_net_http", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			_, _ = io.WriteString(w, "success")
		})
		benchCallback(b, bare, WebhookPath, text)
	})
	b.Run("plain", func(b *testing.B) {
		benchCallback(b, h, WebhookPath+"?"+signedQuery(testToken, testNow.Unix(), "n").Encode(), text)
	})
	b.Run("aes", func(b *testing.B) {
		q, body := safeBody(b, cfg.Accounts[0].Credentials, testOriginalID, text, testNow.Unix(), "n")
		benchCallback(b, h, WebhookPath+"?"+q.Encode(), body)
	})
}
