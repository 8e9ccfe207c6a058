package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// The demo directory's private-bank client and their own RM.
const (
	demoCustomer = "cus-pb-0001"
	demoPhone    = "+85255500001"
	demoOpenID   = "o-demo-openid-pb-0001"
	demoRM       = "rm-pb-01"
	demoRMTeam   = "private_bank"
)

// eachStore runs fn on a gateway configuration with the memory store and
// with Redis (the real one named by AIRBRANCH_TEST_REDIS_URL, else a
// miniredis), each under a key prefix of its own that is purged afterwards.
func eachStore(t *testing.T, fn func(t *testing.T, cfg *configs.Config)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		cfg := configs.Default()
		cfg.Secrets.JWTSecret = testSecret
		fn(t, cfg)
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		u := testRedisURL(t)
		prefix := "{abtest-ch-" + strings.ToLower(rand.Text()[:12]) + "}"
		t.Cleanup(func() { statetest.PurgeRedisURL(t, u, prefix) })
		cfg := configs.Default()
		cfg.Redis.URL, cfg.Redis.KeyPrefix = u, prefix
		cfg.Secrets.JWTSecret = testSecret
		fn(t, cfg)
	})
}

// syncBuffer collects the gateway's log lines, safe for concurrent writes.
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

// noPersonalData fails the test if the logs lack the message seen (so
// they did record the traffic) or hold any of the values in clear.
func noPersonalData(t *testing.T, logs *syncBuffer, seen string, values ...string) {
	t.Helper()
	out := logs.String()
	if !strings.Contains(out, `"msg":"`+seen+`"`) {
		t.Errorf("the logs have no %q record", seen)
	}
	for _, v := range values {
		if strings.Contains(out, v) {
			t.Errorf("the logs hold %q in clear", v)
		}
	}
}

// waitFor polls cond every 20 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiDesk is the demo client's own RM working through the API of r.
type apiDesk struct {
	t     *testing.T
	base  string
	rm    string
	admin string
}

// newDesk sets rm-pb-01 available through the API.
func newDesk(t *testing.T, r *running) *apiDesk {
	t.Helper()
	d := &apiDesk{t: t, base: r.base, rm: rmToken(t, testSecret, demoRM, demoRMTeam), admin: adminToken(t, testSecret)}
	if code, body := do(t, "PUT", d.base+"/api/v1/presence", d.rm, map[string]any{"state": "available"}); code != http.StatusOK {
		t.Fatalf("presence: %d %v", code, body)
	}
	return d
}

// conversations lists the demo client's conversations.
func (d *apiDesk) conversations() []any {
	d.t.Helper()
	code, list := do(d.t, "GET", d.base+"/api/v1/conversations?customer="+demoCustomer, d.admin, nil)
	if code != http.StatusOK {
		d.t.Fatalf("list: %d %v", code, list)
	}
	items, _ := list["items"].([]any)
	return items
}

// messages returns a conversation's messages, oldest first.
func (d *apiDesk) messages(id string) []map[string]any {
	d.t.Helper()
	code, detail := do(d.t, "GET", d.base+"/api/v1/conversations/"+id, d.admin, nil)
	if code != http.StatusOK {
		d.t.Fatalf("conversation %s: %d %v", id, code, detail)
	}
	var out []map[string]any
	for _, m := range detail["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// acceptOffer waits for the RM's offer, checks it is for the demo
// client, accepts it and returns the conversation id.
func (d *apiDesk) acceptOffer() string {
	d.t.Helper()
	var offer map[string]any
	waitFor(d.t, "an offer to "+demoRM, func() bool {
		code, list := do(d.t, "GET", d.base+"/api/v1/offers", d.rm, nil)
		if items, _ := list["items"].([]any); code == http.StatusOK && len(items) == 1 {
			offer = items[0].(map[string]any)
		}
		return offer != nil
	})
	id := offer["conversation_id"].(string)
	code, acc := do(d.t, "POST", d.base+"/api/v1/offers/"+offer["id"].(string)+"/accept", d.rm, nil)
	if code != http.StatusOK || acc["assignee_id"] != demoRM || acc["customer_id"] != demoCustomer || acc["segment"] != "private" {
		d.t.Fatalf("accept: %d %v", code, acc)
	}
	return id
}

// reply sends the RM's message and returns the HTTP status and answer.
func (d *apiDesk) reply(id string, body map[string]any) (int, map[string]any) {
	d.t.Helper()
	return do(d.t, "POST", d.base+"/api/v1/conversations/"+id+"/messages", d.rm, body)
}

// twilioSign computes X-Twilio-Signature for a form post to fullURL:
// base64 of HMAC-SHA1(token, URL + each parameter's name and value,
// sorted by name) (Twilio "Webhooks security").
func twilioSign(token, fullURL string, form url.Values) string {
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

// postForm posts a form with an X-Twilio-Signature and returns the status
// and body.
func postForm(t *testing.T, target string, form url.Values, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// fakeTwilio is a local Messages REST API (2010-04-01): it checks basic
// auth, records each message's form and answers a Message resource with a
// new sid, as Twilio does (201).
type fakeTwilio struct {
	srv       *httptest.Server
	sid, auth string
	mu        sync.Mutex
	sent      []url.Values
}

func newFakeTwilio(t *testing.T, sid, authToken string) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{sid: sid, auth: authToken}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+f.sid+"/Messages.json" || !ok || user != f.sid || pass != f.auth {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate","status":401}`))
			return
		}
		_ = r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, r.PostForm)
		n := len(f.sent)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"sid": "SMfake" + strconv.Itoa(n), "status": "queued"})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) messages() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.sent...)
}

// fakeWeChat is a local WeChat API with the endpoints the adapter calls:
// cgi-bin/stable_token, cgi-bin/message/custom/send (refused with
// sendErrcode when set) and cgi-bin/message/template/send.
type fakeWeChat struct {
	srv          *httptest.Server
	appID, token string
	secret       string
	mu           sync.Mutex
	tokenCalls   int
	sendErrcode  int
	custom       []map[string]any
	templates    []map[string]any
}

func newFakeWeChat(t *testing.T, appID, secret string) *fakeWeChat {
	t.Helper()
	f := &fakeWeChat{appID: appID, secret: secret, token: "fake-access-token-1"}
	answer := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.tokenCalls++
		f.mu.Unlock()
		if req["appid"] != f.appID || req["secret"] != f.secret {
			answer(w, map[string]any{"errcode": 40125, "errmsg": "invalid appsecret"})
			return
		}
		answer(w, map[string]any{"access_token": f.token, "expires_in": 7200})
	})
	record := func(list *[]map[string]any, refuse bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("access_token") != f.token {
				answer(w, map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
				return
			}
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			f.mu.Lock()
			defer f.mu.Unlock()
			if refuse && f.sendErrcode != 0 {
				answer(w, map[string]any{"errcode": f.sendErrcode, "errmsg": "response out of time limit or subscription is canceled"})
				return
			}
			*list = append(*list, body)
			answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 2000000000 + len(*list)})
		}
	}
	mux.HandleFunc("POST /cgi-bin/message/custom/send", record(&f.custom, true))
	mux.HandleFunc("POST /cgi-bin/message/template/send", record(&f.templates, false))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// refuseCustomSends makes custom sends fail with errcode (0: accept).
func (f *fakeWeChat) refuseCustomSends(errcode int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sendErrcode = errcode
}

func (f *fakeWeChat) sent() (custom, templates []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.custom...), append([]map[string]any(nil), f.templates...)
}
