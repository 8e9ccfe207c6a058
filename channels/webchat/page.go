package webchat

import (
	"embed"
	"io/fs"
	"net/http"
)

// pageFiles holds the chat page, written by hand with nothing fetched from
// another origin: index.html, chat.css, and the JavaScript modules chat.js
// (sign-in, composing), socket.js (the connection and the protocol),
// view.js (rendering) and state.js (shared state).
//
//go:embed page
var pageFiles embed.FS

// pageHandler serves the chat page under PagePrefix, with a content
// security policy that allows only this origin.
func pageHandler() http.Handler {
	sub, err := fs.Sub(pageFiles, "page")
	if err != nil {
		panic("webchat: embedded page: " + err.Error()) // "page" is a valid path: cannot happen
	}
	files := http.StripPrefix(PagePrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
