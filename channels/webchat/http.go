package webchat

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/airbranch/airbranch/channels/conversation"
)

// sniffed are the MIME types whose content http.DetectContentType (the
// WHATWG MIME Sniffing algorithm) recognises: an upload declaring one of
// them must contain it, so a page is never served as a picture.
var sniffed = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "application/pdf"}

// maxNameBytes bounds an upload's file name.
const maxNameBytes = 128

// PageConfig is what GET ConfigPath tells the chat page.
type PageConfig struct {
	Anonymous bool   `json:"anonymous"`
	Limits    Limits `json:"limits"`
}

// serveConfig answers ConfigPath.
func (a *Adapter) serveConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, PageConfig{Anonymous: a.cfg.Anonymous.Enabled, Limits: a.limits()})
}

// AnonymousToken is the answer of POST AnonymousPath.
type AnonymousToken struct {
	Token     string    `json:"token"`
	AppUser   string    `json:"app_user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// serveAnonymous issues an anonymous token (404 when anonymous chat is
// off, 429 beyond Anonymous.PerMinute).
func (a *Adapter) serveAnonymous(w http.ResponseWriter, r *http.Request) {
	a.cors(w, r)
	if !a.cfg.Anonymous.Enabled {
		http.Error(w, "anonymous chat is not enabled", http.StatusNotFound)
		return
	}
	now := a.now()
	a.anonMu.Lock()
	ok, wait := a.anonRate.allow(now)
	a.anonMu.Unlock()
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		http.Error(w, "too many anonymous chats started; retry later", http.StatusTooManyRequests)
		return
	}
	tok, exp, err := issueAnonymous(a.cfg.Anonymous.Secret, a.cfg.Anonymous.TokenTTL, now)
	if err != nil {
		a.log.Error("anonymous token not issued", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p, _ := a.verifier.verifyAnonymous(tok)
	a.log.Info("anonymous chat token issued", "app_user", conversation.Address{Kind: conversation.AddressApp, Value: p.Subject})
	writeJSON(w, http.StatusOK, AnonymousToken{Token: tok, AppUser: p.Subject, ExpiresAt: exp})
}

// serveUpload stores one attachment: the body is the file, Content-Type
// its MIME type (one of Attachments.Types; 415 otherwise, or when the
// content is not of that type), ?name= its file name; 413 over
// Attachments.MaxBytes. 201 with the Attachment record; its id goes in a
// message's attachments.
func (a *Adapter) serveUpload(w http.ResponseWriter, r *http.Request) {
	a.cors(w, r)
	cl, err := a.authenticate(r)
	if err != nil {
		a.refuse(w, err)
		return
	}
	typ, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(a.cfg.Attachments.Types, typ) {
		http.Error(w, "Content-Type: one of "+strings.Join(a.cfg.Attachments.Types, ", "), http.StatusUnsupportedMediaType)
		return
	}
	limit := a.cfg.Attachments.MaxBytes
	if r.ContentLength > limit {
		http.Error(w, "the file is larger than "+strconv.FormatInt(limit, 10)+" bytes", http.StatusRequestEntityTooLarge)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		http.Error(w, "the file is larger than "+strconv.FormatInt(limit, 10)+" bytes", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "the body could not be read", http.StatusBadRequest)
		return
	case len(data) == 0:
		http.Error(w, "an empty file", http.StatusBadRequest)
		return
	}
	if slices.Contains(sniffed, typ) {
		if got, _, _ := mime.ParseMediaType(http.DetectContentType(data)); got != typ {
			http.Error(w, "the content is not "+typ, http.StatusUnsupportedMediaType)
			return
		}
	}
	now := a.now()
	rec := Attachment{ID: conversation.NewUUIDv7(now), Owner: cl.customer.ID, Type: typ, Name: cleanName(r.URL.Query().Get("name")),
		Size: int64(len(data)), CreatedAt: conversation.Millis(now), ExpiresAt: conversation.Millis(now.Add(a.cfg.Attachments.TTL))}
	if err := a.atts.Put(r.Context(), rec, data); err != nil {
		if errors.Is(err, ErrStoreFull) {
			http.Error(w, "the attachment store is full; retry later", http.StatusInsufficientStorage)
			return
		}
		a.log.Warn("attachment not stored", "customer_id", cl.customer.ID, "error", err)
		w.Header().Set("Retry-After", "2")
		http.Error(w, "the attachment could not be stored; retry", http.StatusServiceUnavailable)
		return
	}
	a.log.Info("attachment stored", "customer_id", cl.customer.ID, "attachment_id", rec.ID, "type", typ, "size_bytes", rec.Size)
	writeJSON(w, http.StatusCreated, rec)
}

// serveAttachment returns an upload to the client who made it (404 for
// anyone else), as a download that the browser does not sniff.
func (a *Adapter) serveAttachment(w http.ResponseWriter, r *http.Request) {
	a.cors(w, r)
	cl, err := a.authenticate(r)
	if err != nil {
		a.refuse(w, err)
		return
	}
	id := r.PathValue("id")
	if len(id) > maxAttachmentIDBytes {
		http.Error(w, "no such attachment", http.StatusNotFound)
		return
	}
	rec, data, err := a.atts.Get(r.Context(), id)
	switch {
	case errors.Is(err, conversation.ErrNotFound) || err == nil && rec.Owner != cl.customer.ID:
		http.Error(w, "no such attachment", http.StatusNotFound)
		return
	case err != nil:
		w.Header().Set("Retry-After", "2")
		http.Error(w, "the attachment could not be read; retry", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", rec.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	disp := "attachment"
	if strings.HasPrefix(rec.Type, "image/") {
		disp = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": nameOr(rec.Name, rec.ID)}))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// servePreflight answers a CORS preflight (Fetch Standard §3.2.2) for an
// allowed origin.
func (a *Adapter) servePreflight(w http.ResponseWriter, r *http.Request) {
	if a.cors(w, r) {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// cors allows a listed origin (Config.AllowedOrigins) to read the answer;
// it reports whether the origin was allowed. Tokens travel in the
// Authorization header, never in cookies, so no credentials mode is
// granted.
func (a *Adapter) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !a.listedOrigin(origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Add("Vary", "Origin")
	return true
}

// cleanName keeps a file name's last path element, printable, at most
// maxNameBytes.
func cleanName(s string) string {
	s = path.Base(strings.ReplaceAll(s, "\\", "/"))
	if s == "." || s == "/" {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == '"' {
			return -1
		}
		return r
	}, s)
	for len(s) > maxNameBytes {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

func nameOr(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

// writeJSON writes v as a JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
