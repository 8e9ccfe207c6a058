package wechat

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeWeChat is a local stand-in for api.weixin.qq.com with the endpoints
// the adapter calls, following their documented requests and answers:
// cgi-bin/stable_token, cgi-bin/message/custom/send, cgi-bin/media/upload
// and cgi-bin/message/template/send.
type fakeWeChat struct {
	srv *httptest.Server

	mu         sync.Mutex
	appID      string
	secret     string
	token      string          // the current valid token; "" before the first fetch
	revoked    map[string]bool // tokens WeChat now refuses with 40001
	sticky     bool            // a normal fetch still returns a revoked token (forcing is needed)
	seq        int
	tokenCalls int
	forced     int
	tokenDelay time.Duration // widens the window for concurrent fetches
	sendErrs   []int64       // errcodes for the next custom sends, in order
	alwaysErr  int64         // errcode for every custom send, 0 for none
	sendCalls  int
	sent       []customMessage
	rawSent    []string          // the JSON bodies of accepted custom sends
	uploads    map[string][]byte // media id → bytes
	templates  []templateMessage
}

func newFakeWeChat(t *testing.T) *fakeWeChat {
	t.Helper()
	f := &fakeWeChat{appID: testAppID, secret: testSecret, revoked: map[string]bool{}, uploads: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/stable_token", f.stableToken)
	mux.HandleFunc("POST /cgi-bin/message/custom/send", f.customSend)
	mux.HandleFunc("POST /cgi-bin/media/upload", f.upload)
	mux.HandleFunc("POST /cgi-bin/message/template/send", f.templateSend)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, code int64, msg string) {
	answer(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (f *fakeWeChat) stableToken(w http.ResponseWriter, r *http.Request) {
	var req stableTokenRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.GrantType != "client_credential" {
		apiErr(w, 40002, "invalid grant_type")
		return
	}
	f.mu.Lock()
	delay := f.tokenDelay
	f.mu.Unlock()
	time.Sleep(delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if req.AppID != f.appID || req.Secret != f.secret {
		apiErr(w, 40125, "invalid appsecret")
		return
	}
	if req.ForceRefresh {
		f.forced++
	}
	if f.token == "" || req.ForceRefresh || (f.revoked[f.token] && !f.sticky) {
		f.seq++
		f.token = fmt.Sprintf("ACCESS_TOKEN_%d", f.seq)
	}
	answer(w, map[string]any{"access_token": f.token, "expires_in": 7200})
}

// authorized checks the access_token; callers hold mu.
func (f *fakeWeChat) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := r.URL.Query().Get("access_token")
	switch {
	case tok == "":
		apiErr(w, 41001, "access_token missing")
	case f.revoked[tok]:
		apiErr(w, 40001, "invalid credential, access_token is invalid or not latest")
	case tok != f.token:
		apiErr(w, 40014, "invalid access_token")
	default:
		return true
	}
	return false
}

func (f *fakeWeChat) customSend(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sendCalls++
	if !f.authorized(w, r) {
		return
	}
	if f.alwaysErr != 0 {
		apiErr(w, f.alwaysErr, "scripted")
		return
	}
	if len(f.sendErrs) > 0 {
		code := f.sendErrs[0]
		f.sendErrs = f.sendErrs[1:]
		apiErr(w, code, "scripted")
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var m customMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.ToUser == "" {
		apiErr(w, 40003, "invalid openid")
		return
	}
	if m.MsgType == "image" && (m.Image == nil || f.uploads[m.Image.MediaID] == nil) {
		apiErr(w, 40007, "invalid media_id")
		return
	}
	f.sent = append(f.sent, m)
	f.rawSent = append(f.rawSent, string(raw))
	apiErr(w, 0, "ok")
}

func (f *fakeWeChat) upload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r) {
		return
	}
	if r.URL.Query().Get("type") != "image" {
		apiErr(w, 40004, "invalid media type")
		return
	}
	file, hdr, err := r.FormFile("media")
	if err != nil {
		apiErr(w, 41005, "media data missing")
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(file)
	id := fmt.Sprintf("MEDIA_%d_%s", len(f.uploads)+1, hdr.Filename)
	f.uploads[id] = data
	answer(w, map[string]any{"type": "image", "media_id": id, "created_at": 1700000000})
}

func (f *fakeWeChat) templateSend(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorized(w, r) {
		return
	}
	var m templateMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.TemplateID == "" {
		apiErr(w, 40037, "invalid template_id")
		return
	}
	f.templates = append(f.templates, m)
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 200228332 + len(f.templates)})
}

// revoke makes WeChat refuse the current token (as after a refresh
// elsewhere, or its expiry).
func (f *fakeWeChat) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked[f.token] = true
}

// counts returns the stable_token calls and custom-send calls so far.
func (f *fakeWeChat) counts() (tokenCalls, sendCalls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls, f.sendCalls
}

func (f *fakeWeChat) edit(fn func(f *fakeWeChat)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
