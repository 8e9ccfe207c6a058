package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// testRedisURL returns the Redis the test should use: the real one named by
// AIRBRANCH_TEST_REDIS_URL, or a miniredis started for the test. Each test
// gets its own key prefix.
func testRedisURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("AIRBRANCH_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://" + miniredis.RunT(t).Addr()
}

type running struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	g      *Gateway
}

func start(t *testing.T, cfg *configs.Config, logw io.Writer) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg.HTTP.DrainDelay = 0 // tests set draining themselves
	g, err := New(ctx, cfg, NewLogger(logw, "debug", "json"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &running{base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1), g: g}
	go func() { r.done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		_ = g.store.Close()
	})
	waitReady(t, r.base)
	return r
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

// testSecret signs the tokens of tests that run with Redis (where the
// development secret is refused).
const testSecret = "test-secret-of-at-least-thirty-two-bytes!"

func adminToken(t *testing.T, secret string) string {
	t.Helper()
	tok, err := auth.Issue([]byte(secret), auth.Principal{Subject: "ops-1", Role: auth.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestTwoInstancesShareState: with Redis configured, a conversation created
// through one instance's API is read back through the other's.
func TestTwoInstancesShareState(t *testing.T) {
	t.Parallel()
	url := testRedisURL(t)
	prefix := "{abtest-" + time.Now().Format("150405.000000000") + "}"
	mk := func(id string) *configs.Config {
		cfg := configs.Default()
		cfg.InstanceID = id
		cfg.Redis.URL = url
		cfg.Redis.KeyPrefix = prefix
		cfg.Secrets.JWTSecret = testSecret
		return cfg
	}
	t.Cleanup(func() { statetest.PurgeRedisURL(t, url, prefix) })
	a := start(t, mk("a"), io.Discard)
	b := start(t, mk("b"), io.Discard)
	tok := adminToken(t, testSecret)

	code, created := do(t, "POST", a.base+"/api/v1/conversations", tok, map[string]any{
		"customer_id": "cus-pb-0001", "channel": "webchat", "intent": "wealth",
	})
	if code != http.StatusCreated {
		t.Fatalf("create on A: %d %v", code, created)
	}
	id, _ := created["id"].(string)
	code, got := do(t, "GET", b.base+"/api/v1/conversations/"+id, tok, nil)
	if code != http.StatusOK {
		t.Fatalf("read on B: %d %v", code, got)
	}
	if got["id"] != id || got["customer_id"] != "cus-pb-0001" || got["segment"] != "private" {
		t.Fatalf("B read back %v", got)
	}
	// And the list on B shows it too.
	code, list := do(t, "GET", b.base+"/api/v1/conversations?customer=cus-pb-0001", tok, nil)
	items, _ := list["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("list on B: %d %v", code, list)
	}
}

// TestDrain: once the context ends, /readyz is 503 and new work is refused
// while in-flight requests finish; Serve returns nil.
func TestDrain(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	var logs bytes.Buffer
	r := start(t, cfg, &logs)
	r.g.draining.Store(true) // what the drain does first
	resp, err := http.Get(r.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz while draining: %d", resp.StatusCode)
	}
	code, body := do(t, "POST", r.base+"/api/v1/conversations", adminToken(t, DevJWTSecret), map[string]any{"customer_id": "cus-pb-0001", "channel": "sms"})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("POST while draining: %d %v", code, body)
	}
	code, _ = do(t, "GET", r.base+"/api/v1/conversations", adminToken(t, DevJWTSecret), nil)
	if code != http.StatusOK {
		t.Fatalf("GET while draining: %d", code)
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatal(err)
		}
		r.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestStartFailsFastOnUnreachableRedis(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Redis.URL = "redis://127.0.0.1:1/0"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("New with unreachable Redis: %v", err)
	}
}

func TestLoggerMasksPersonalData(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := NewLogger(&buf, "info", "json")
	log.Info("inbound", "from_phone", "+85255501234", "openid", "oJlus55nABCDEFxyz", "body", "my PIN is 1234")
	out := buf.String()
	for _, leak := range []string{"55501234", "oJlus55nABCDEFxyz", "PIN"} {
		if strings.Contains(out, leak) {
			t.Errorf("log leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, "+852****1234") {
		t.Errorf("masked phone missing: %s", out)
	}
}

func TestPanicBecomes500WithoutStack(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := recoverPanics(NewLogger(&logs, "info", "json"), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom at secret place")
	}))
	srv := &http.Server{Handler: h}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(b), "boom") || strings.Contains(string(b), "goroutine") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

// TestDevSecretOnlyForTheDemo: the public development secret is used only
// on the embedded configuration without Redis; with a config file or Redis
// and no secret or JWKS the gateway refuses to start.
func TestDevSecretOnlyForTheDemo(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.DiscardHandler)
	cases := []struct {
		name    string
		mutate  func(*configs.Config)
		wantErr bool
		want    string
	}{
		{"embedded demo", func(*configs.Config) {}, false, DevJWTSecret},
		{"secret set", func(c *configs.Config) { c.Secrets.JWTSecret = testSecret; c.File = "x.yaml" }, false, testSecret},
		{"config file, no secret", func(c *configs.Config) { c.File = "/etc/airbranch/airbranch.yaml" }, true, ""},
		{"redis, no secret", func(c *configs.Config) { c.Redis.URL = "redis://127.0.0.1:6379/0" }, true, ""},
		{"jwks only", func(c *configs.Config) { c.File = "x.yaml"; c.Auth.JWKSFile = "jwks.json" }, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := configs.Default()
			tc.mutate(cfg)
			got, err := jwtSecret(cfg, quiet)
			if (err != nil) != tc.wantErr || string(got) != tc.want {
				t.Fatalf("secret %q err %v", got, err)
			}
			if tc.wantErr && !errors.Is(err, ErrNoTokenKey) {
				t.Fatalf("error %v is not ErrNoTokenKey", err)
			}
		})
	}
}

