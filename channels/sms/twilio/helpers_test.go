package twilio

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smstest"
)

const (
	testSID    = "AC00000000000000000000000000000001"
	testToken  = "6789-test-auth-token"
	testPublic = "https://sms.bank.example"
	testAcct   = "+85230001234"
	testNumber = "+85291234567"
)

// sign computes X-Twilio-Signature for a form post to fullURL: base64 of
// HMAC-SHA1(token, URL + the parameters sorted by name, each name then
// value). TestSignatureVectors checks it against the published vectors.
func sign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form.Get(k))
	}
	h := hmac.New(sha1.New, []byte(token))
	h.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// logBuffer collects a logger's JSON output, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is a provider under test with its sink, suppression list, logs and
// a fake Messages API.
type env struct {
	p    *Provider
	sink *smstest.Sink
	sup  *sms.Memory
	logs *logBuffer
	api  *fakeAPI
}

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	t.Helper()
	api := newFakeAPI(t)
	cfg := Config{
		AccountSID:    testSID,
		AuthToken:     testToken,
		APIBaseURL:    api.srv.URL,
		PublicBaseURL: testPublic,
		Accounts: []Account{
			{Name: testAcct},
			{Name: "hk-alerts", MessagingServiceSID: "MG00000000000000000000000000000009"},
		},
		DefaultRegion: "HK",
	}
	for _, m := range mutate {
		m(&cfg)
	}
	e := &env{sink: smstest.NewSink(), sup: sms.NewMemory(), logs: &logBuffer{}, api: api}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := New(cfg, e.sink, e.sup, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	return e
}

// post sends form to path on the provider's handler, signed for the
// public URL unless sig is given ("-" sends no signature).
func (e *env) post(t *testing.T, path string, body string, sig string) *httptest.ResponseRecorder {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	if sig == "" {
		sig = sign(testToken, testPublic+path, form)
	}
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "-" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	rec := httptest.NewRecorder()
	e.p.Handler().ServeHTTP(rec, req)
	return rec
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeAPI is a local stand-in for the Messages REST API: it records each
// request and answers with the next programmed reply (default 201 with a
// new sid).
type fakeAPI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []apiCall
	replies []apiReply
}

type apiCall struct {
	Path       string
	User, Pass string
	Form       url.Values
}

type apiReply struct {
	status int
	body   string
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	user, pass, _ := r.BasicAuth()
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{Path: r.Method + " " + r.URL.Path, User: user, Pass: pass, Form: form})
	reply := apiReply{status: http.StatusCreated, body: `{"sid":"SM` + strings.Repeat("0", 30) + string(rune('a'+len(f.calls)%26)) + `","status":"queued"}`}
	if len(f.replies) > 0 {
		reply, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.status)
	_, _ = io.WriteString(w, reply.body)
}

func (f *fakeAPI) reply(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, apiReply{status, body})
}

func (f *fakeAPI) Calls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}
