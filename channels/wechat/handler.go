package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/airbranch/airbranch/channels/conversation"
)

// WebhookPath is where WeChat calls: WebhookPath for a single account,
// WebhookPath + "/{name}" for each of several.
const WebhookPath = "/webhooks/wechat"

// Handler returns the HTTP handler of WeChat's callbacks: GET and POST on
// WebhookPath and WebhookPath/{name}. Mount it on both, e.g.
// mux.Handle(WebhookPath, h) and mux.Handle(WebhookPath+"/", h).
//
// Answers: 200 "success" (or the passive reply) once stored; 200 echostr
// for URL verification; 400 malformed XML or query; 403 forged signature,
// stale timestamp or ToUserName of another account; 404 unknown account;
// 413 body over Config.MaxBodyBytes; 503 when the Sink or a store cannot
// take it now (WeChat retries); 500 on any other Sink error.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WebhookPath, a.serveVerify)
	mux.HandleFunc("GET "+WebhookPath+"/{account}", a.serveVerify)
	mux.HandleFunc("POST "+WebhookPath, a.serveCallback)
	mux.HandleFunc("POST "+WebhookPath+"/{account}", a.serveCallback)
	return mux
}

// rejection is why a callback is refused: an HTTP status and a reason for
// the log (never sent to the client).
type rejection struct {
	status int
	err    error
}

func (r *rejection) Error() string { return r.err.Error() }

func reject(status int, err error) *rejection { return &rejection{status: status, err: err} }

// serveVerify answers WeChat's URL verification ("Access overview"):
// signature = SHA-1 of the sorted token, timestamp and nonce; the answer
// is echostr.
func (a *Adapter) serveVerify(w http.ResponseWriter, r *http.Request) {
	acct, rej := a.authenticate(r, false)
	if rej == nil && r.URL.Query().Get("echostr") == "" {
		rej = reject(http.StatusBadRequest, errors.New("echostr missing"))
	}
	if rej != nil {
		a.refuse(w, r, rej)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, r.URL.Query().Get("echostr"))
	a.log.Info("wechat url verified", "account", acct.cfg.OriginalID)
}

// authenticate finds the account from the URL and checks the query's
// signature and timestamp. When msgSigned (a safe-mode POST, whose body
// msg_signature authenticates) signature is checked only if present.
func (a *Adapter) authenticate(r *http.Request, msgSigned bool) (*account, *rejection) {
	acct, err := a.accountForPath(r.PathValue("account"))
	if err != nil {
		return nil, reject(http.StatusNotFound, err)
	}
	q := r.URL.Query()
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("signature")
	if sig != "" || !msgSigned {
		if !verifySignature(sig, acct.cfg.Credentials.Token, ts, nonce) {
			return nil, reject(http.StatusForbidden, fmt.Errorf("signature: %w", ErrSignature))
		}
	}
	if err := checkTimestamp(ts, a.now(), a.cfg.TimestampSkew); err != nil {
		return nil, reject(http.StatusForbidden, err)
	}
	return acct, nil
}

// serveCallback takes one message or event: authenticate, read, decrypt,
// parse, store, then answer.
func (a *Adapter) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	mode := q.Get("encrypt_type")
	if mode != "" && mode != "aes" && mode != "raw" {
		a.refuse(w, r, reject(http.StatusBadRequest, fmt.Errorf("encrypt_type %q", mode)))
		return
	}
	acct, rej := a.authenticate(r, mode == "aes")
	if rej != nil {
		a.refuse(w, r, rej)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.refuse(w, r, reject(http.StatusRequestEntityTooLarge, err))
		} else {
			a.refuse(w, r, reject(http.StatusBadRequest, err))
		}
		return
	}
	safe := mode == "aes"
	if !safe && acct.cfg.SafeModeOnly {
		a.refuse(w, r, reject(http.StatusForbidden, errors.New("plain-mode callback on a safe-mode-only account")))
		return
	}
	if safe {
		if body, rej = a.openEnvelope(acct, q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature"), body); rej != nil {
			a.refuse(w, r, rej)
			return
		}
	}
	cb, err := parseCallback(body)
	if err != nil {
		a.refuse(w, r, reject(http.StatusBadRequest, err))
		return
	}
	if cb.ToUserName != acct.cfg.OriginalID {
		a.refuse(w, r, reject(http.StatusForbidden, errors.New("ToUserName is not this account's original id")))
		return
	}
	ib := acct.normalize(cb, a.now())
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.AckTimeout)
	defer cancel()
	duplicate, rej := a.store(ctx, acct, ib)
	if rej != nil {
		a.refuse(w, r, rej)
		return
	}
	a.log.Info("wechat callback stored", "account", acct.cfg.OriginalID, "incoming", ib.in, "duplicate", duplicate, "safe_mode", safe)
	a.answer(w, acct, ib, safe)
}