func rmToken(t *testing.T, secret, rm, team string) string {
	t.Helper()
	tok, err := auth.Issue([]byte(secret), auth.Principal{Subject: rm, Role: auth.RoleRM, Team: conversation.TeamID(team)}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRoutingAcrossInstances: a conversation opened and queued through
// instance A is offered to the client's own RM, who sees the offer and
// accepts it through instance B, wraps up and closes with a disposition;
// the decision records explain the choice.
func TestRoutingAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testRedisURL(t)
	prefix := "{abtest-route-" + time.Now().Format("150405.000000000") + "}"
	t.Cleanup(func() { statetest.PurgeRedisURL(t, url, prefix) })
	mk := func(id string) *configs.Config {
		cfg := configs.Default()
		cfg.InstanceID = id
		cfg.Redis.URL = url
		cfg.Redis.KeyPrefix = prefix
		cfg.Secrets.JWTSecret = testSecret
		return cfg
	}
	a := start(t, mk("a"), io.Discard)
	b := start(t, mk("b"), io.Discard)
	admin := adminToken(t, testSecret)
	rm := rmToken(t, testSecret, "rm-pb-01", "private_bank")

	if code, body := do(t, "PUT", b.base+"/api/v1/presence", rm, map[string]any{"state": "available"}); code != http.StatusOK {
		t.Fatalf("presence: %d %v", code, body)
	}
	code, created := do(t, "POST", a.base+"/api/v1/conversations", admin, map[string]any{"customer_id": "cus-pb-0001", "channel": "webchat"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["id"].(string)
	if code, body := do(t, "POST", a.base+"/api/v1/conversations/"+id+"/route", admin, nil); code != http.StatusOK || body["status"] != "queued" {
		t.Fatalf("route: %d %v", code, body)
	}
	var offer map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for offer == nil {
		code, list := do(t, "GET", b.base+"/api/v1/offers", rm, nil)
		if items, _ := list["items"].([]any); code == http.StatusOK && len(items) == 1 {
			offer = items[0].(map[string]any)
		} else if time.Now().After(deadline) {
			t.Fatalf("no offer for rm-pb-01 within 10 s: %d %v", code, list)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if offer["conversation_id"] != id {
		t.Fatalf("offer %v is not for %s", offer, id)
	}
	other := rmToken(t, testSecret, "rm-pb-02", "private_bank")
	if code, body := do(t, "POST", b.base+"/api/v1/offers/"+offer["id"].(string)+"/accept", other, nil); code != http.StatusForbidden {
		t.Fatalf("accept by another RM: %d %v", code, body)
	}
	code, acc := do(t, "POST", b.base+"/api/v1/offers/"+offer["id"].(string)+"/accept", rm, nil)
	if code != http.StatusOK || acc["status"] != "active" || acc["assignee_id"] != "rm-pb-01" {
		t.Fatalf("accept: %d %v", code, acc)
	}
	if code, body := do(t, "POST", b.base+"/api/v1/offers/"+offer["id"].(string)+"/accept", rm, nil); code != http.StatusConflict {
		t.Fatalf("second accept: %d %v", code, body)
	}
	if code, body := do(t, "POST", a.base+"/api/v1/conversations/"+id+"/wrap-up", rm, nil); code != http.StatusOK || body["status"] != "wrap_up" {
		t.Fatalf("wrap-up: %d %v", code, body)
	}
	if code, body := do(t, "POST", a.base+"/api/v1/conversations/"+id+"/close", rm, map[string]any{"disposition": "nonsense"}); code != http.StatusBadRequest {
		t.Fatalf("close with unknown disposition: %d %v", code, body)
	}
	if code, body := do(t, "POST", a.base+"/api/v1/conversations/"+id+"/close", rm, map[string]any{"disposition": "lead:wealth"}); code != http.StatusOK || body["status"] != "closed" {
		t.Fatalf("close: %d %v", code, body)
	}
	code, recs := do(t, "GET", a.base+"/api/v1/conversations/"+id+"/decisions", admin, nil)
	items, _ := recs["items"].([]any)
	if code != http.StatusOK || len(items) == 0 {
		t.Fatalf("decisions: %d %v", code, recs)
	}
	first := items[len(items)-1].(map[string]any)
	if first["outcome"] != "offer" || !strings.Contains(first["sentence"].(string), "rm-pb-01") {
		t.Fatalf("decision record: %v", first)
	}
}
