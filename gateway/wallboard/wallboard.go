// Package wallboard is the supervisor's wallboard in the browser: plain
// HTML, CSS and JavaScript modules written by hand (no build step, nothing
// fetched from another origin), embedded in the binary with embed.FS and
// served under /supervisor/ by Handler.
//
// The page (supervisor/index.html and supervisor/js/*.js) logs a
// supervisor or an admin in with a bearer token kept in the tab's
// sessionStorage, reads the figures of GET /api/v1/stats/stream
// (server-sent events, WHATWG HTML §9.2) with fetch and a ReadableStream so
// that the token travels in the Authorization header (EventSource cannot
// send one), reconnects with backoff when the stream ends (every 5
// minutes) or fails, and reads RMs' presence (GET /api/v1/presence) and
// scorecards (GET /api/v1/stats/rms/{id}) with the same token. Tables per
// team and per segment, the pilot and control groups side by side, RMs by
// state and charts drawn as inline SVG; see docs/wallboard.md.
package wallboard

import (
	"embed"
	"io/fs"
)

// Prefix is the path the wallboard is served under; mount Handler there
// without stripping it: mux.Handle(wallboard.Prefix, wallboard.Handler()).
const Prefix = "/supervisor/"

// files holds the wallboard's static files under supervisor/.
//
//go:embed supervisor
var files embed.FS

// Files returns the wallboard's static files, rooted at the directory
// served as Prefix (index.html, wallboard.css, js/main.js...).
func Files() fs.FS {
	sub, err := fs.Sub(files, "supervisor")
	if err != nil {
		panic("wallboard: embedded files: " + err.Error()) // "supervisor" is a valid path: cannot happen
	}
	return sub
}
