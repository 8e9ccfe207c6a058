package wallboard_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/gateway/wallboard"
)

// securityHeaders must be on every answer, files and refusals alike.
var securityHeaders = map[string]string{
	"Content-Security-Policy": wallboard.ContentSecurityPolicy,
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "no-referrer",
}

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, "http://gateway.test/", nil)
	// Set the path as sent, unclean: the handler, not the test, must refuse it.
	r.URL.Path = target
	r.RequestURI = target
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandlerServesFiles(t *testing.T) {
	h := wallboard.Handler()
	cases := []struct {
		name, method, path string
		status             int
		contentType        string
		bodyHas            string
	}{
		{"the page at the prefix", http.MethodGet, "/supervisor/", 200, "text/html; charset=utf-8", "<title>Airbranch supervisor wallboard</title>"},
		{"the page by name", http.MethodGet, "/supervisor/index.html", 200, "text/html; charset=utf-8", `src="js/main.js"`},
		{"the style sheet", http.MethodGet, "/supervisor/wallboard.css", 200, "text/css; charset=utf-8", ".tile"},
		{"a module", http.MethodGet, "/supervisor/js/main.js", 200, "text/javascript; charset=utf-8", "BoardStream"},
		{"the stream module", http.MethodGet, "/supervisor/js/stream.js", 200, "text/javascript; charset=utf-8", "/api/v1/stats/stream"},
		{"the icon", http.MethodGet, "/supervisor/icon.svg", 200, "image/svg+xml", "<svg"},
		{"HEAD of the page", http.MethodHead, "/supervisor/", 200, "text/html; charset=utf-8", ""},
		{"an unknown file", http.MethodGet, "/supervisor/nope.js", 404, "", ""},
		{"a directory with a slash", http.MethodGet, "/supervisor/js/", 404, "", ""},
		{"a directory without", http.MethodGet, "/supervisor/js", 404, "", ""},
		{"a climb out", http.MethodGet, "/supervisor/../wallboard.go", 404, "", ""},
		{"a climb inside", http.MethodGet, "/supervisor/js/../index.html", 404, "", ""},
		{"a double slash", http.MethodGet, "/supervisor//index.html", 404, "", ""},
		{"the Go source", http.MethodGet, "/supervisor/handler.go", 404, "", ""},
		{"outside the prefix", http.MethodGet, "/index.html", 404, "", ""},
		{"the prefix without its slash", http.MethodGet, "/supervisor", 404, "", ""},
		{"a POST", http.MethodPost, "/supervisor/", 405, "", ""},
		{"a PUT of a file", http.MethodPut, "/supervisor/js/main.js", 405, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := serve(t, h, tc.method, tc.path, nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Fatalf("%s %s: status %d, want %d (%s)", tc.method, tc.path, res.StatusCode, tc.status, body)
			}
			for k, v := range securityHeaders {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			switch {
			case tc.status == 200:
				if got := res.Header.Get("Content-Type"); got != tc.contentType {
					t.Errorf("Content-Type %q, want %q", got, tc.contentType)
				}
				if got := res.Header.Get("Cache-Control"); got != "no-cache" {
					t.Errorf("Cache-Control %q, want no-cache", got)
				}
				if res.Header.Get("ETag") == "" {
					t.Error("no ETag")
				}
				if tc.method == http.MethodHead && len(body) != 0 {
					t.Errorf("HEAD answered a body of %d bytes", len(body))
				}
				if !strings.Contains(string(body), tc.bodyHas) {
					t.Errorf("body lacks %q", tc.bodyHas)
				}
			case tc.status == 405:
				if got := res.Header.Get("Allow"); got != "GET, HEAD" {
					t.Errorf("Allow %q, want GET, HEAD", got)
				}
			}
			if tc.status != 200 && strings.Contains(string(body), "<a href") {
				t.Errorf("a refusal lists files: %s", body)
			}
		})
	}
}

// A browser revalidating with the ETag it holds gets 304 and no body.
func TestHandlerRevalidates(t *testing.T) {
	h := wallboard.Handler()
	first := serve(t, h, http.MethodGet, "/supervisor/js/main.js", nil)
	etag := first.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not a strong entity tag", etag)
	}
	again := serve(t, h, http.MethodGet, "/supervisor/js/main.js", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: status %d, want 304", again.StatusCode)
	}
	other := serve(t, h, http.MethodGet, "/supervisor/wallboard.css", nil)
	if other.Header.Get("ETag") == etag {
		t.Error("two different files share an ETag")
	}
}

var (
	// attrRef finds src and href values in the page.
	attrRef = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)
	// importRef finds the specifiers of static imports and re-exports.
	importRef = regexp.MustCompile(`(?s)\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]`)
)

