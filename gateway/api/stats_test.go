package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/gateway/auth"
)

func TestStatsAPIAccess(t *testing.T) {
	t.Parallel()
	e, _ := newRoutingEnv(t)
	cases := []struct {
		name   string
		path   string
		caller auth.Principal
		status int
		want   string
	}{
		{"board for a team supervisor", "/api/v1/stats", supPB, http.StatusOK, `"key":"private_bank"`},
		{"board for an admin", "/api/v1/stats", admin, http.StatusOK, `"key":"mass"`},
		{"board for an RM", "/api/v1/stats", rmPB1, http.StatusForbidden, "forbidden"},
		{"bad since", "/api/v1/stats?since=yesterday", supAll, http.StatusBadRequest, "RFC 3339"},
		{"since in the future", "/api/v1/stats?since=2099-01-01T00:00:00Z", supAll, http.StatusBadRequest, "31 days"},
		{"own scorecard", "/api/v1/stats/rms/rm-pb-01", rmPB1, http.StatusOK, `"rm_id":"rm-pb-01"`},
		{"another RM's scorecard", "/api/v1/stats/rms/rm-pb-02", rmPB1, http.StatusForbidden, "forbidden"},
		{"team supervisor, own team", "/api/v1/stats/rms/rm-pb-02", supPB, http.StatusOK, `"team_id":"private_bank"`},
		{"team supervisor, other team", "/api/v1/stats/rms/rm-pb-02", supMS, http.StatusForbidden, "forbidden"},
		{"unknown RM", "/api/v1/stats/rms/rm-nobody", admin, http.StatusNotFound, "not_found"},
	}
	for _, tc := range cases {
		res := e.do(request{method: http.MethodGet, path: tc.path, caller: as(tc.caller)})
		if res.status != tc.status || !strings.Contains(string(res.body), tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, res.status, res.body, tc.status, tc.want)
		}
	}
	// A supervisor with a team sees only that team.
	var board struct {
		Teams []struct {
			Key string `json:"key"`
		} `json:"teams"`
	}
	e.do(request{method: http.MethodGet, path: "/api/v1/stats", caller: as(supPB)}).decode(t, &board)
	if len(board.Teams) != 1 || board.Teams[0].Key != "private_bank" {
		t.Fatalf("a private-bank supervisor's board shows teams %+v, want private_bank only", board.Teams)
	}
}

func TestStatsStream(t *testing.T) {
	t.Parallel()
	e, _ := newRoutingEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/stats/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, supPB))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	buf := make([]byte, 64<<10)
	n, err := res.Body.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	first := string(buf[:n])
	if !strings.HasPrefix(first, "event: board\ndata: {") || !strings.Contains(first, `"key":"private_bank"`) {
		t.Fatalf("first event %q", first)
	}
	if res := e.do(request{method: http.MethodGet, path: "/api/v1/stats/stream", caller: as(rmPB1)}); res.status != http.StatusForbidden {
		t.Fatalf("an RM opened the wallboard stream: %d", res.status)
	}
}
