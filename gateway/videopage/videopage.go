// Package videopage is the /video/ join page: plain HTML, CSS and a
// JavaScript module written by hand (no build step, nothing fetched from
// another origin), embedded in the binary and served under Prefix by
// Handler with a strict Content Security Policy.
//
// The page takes a join token from its URL fragment (#token=...) or
// exchanges a single-use invitation (#invite=CODE, POST
// /video/invitations/{code}), shows the camera preview, speaks the
// signalling protocol of channels/video/PROTOCOL.md over /ws/video
// (subprotocols "airbranch.video.v1" and "bearer.<token>"), waits in the
// lobby (a client) or admits from it (an RM), shows one tile per
// participant, mutes, shares the screen (renegotiating), chats over the
// "chat" data channel, consents to recording, and leaves.
package videopage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the path the page is served under; mount Handler there
// without stripping it.
const Prefix = "/video/"

// ContentSecurityPolicy is sent with every answer: scripts, styles and
// images from the gateway only (no inline script or style, no eval),
// WebSocket and fetch connections to the gateway, media from the page's
// own streams, no plugins, no <base>, no forms, no framing, and DOM sinks
// closed by Trusted Types (the page builds its DOM with textContent
// only). W3C Content Security Policy Level 3; Trusted Types.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

// PermissionsPolicy lets the page (and only it) use the camera, the
// microphone and screen capture.
const PermissionsPolicy = "camera=(self), microphone=(self), display-capture=(self)"

//go:embed page
var files embed.FS

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

type handler struct{ assets map[string]asset }

// Handler returns the page's handler: GET and HEAD only (405 with Allow
// otherwise); /video/ is index.html; anything that is not an embedded
// file gets 404. Every answer carries ContentSecurityPolicy,
// PermissionsPolicy, X-Content-Type-Options: nosniff, Referrer-Policy:
// no-referrer and X-Frame-Options: DENY; files carry Cache-Control:
// no-cache and a strong ETag (RFC 9110 §13.1.2).
func Handler() http.Handler {
	root, err := fs.Sub(files, "page")
	if err != nil {
		panic("videopage: " + err.Error()) // a valid embedded path: cannot happen
	}
	h := &handler{assets: map[string]asset{}}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		ct := contentTypes[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		h.assets[p] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		panic("videopage: " + err.Error()) // embedded at build time: cannot fail
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("Permissions-Policy", PermissionsPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method "+r.Method+" is not allowed (allowed: GET, HEAD)", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