// Every file the page names (index.html's src and href, the modules'
// imports) is embedded, is named by a relative path (nothing from another
// origin), and every embedded file is named by something.
func TestEveryReferenceIsEmbedded(t *testing.T) {
	files := wallboard.Files()
	var all []string
	if err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			all = append(all, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"index.html": true}
	check := func(from, ref string) {
		t.Helper()
		if strings.HasPrefix(ref, "#") {
			return
		}
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
			t.Errorf("%s names %q: only files of the wallboard, by a relative path", from, ref)
			return
		}
		target := path.Join(path.Dir(from), ref)
		if !slices.Contains(all, target) {
			t.Errorf("%s names %q (%s), which is not embedded", from, ref, target)
		}
		used[target] = true
	}
	page := read(t, files, "index.html")
	for _, m := range attrRef.FindAllStringSubmatch(page, -1) {
		check("index.html", m[1])
	}
	for _, p := range all {
		if path.Ext(p) != ".js" {
			continue
		}
		for _, m := range importRef.FindAllStringSubmatch(read(t, files, p), -1) {
			check(p, m[1]+m[2])
		}
	}
	for _, p := range all {
		if !used[p] {
			t.Errorf("%s is embedded but nothing names it", p)
		}
	}
}

// The page obeys its own Content-Security-Policy and keeps personal data
// out of the browser's console: no inline script, style or handler in the
// page; no HTML sinks, eval, localStorage or console output in the modules.
func TestPageSourcesStayStrict(t *testing.T) {
	files := wallboard.Files()
	page := read(t, files, "index.html")
	for _, tc := range []struct {
		name string
		re   *regexp.Regexp
	}{
		{"an inline script", regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)},
		{"a style element", regexp.MustCompile(`<style\b`)},
		{"a style attribute", regexp.MustCompile(`\sstyle=`)},
		{"an event handler attribute", regexp.MustCompile(`\son[a-z]+=`)},
		{"a javascript: URL", regexp.MustCompile(`(?i)javascript:`)},
	} {
		if loc := tc.re.FindStringIndex(page); loc != nil {
			t.Errorf("index.html has %s: %q", tc.name, page[loc[0]:min(loc[1]+20, len(page))])
		}
	}
	for _, tag := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("index.html has a script without src: %s", tag)
		}
	}
	forbidden := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage",
		"console.log", "console.info", "console.debug", "console.warn", "console.error", "console.trace"}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || path.Ext(p) != ".js" {
			return err
		}
		src := read(t, files, p)
		for _, f := range forbidden {
			if strings.Contains(src, f) {
				t.Errorf("%s uses %s", p, f)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, files fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every form control of the page has a label: a <label for> naming its id,
// or a <label> around it (the transfer radios).
func TestFormControlsHaveLabels(t *testing.T) {
	page := read(t, wallboard.Files(), "index.html")
	wrapped := regexp.MustCompile(`<label>\s*<input\b[^>]*>`)
	bare := wrapped.ReplaceAllString(page, "")
	controls := regexp.MustCompile(`<(?:input|select|textarea)\b[^>]*>`).FindAllString(bare, -1)
	if len(controls) == 0 {
		t.Fatal("no form controls found: the pattern is stale")
	}
	idOf := regexp.MustCompile(`\bid="([^"]+)"`)
	for _, c := range controls {
		m := idOf.FindStringSubmatch(c)
		if m == nil {
			t.Errorf("%s has no id for a label to name", c)
			continue
		}
		if !strings.Contains(page, `<label for="`+m[1]+`"`) {
			t.Errorf("#%s has no <label for>", m[1])
		}
	}
}

// The token travels in the Authorization header only: no module opens an
// EventSource or a WebSocket (neither can send the header), none puts a
// token in a query string, and the requests carry Authorization.
func TestTokenStaysInTheHeader(t *testing.T) {
	files := wallboard.Files()
	inURL := regexp.MustCompile(`[?&](?:access_)?token=`)
	headers := 0
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || path.Ext(p) != ".js" {
			return err
		}
		src := read(t, files, p)
		for _, f := range []string{"new EventSource", "new WebSocket", "sendBeacon", "document.cookie"} {
			if strings.Contains(src, f) {
				t.Errorf("%s uses %s", p, f)
			}
		}
		if loc := inURL.FindStringIndex(src); loc != nil {
			t.Errorf("%s puts a token in a URL: %q", p, src[loc[0]:min(loc[1]+20, len(src))])
		}
		headers += strings.Count(src, "Authorization: `Bearer ${token}`")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if headers != 1 {
		t.Errorf("%d places build the Authorization header, want the one requestInit that every call uses", headers)
	}
}
