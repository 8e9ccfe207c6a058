package auth_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/gateway/auth"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.FromContext(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(p)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /who", echo)
	mux.Handle("POST /rm-only", auth.RequireRole(auth.RoleRM, auth.RoleAdmin)(echo))
	srv := httptest.NewServer(auth.Middleware(v, log)(mux))
	t.Cleanup(srv.Close)

	rmTok, err := auth.Issue(secret, auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	supTok, err := auth.Issue(secret, auth.Principal{Subject: "sup-1", Role: auth.RoleSupervisor}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := auth.Issue(secret, auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}, time.Minute, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name          string
		method, path  string
		authorization string
		wantStatus    int
		wantChallenge string
		wantBody      string
	}{
		{"valid token", "GET", "/who", "Bearer " + rmTok, 200, "", `"sub":"rm-pb-01"`},
		{"scheme in lower case", "GET", "/who", "bearer " + rmTok, 200, "", `"role":"rm"`},
		{"no header", "GET", "/who", "", 401, `Bearer realm="airbranch"`, `"code":"unauthorized"`},
		{"basic scheme", "GET", "/who", "Basic cm06c2VjcmV0", 401, `Bearer realm="airbranch"`, "bearer token is required"},
		{"garbage token", "GET", "/who", "Bearer abc.def", 401, `Bearer realm="airbranch", error="invalid_token", error_description="auth: invalid token: malformed (want header.payload.signature, RFC 7519 section 3)"`, "malformed"},
		{"expired token", "GET", "/who", "Bearer " + expired, 401, `Bearer realm="airbranch", error="invalid_token", error_description="auth: invalid token: expired"`, "expired"},
		{"role allowed", "POST", "/rm-only", "Bearer " + rmTok, 200, "", `"team":"private_bank"`},
		{"role refused", "POST", "/rm-only", "Bearer " + supTok, 403, `Bearer realm="airbranch", error="insufficient_scope"`, "role supervisor may not POST /rm-only (allowed: [rm admin])"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Fatalf("WWW-Authenticate = %q, want %q", got, tc.wantChallenge)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("body %s does not contain %s", body, tc.wantBody)
			}
			if tc.wantStatus != 200 {
				if got := resp.Header.Get("Cache-Control"); got != "no-store" {
					t.Fatalf("Cache-Control = %q on a refusal, want no-store", got)
				}
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Fatalf("error body %s is not {\"error\":{\"code\",\"message\"}}: %v", body, err)
				}
			}
		})
	}
	// Cleanups run after the parallel subtests have finished: every request
	// has been served and logged by then.
	t.Cleanup(func() {
		out := logs.String()
		for _, tok := range []string{rmTok, expired, supTok} {
			if strings.Contains(out, tok) || strings.Contains(out, strings.Split(tok, ".")[2]) {
				t.Errorf("a token appears in the log: %s", out)
			}
		}
		if !strings.Contains(out, "bearer token refused") {
			t.Errorf("refusals were not logged: %s", out)
		}
	})
}

func TestRequireRoleWithoutPrincipal(t *testing.T) {
	t.Parallel()
	h := auth.RequireRole(auth.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="airbranch"` {
		t.Fatalf("status %d, challenge %q; want 401 with a bare Bearer challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", got)
	}
}
