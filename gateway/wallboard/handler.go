package wallboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// ContentSecurityPolicy is sent with every answer of the wallboard:
// scripts, styles, images and fonts from the gateway only (no inline
// script or style, no eval), fetch connections to the gateway only (the
// figures' stream is a fetch, not a WebSocket), no plugins, no <base>, no
// form submission (the login form is handled by the script, so the token
// never lands in a URL), no framing, and DOM sinks limited by Trusted
// Types (the page builds its DOM, SVG charts included, with createElement,
// attributes and textContent only). W3C Content Security Policy Level 3;
// Trusted Types.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'"

// contentTypes maps the extensions of the wallboard's files to their media
// types (not the host's mime.types, so every machine answers the same).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// handler serves the embedded files.
type handler struct {
	assets map[string]asset // by path below Prefix, e.g. "js/main.js"
}

// Handler returns the http.Handler of the wallboard. Mount it at Prefix
// ("/supervisor/") without stripping the prefix. It answers GET and HEAD
// (others get 405 with Allow); /supervisor/ is index.html; a path that is
// not an embedded file (a directory, an unknown file, "..") gets 404, so
// nothing is listed. Every answer carries ContentSecurityPolicy,
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// X-Frame-Options: DENY; files carry their media type, Cache-Control:
// no-cache and a strong ETag (a revalidation with If-None-Match gets 304,
// RFC 9110 §13.1.2). The page needs no token; the figures it reads do.
func Handler() http.Handler {
	h := &handler{assets: make(map[string]asset)}
	root := Files()
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		h.assets[p] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	if err != nil {
		panic("wallboard: embedded files: " + err.Error()) // embedded at build time: cannot fail
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method "+r.Method+" is not allowed (allowed: GET, HEAD)", http.StatusMethodNotAllowed)
		return
	}
	a, ok := h.lookup(r.URL.Path)
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// lookup returns the file a request path names: Prefix is index.html;
// anything else must be an embedded file's exact, clean path.
func (h *handler) lookup(p string) (asset, bool) {
	name, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		return asset{}, false
	}
	if name == "" {
		name = "index.html"
	}
	if !fs.ValidPath(name) {
		return asset{}, false
	}
	a, ok := h.assets[name]
	return a, ok
}
