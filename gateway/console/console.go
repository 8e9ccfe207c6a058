// Package console is the RM desk's browser console: plain HTML, CSS and
// JavaScript modules written by hand (no build step, nothing fetched from
// another origin), embedded in the binary with embed.FS and served under
// /desk/ by Handler.
//
// The page (desk/index.html and desk/js/*.js) logs the RM in with a bearer
// token kept in the tab's sessionStorage, speaks the desk protocol of
// docs/desk-protocol.md over the /ws/desk WebSocket (subprotocols
// "airbranch.desk.v1" and "bearer.<token>", reconnecting with backoff and
// resuming with ?after=<last seq>), and reads a conversation's history and a
// customer from the REST API (GET /api/v1/conversations/{id}, GET
// /api/v1/customers/{id}), and the specialists the RM may invite (GET
// /api/v1/specialists), with the same token. See docs/desk-console.md.
package console

import (
	"embed"
	"io/fs"
)

// Prefix is the path the console is served under; mount Handler there
// without stripping it: mux.Handle(console.Prefix, console.Handler()).
const Prefix = "/desk/"

// files holds the console's static files under desk/.
//
//go:embed desk
var files embed.FS

// Files returns the console's static files, rooted at the directory served
// as Prefix (index.html, desk.css, js/main.js...).
func Files() fs.FS {
	sub, err := fs.Sub(files, "desk")
	if err != nil {
		panic("console: embedded files: " + err.Error()) // "desk" is a valid path: cannot happen
	}
	return sub
}
