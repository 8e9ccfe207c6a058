package twilio

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkInboundWebhook measures signed inbound webhooks handled per
// second (signature check, parse, opt-out check, in-memory sink), each
// with its own MessageSid; compare with BenchmarkBareHandler.
func BenchmarkInboundWebhook(b *testing.B) {
	e := newEnv(b)
	e.p.log = slog.New(slog.NewJSONHandler(io.Discard, nil)) // info level, as in production
	base, _ := url.ParseQuery(readFile(b, "inbound-sms.form"))
	bodies := make([]string, 1024)
	sigs := make([]string, len(bodies))
	for i := range bodies {
		base.Set("MessageSid", "SM"+strconv.Itoa(i))
		bodies[i] = base.Encode()
		sigs[i] = sign(testToken, testPublic+inboundPath, base)
	}
	h := e.p.Handler()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, inboundPath, strings.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("X-Twilio-Signature", sigs[i%len(bodies)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkBareHandler is the floor: a net/http handler that reads the
// same body and answers 200.
func BenchmarkBareHandler(b *testing.B) {
	body := readFile(b, "inbound-sms.form")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		_, _ = io.WriteString(w, emptyTwiML)
	})
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest(http.MethodPost, inboundPath, strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
