package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/stats"
	"github.com/airbranch/airbranch/routing"
)

// newRoutingEnv starts the API over a memory store seeded as newEnv does,
// with a real routing runtime (not running its loop: the test evaluates)
// routing every conversation to the private_bank team.
func newRoutingEnv(t *testing.T) (*env, *router.Router) {
	t.Helper()
	store := state.NewMemory()
	e := &env{t: t, store: &faultyStore{Store: store}, logs: &syncBuffer{}}
	e.convs = seed(t, store)
	dir := testDirectory(t)
	teams, _ := dir.Teams(context.Background())
	rms, _ := dir.RMs(context.Background())
	cfg := routing.DefaultConfig()
	cfg.IntentLicences = map[string][]string{} // no RM here holds a licence
	cfg.Policies = []routing.PolicyConfig{{ID: "all", When: "true", Steps: []routing.StepConfig{{Target: "team:private_bank"}}}}
	pol, err := routing.Compile(cfg, teams, rms)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	rt, err := router.New(router.Options{Store: store, Directory: dir, Customers: dir, Policies: pol, Now: clock, Instance: "api-test"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{
		Store: store, Directory: dir, Resolver: identity.NewResolver(dir, store, "HK"), Verifier: v,
		Routing: rt, Transfers: rt, Messages: outbox.New(store, testSenders, nil, clock), Now: clock,
		Stats:  &stats.Source{Store: store, Directory: dir, Policies: pol},
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.Close()
		for _, p := range clearPhones {
			if strings.Contains(e.logs.String(), p) {
				t.Errorf("the log shows phone number %q in clear", p)
			}
		}
	})
	return e, rt
}

// TestTransferToTeamAPI: POST .../transfer with to "team" validates its
// input, answers 404 for an unknown team without changing anything, and
// queues the conversation for the team; routing then offers it to that
// team's RMs only, every filter applying, and its decision record says so.
func TestTransferToTeamAPI(t *testing.T) {
	t.Parallel()
	e, rt := newRoutingEnv(t)
	a := e.convs["A"] // voice, cus-0001 (Cantonese), active, assigned rm-pb-01
	path := "/api/v1/conversations/" + string(a.ID) + "/transfer"
	bad := []struct {
		name, body string
		caller     auth.Principal
		status     int
		code, msg  string
	}{
		{"unknown target", `{"to":"desk"}`, rmPB1, http.StatusBadRequest, "bad_request", "allowed: queue, rm, team"},
		{"team without team_id", `{"to":"team"}`, rmPB1, http.StatusBadRequest, "bad_request", `team_id is required with to \"team\"`},
		{"team_id with another target", `{"to":"queue","team_id":"wealth"}`, rmPB1, http.StatusBadRequest, "bad_request", `team_id is allowed only with to \"team\"`},
		{"unknown field", `{"to":"team","team":"wealth"}`, rmPB1, http.StatusBadRequest, "bad_request", "team"},
		{"unknown team", `{"to":"team","team_id":"no_such_team"}`, rmPB1, http.StatusNotFound, "not_found", "no_such_team"},
		{"not the assignee", `{"to":"team","team_id":"wealth"}`, rmPB2, http.StatusForbidden, "forbidden", "assignee"},
	}
	for _, tt := range bad {
		res := e.do(request{method: http.MethodPost, path: path, caller: as(tt.caller), body: tt.body})
		if res.status != tt.status || res.errorCode() != tt.code || !strings.Contains(string(res.body), tt.msg) {
			t.Errorf("%s: %d %s, want %d %s mentioning %q", tt.name, res.status, res.body, tt.status, tt.code, tt.msg)
		}
	}
	if c, _ := e.store.Conversation(context.Background(), a.ID); c.Version != a.Version || c.Status != conversation.StatusActive {
		t.Fatalf("refused transfers changed the conversation: %+v", c)
	}

	res := e.do(request{method: http.MethodPost, path: path, caller: as(rmPB1), body: `{"to":"team","team_id":"wealth","reason":"portfolio review"}`})
	if res.status != http.StatusOK {
		t.Fatalf("transfer: %d %s", res.status, res.body)
	}
	var got conversation.Conversation
	res.decode(t, &got)
	if got.Status != conversation.StatusQueued || got.TransferTeam != "wealth" || got.TransferredBy != "rm-pb-01" || got.TeamID != "wealth" || got.AssigneeID != "" {
		t.Fatalf("after transfer: %s", res.body)
	}
	// rm-wa-01 is the only adviser and does not speak Cantonese: the
	// private-bank RMs the policy names are not candidates.
	ctx := context.Background()
	for _, id := range []conversation.RMID{"rm-wa-01", "rm-pb-02"} {
		if _, err := rt.SetPresence(ctx, id, conversation.PresenceAvailable, "", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	var recs struct {
		Items []struct {
			Outcome  string `json:"outcome"`
			Sentence string `json:"sentence"`
		} `json:"items"`
	}
	res = e.do(request{method: http.MethodGet, path: "/api/v1/conversations/" + string(a.ID) + "/decisions", caller: as(supWA)})
	if res.status != http.StatusOK {
		t.Fatalf("decisions: %d %s", res.status, res.body)
	}
	res.decode(t, &recs)
	want := "transferred to team wealth by rm-pb-01; waiting: no eligible RM among 1 candidate (1 without the language); policy all takes over in 2m0s"
	if len(recs.Items) == 0 || recs.Items[0].Outcome != "wait" || recs.Items[0].Sentence != want {
		t.Fatalf("decisions %s\nwant the newest to say %q", res.body, want)
	}
}
