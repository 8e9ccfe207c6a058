package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/gateway/auth"
)

func TestUnauthenticatedBeforeRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name, method, path string
		authorization      string
	}{
		{"method no route serves", "DELETE", "/api/v1/conversations", ""},
		{"unknown path", "GET", "/api/v1/nosuch", ""},
		{"unknown version", "GET", "/api/v2/conversations", ""},
		{"put on a customer", "PUT", "/api/v1/customers/cus-0001", ""},
		{"post on the OpenAPI document", "POST", "/api/v1/openapi.yaml", ""},
		{"delete on the OpenAPI document", "DELETE", "/api/v1/openapi.yaml", ""},
		{"route that exists", "GET", "/api/v1/conversations", ""},
		{"bad token on an unknown path", "GET", "/api/v1/nosuch", "Bearer not.a.jwt"},
		{"bad token on a method no route serves", "PATCH", "/api/v1/conversations", "Bearer not.a.jwt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := request{method: tc.method, path: tc.path}
			if tc.authorization != "" {
				req.header = map[string]string{"Authorization": tc.authorization}
			}
			r := e.do(req)
			if r.status != http.StatusUnauthorized || r.errorCode() != "unauthorized" {
				t.Fatalf("status %d code %q, want 401 before routing: %s", r.status, r.errorCode(), r.body)
			}
			if r.header.Get("Allow") != "" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="airbranch"`) {
				t.Fatalf("Allow %q, WWW-Authenticate %q", r.header.Get("Allow"), r.header.Get("WWW-Authenticate"))
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control %q, want no-store", got)
			}
		})
	}
	// The OpenAPI document needs no token, even a bad one does not matter.
	for _, req := range []request{
		{method: "GET", path: "/api/v1/openapi.yaml"},
		{method: "HEAD", path: "/api/v1/openapi.yaml"},
		{method: "GET", path: "/api/v1/openapi.yaml", header: map[string]string{"Authorization": "Bearer not.a.jwt"}},
	} {
		if r := e.do(req); r.status != http.StatusOK {
			t.Fatalf("%s %s: status %d: %s", req.method, req.path, r.status, r.body)
		}
	}
}

func TestTokenCheckedAgainstDirectory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// rm-pb-01 moved to private_bank; a token from when they were in mass
	// must not open mass's conversations or customers.
	stale := auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "mass"}
	tests := []struct {
		name    string
		caller  auth.Principal
		path    string
		want    int
		wantMsg string
	}{
		{"rm with the directory's team", rmPB1, "/api/v1/conversations", 200, ""},
		{"rm whose team claim is stale: list", stale, "/api/v1/conversations", 403, `team claim \"mass\" is not the team of rm rm-pb-01 in the directory (private_bank); ask for a new token`},
		{"rm whose team claim is stale: customer of the old team", stale, "/api/v1/customers/cus-0002", 403, `team claim \"mass\"`},
		{"rm whose team claim is stale: conversation of the old team", stale, "/api/v1/conversations/" + string(e.convs["B"].ID), 403, `team claim \"mass\"`},
		{"rm not in the directory", auth.Principal{Subject: "rm-gone", Role: auth.RoleRM, Team: "mass"}, "/api/v1/conversations", 403, `subject \"rm-gone\" is not an RM in the directory`},
		{"supervisor of an unknown team", auth.Principal{Subject: "sup-x", Role: auth.RoleSupervisor, Team: "nope"}, "/api/v1/conversations", 403, `team claim \"nope\" is not a team in the directory`},
		{"supervisor of an unknown team on an unknown path", auth.Principal{Subject: "sup-x", Role: auth.RoleSupervisor, Team: "nope"}, "/api/v1/nosuch", 403, `team claim \"nope\"`},
		{"supervisor of a team", supPB, "/api/v1/conversations", 200, ""},
		{"supervisor without team", supAll, "/api/v1/conversations", 200, ""},
		{"admin with any team claim", auth.Principal{Subject: "ops-2", Role: auth.RoleAdmin, Team: "nope"}, "/api/v1/conversations", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(request{method: "GET", path: tc.path, caller: as(tc.caller)})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if tc.want == 200 {
				return
			}
			if r.errorCode() != "forbidden" || !strings.Contains(string(r.body), tc.wantMsg) {
				t.Fatalf("body %s does not say %s", r.body, tc.wantMsg)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control %q, want no-store", got)
			}
		})
	}
}
