package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
)

// twilioAPI is the Twilio-compatible Messages REST API the gateway sends
// SMS replies through (Twilio "Create a Message resource"): it checks the
// account's basic auth and records every message.
type twilioAPI struct {
	srv       *http.Server
	ln        net.Listener
	sid, auth string
	mu        sync.Mutex
	sent      []url.Values
	n         atomic.Int64
}

func startTwilioAPI(sid, auth string) (*twilioAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &twilioAPI{ln: ln, sid: sid, auth: auth}
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+f.sid+"/Messages.json" || !ok || user != f.sid || pass != f.auth {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate","status":401}`))
			return
		}
		_ = r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, r.PostForm)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"sid": "SMe2e" + strconv.FormatInt(f.n.Add(1), 10), "status": "queued"})
	})}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *twilioAPI) URL() string { return "http://" + f.ln.Addr().String() }

// Sent returns the messages sent so far (To, From, Body, StatusCallback).
func (f *twilioAPI) Sent() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.sent...)
}

// wechatAPI is the WeChat API the gateway calls: cgi-bin/stable_token
// and the customer-service and template message endpoints (WeChat
// official account "Customer service messages"); it records every send.
type wechatAPI struct {
	srv           *http.Server
	ln            net.Listener
	appID, secret string
	token         string
	mu            sync.Mutex
	custom        []map[string]any
	templates     []map[string]any
}

func startWeChatAPI(appID, secret string) (*wechatAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &wechatAPI{ln: ln, appID: appID, secret: secret, token: "e2e-access-token"}
	answer := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/stable_token", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req["appid"] != f.appID || req["secret"] != f.secret {
			answer(w, map[string]any{"errcode": 40125, "errmsg": "invalid appsecret"})
			return
		}
		answer(w, map[string]any{"access_token": f.token, "expires_in": 7200})
	})
	record := func(list *[]map[string]any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("access_token") != f.token {
				answer(w, map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
				return
			}
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			f.mu.Lock()
			*list = append(*list, body)
			n := len(*list)
			f.mu.Unlock()
			answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 3000000000 + n})
		}
	}
	mux.HandleFunc("POST /cgi-bin/message/custom/send", record(&f.custom))
	mux.HandleFunc("POST /cgi-bin/message/template/send", record(&f.templates))
	f.srv = &http.Server{Handler: mux}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *wechatAPI) URL() string { return "http://" + f.ln.Addr().String() }

// Sent returns the customer-service and template messages sent so far.
func (f *wechatAPI) Sent() (custom, templates []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.custom...), append([]map[string]any(nil), f.templates...)
}
