package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

// TestListSpecialists: GET /api/v1/specialists lists, for an RM, the
// specialist pools' RMs and their own team's other RMs with their presence
// (offline without one), never the caller nor other segment teams' RMs;
// other roles are refused and a request without a token is 401.
func TestListSpecialists(t *testing.T) {
	t.Parallel()
	e, rt := newRoutingEnv(t)
	if _, err := rt.SetPresence(context.Background(), "rm-wa-01", conversation.PresenceAvailable, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.SetPresence(context.Background(), "rm-mass-02", conversation.PresenceAway, "lunch", time.Hour); err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID        string         `json:"id"`
		TeamID    string         `json:"team_id"`
		TeamName  string         `json:"team_name"`
		Pool      string         `json:"pool"`
		Languages []string       `json:"languages"`
		Skills    map[string]int `json:"skills"`
		State     string         `json:"state"`
	}
	tests := []struct {
		name   string
		caller auth.Principal
		want   []string // id/pool/state
	}{
		{"private-bank RM", rmPB1, []string{"rm-wa-01/specialist/available", "rm-pb-02/team/offline"}},
		{"mass RM", rmMass, []string{"rm-wa-01/specialist/available", "rm-mass-02/team/away"}},
		{"a specialist sees the pool but themselves", rmWA, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(request{method: "GET", path: "/api/v1/specialists", caller: as(tc.caller)})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var body struct {
				Items []row `json:"items"`
			}
			r.decode(t, &body)
			if body.Items == nil {
				t.Fatalf("items is not a list: %s", r.body)
			}
			got := []string{}
			for _, it := range body.Items {
				got = append(got, it.ID+"/"+it.Pool+"/"+it.State)
				if it.TeamID == "" || it.TeamName == "" || it.Languages == nil {
					t.Errorf("row %+v lacks its team or languages", it)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("listed %v, want %v", got, tc.want)
			}
		})
	}

	for _, caller := range []auth.Principal{supPB, supAll, admin} {
		r := e.do(request{method: "GET", path: "/api/v1/specialists", caller: as(caller)})
		if r.status != http.StatusForbidden || r.errorCode() != "forbidden" {
			t.Errorf("%s: status %d %s, want 403", caller.Subject, r.status, r.body)
		}
	}
	if r := e.do(request{method: "GET", path: "/api/v1/specialists"}); r.status != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", r.status)
	}
	if r := e.do(request{method: "POST", path: "/api/v1/specialists", caller: as(rmPB1)}); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", r.status)
	}
}