// openEnvelope checks msg_signature over the body's Encrypt and decrypts
// it ("Message encryption and decryption").
func (a *Adapter) openEnvelope(acct *account, ts, nonce, msgSig string, body []byte) ([]byte, *rejection) {
	if acct.aesKey == nil {
		return nil, reject(http.StatusBadRequest, errors.New("safe mode callback but no EncodingAESKey is configured"))
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return nil, reject(http.StatusBadRequest, err)
	}
	if !verifySignature(msgSig, acct.cfg.Credentials.Token, ts, nonce, env.Encrypt) {
		return nil, reject(http.StatusForbidden, fmt.Errorf("msg_signature: %w", ErrSignature))
	}
	plain, err := decryptMessage(acct.aesKey, acct.cfg.Credentials.AppID, env.Encrypt)
	switch {
	case errors.Is(err, errAppID):
		return nil, reject(http.StatusForbidden, err)
	case err != nil:
		return nil, reject(http.StatusBadRequest, err)
	}
	return plain, nil
}

// store hands the callback to the Sink, then records its opt-out and
// window effects; all of it must succeed before WeChat is answered.
func (a *Adapter) store(ctx context.Context, acct *account, ib inbound) (duplicate bool, rej *rejection) {
	id, openid := acct.cfg.OriginalID, ib.in.From.Value
	if ib.status != nil {
		if err := a.sink.Status(ctx, *ib.status); err != nil && !errors.Is(err, conversation.ErrNotFound) {
			return false, sinkRejection(err)
		}
	}
	rc, err := a.sink.Receive(ctx, ib.in)
	if err != nil {
		return false, sinkRejection(err)
	}
	switch {
	case ib.optOut:
		err = a.supp.Suppress(ctx, id, openid, ib.at)
	case ib.optIn:
		err = a.supp.Unsuppress(ctx, id, openid, ib.at)
	}
	if err != nil {
		return false, reject(http.StatusServiceUnavailable, fmt.Errorf("opt-out record: %w", err))
	}
	if rule := a.rule(ib.trigger); rule.Quota > 0 {
		g := Grant{Trigger: ib.trigger, At: ib.at, Until: ib.at.Add(rule.Duration), Quota: rule.Quota, New: !rc.Duplicate}
		if err := a.windows.Grant(ctx, id, openid, g); err != nil {
			return false, reject(http.StatusServiceUnavailable, fmt.Errorf("window grant: %w", err))
		}
	}
	return rc.Duplicate, nil
}

// sinkRejection maps a Sink error to the answer WeChat gets.
func sinkRejection(err error) *rejection {
	switch {
	case errors.Is(err, conversation.ErrInvalid):
		return reject(http.StatusBadRequest, fmt.Errorf("sink: %w", err))
	case errors.Is(err, conversation.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return reject(http.StatusServiceUnavailable, fmt.Errorf("sink: %w", err))
	}
	return reject(http.StatusInternalServerError, fmt.Errorf("sink: %w", err))
}

// rule returns the window rule of a trigger (zero for none).
func (a *Adapter) rule(t Trigger) WindowRule {
	switch t {
	case TriggerMessage:
		return a.cfg.Window.Message
	case TriggerMenuClick:
		return a.cfg.Window.MenuClick
	case TriggerSubscribe:
		return a.cfg.Window.Subscribe
	case TriggerScan:
		return a.cfg.Window.Scan
	}
	return WindowRule{}
}

// answer writes "success", or the welcome reply to a subscribe event.
func (a *Adapter) answer(w http.ResponseWriter, acct *account, ib inbound, safe bool) {
	if ib.wantsHi && acct.cfg.WelcomeText != "" {
		body, err := a.passiveText(acct, ib.in.From.Value, acct.cfg.WelcomeText, safe)
		if err == nil {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			_, _ = w.Write(body)
			return
		}
		// The callback is stored: answer success rather than make WeChat retry.
		a.log.Error("wechat welcome reply", "account", acct.cfg.OriginalID, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

// refuse answers a refused callback and logs why, without personal data.
func (a *Adapter) refuse(w http.ResponseWriter, r *http.Request, rej *rejection) {
	level := slog.LevelWarn
	if rej.status >= 500 {
		level = slog.LevelError
	}
	a.log.Log(r.Context(), level, "wechat callback refused", "status", rej.status, "method", r.Method,
		"path", r.URL.Path, "err", rej.err.Error())
	msg := http.StatusText(rej.status)
	if strings.TrimSpace(msg) == "" {
		msg = "error"
	}
	http.Error(w, msg, rej.status)
}
