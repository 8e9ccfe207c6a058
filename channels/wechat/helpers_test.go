package wechat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Test account of the plain/ fixtures.
const (
	testOriginalID = "gh_a1b2c3d4e5f6"
	testOpenID     = "oAirbranchTestOpenid0000001"
	testAppID      = "wxairbranchtest0001"
	testSecret     = "airbranch-test-secret"
	testToken      = "airbranchtoken"
)

// testAESKey is a fresh 43-character EncodingAESKey.
func testAESKey(t testing.TB) string {
	t.Helper()
	var k [32]byte
	_, _ = rand.Read(k[:])
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(k[:]), "=")
}

// testNow is the harness clock: the plain fixtures' CreateTime.
var testNow = time.Unix(1700000000, 0)

// fakeSink is a Sink that keeps what it receives, de-duplicated on
// account and ProviderID like the gateway's store, and checks every Incoming with the
// domain's Validate. receiveErr / statusErr, when set, decide failures.
type fakeSink struct {
	mu         sync.Mutex
	byID       map[string]conversation.Incoming
	stored     []conversation.Incoming
	statuses   []conversation.StatusUpdate
	receiveErr func(ctx context.Context, in conversation.Incoming) error
	statusErr  func(ctx context.Context, u conversation.StatusUpdate) error
}

var _ Sink = (*fakeSink)(nil)

func newFakeSink() *fakeSink { return &fakeSink{byID: map[string]conversation.Incoming{}} }

func (s *fakeSink) Receive(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error) {
	if err := in.Validate(); err != nil {
		return conversation.Receipt{}, err
	}
	s.mu.Lock()
	fail := s.receiveErr
	s.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, in); err != nil {
			return conversation.Receipt{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := in.ChannelAccount + "|" + in.ProviderID // as Message.IdempotencyKey
	if _, dup := s.byID[key]; dup {
		return conversation.Receipt{Duplicate: true}, nil
	}
	s.byID[key] = in
	s.stored = append(s.stored, in)
	return conversation.Receipt{MessageID: conversation.MessageID("msg-" + strconv.Itoa(len(s.stored)))}, nil
}

func (s *fakeSink) Status(ctx context.Context, u conversation.StatusUpdate) error {
	s.mu.Lock()
	fail := s.statusErr
	s.mu.Unlock()
	if fail != nil {
		if err := fail(ctx, u); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, u)
	return nil
}

func (s *fakeSink) setReceiveErr(f func(ctx context.Context, in conversation.Incoming) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receiveErr = f
}

func (s *fakeSink) all() []conversation.Incoming {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]conversation.Incoming(nil), s.stored...)
}

// harness is one adapter behind a real HTTP server on 127.0.0.1.
type harness struct {
	t    *testing.T
	a    *Adapter
	cfg  Config
	deps Deps
	sink *fakeSink
	srv  *httptest.Server
	logs *syncBuffer
	now  time.Time
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is one account in plain mode (with an AES key for safe mode).
func testConfig(t testing.TB) Config {
	return Config{Accounts: []AccountConfig{{
		Name:        "bank",
		OriginalID:  testOriginalID,
		WelcomeText: "Welcome to the bank. Reply to talk to your RM.",
		MenuIntents: map[string]MenuIntent{"TALK_TO_RM": {Intent: "wealth", StartConversation: true}},
		Credentials: Credentials{AppID: testAppID, AppSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey(t)},
	}}}
}

// newHarness starts an adapter; edit may change the config and deps.
func newHarness(t *testing.T, edit func(*Config, *Deps)) *harness {
	t.Helper()
	h := &harness{t: t, sink: newFakeSink(), logs: &syncBuffer{}, now: testNow}
	h.cfg = testConfig(t)
	h.deps = Deps{
		Sink:   h.sink,
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return h.now },
	}
	if edit != nil {
		edit(&h.cfg, &h.deps)
	}
	a, err := New(h.cfg, h.deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.a = a
	mux := http.NewServeMux()
	mux.Handle(WebhookPath, a.Handler())
	mux.Handle(WebhookPath+"/", a.Handler())
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// signedQuery is a plain-mode callback query signed with token.
func signedQuery(token string, ts int64, nonce string) url.Values {
	s := strconv.FormatInt(ts, 10)
	return url.Values{"timestamp": {s}, "nonce": {nonce}, "signature": {util.Signature(token, s, nonce)}, "openid": {testOpenID}}
}

// safeBody encrypts plain into a safe-mode body and its query.
func safeBody(t testing.TB, cr Credentials, toUser string, plain []byte, ts int64, nonce string) (url.Values, []byte) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), plain, cr.AppID, cr.EncodingAESKey)
	if err != nil {
		t.Fatal(err)
	}
	q := signedQuery(cr.Token, ts, nonce)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", util.Signature(cr.Token, q.Get("timestamp"), nonce, string(enc)))
	body := "<xml><ToUserName><![CDATA[" + toUser + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	return q, []byte(body)
}

// post sends a callback and returns the status and body.
func (h *harness) post(path string, q url.Values, body []byte) (int, string) {
	h.t.Helper()
	resp, err := http.Post(h.srv.URL+path+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// get sends a verification request.
func (h *harness) get(path string, q url.Values) (int, string) {
	h.t.Helper()
	resp, err := http.Get(h.srv.URL + path + "?" + q.Encode())
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postPlain posts a plain-mode callback signed for the harness's account.
func (h *harness) postPlain(body []byte) (int, string) {
	h.t.Helper()
	return h.post(WebhookPath, signedQuery(testToken, h.now.Unix(), "nonce1"), body)
}

// fixture reads testdata/<name>.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Redis for tests: miniRedis always works; realRedis is the server named
// by AIRBRANCH_TEST_REDIS_URL (skipped when unset, fails when unreachable).
// Each returns a client and a key prefix of the test's own, whose keys are
// removed afterwards.

func miniRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c, testPrefix()
}

const testRedisEnv = "AIRBRANCH_TEST_REDIS_URL"

func realRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	u := os.Getenv(testRedisEnv)
	if u == "" {
		t.Skip(testRedisEnv + " not set")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", testRedisEnv, err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", u, err)
	}
	prefix := testPrefix()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			_ = c.Del(ctx, iter.Val()).Err()
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup of %s: %v", prefix, err)
		}
		_ = c.Close()
	})
	return c, prefix
}

// anyRedis is the real Redis when configured, else a miniredis.
func anyRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	if os.Getenv(testRedisEnv) != "" {
		return realRedis(t)
	}
	return miniRedis(t)
}

func testPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "{abwx-" + hex.EncodeToString(b[:]) + "}"
}

// errStore is a store failure for fakes.
var errStore = errors.New("store down")
