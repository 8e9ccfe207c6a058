package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

type page struct {
	Items      []conversation.Conversation `json:"items"`
	NextCursor *string                     `json:"next_cursor"`
}

// names maps the items of a page back to the seed names A-F.
func (e *env) names(items []conversation.Conversation) string {
	var out []string
	for _, c := range items {
		name := "?"
		for n, s := range e.convs {
			if s.ID == c.ID {
				name = n
			}
		}
		out = append(out, name)
	}
	return strings.Join(out, "")
}

func TestListConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		caller auth.Principal
		query  string
		want   string // seed names, newest first
	}{
		{"admin sees all", admin, "", "FEDCBA"},
		{"supervisor without team sees all", supAll, "", "FEDCBA"},
		{"supervisor without team filters a team", supAll, "team=mass", "FDB"},
		{"supervisor with team sees the team", supPB, "", "CA"},
		{"supervisor with team asks for it", supPB, "team=private_bank", "CA"},
		{"rm sees the team", rmPB1, "", "CA"},
		{"rm asks for the team", rmPB1, "team=private_bank", "CA"},
		{"rm filters a colleague in the team", rmPB1, "assignee=rm-pb-02", "C"},
		{"rm asks for own assignments across teams", rmWA, "assignee=rm-wa-01", "D"},
		{"rm asks for own assignments in another team", rmWA, "assignee=rm-wa-01&team=mass", "D"},
		{"rm of a team without conversations", rmWA, "", ""},
		{"status", admin, "status=queued", "B"},
		{"channel", admin, "channel=video", "C"},
		{"customer", admin, "customer=cus-0001", "CA"},
		{"assignee", admin, "assignee=rm-pb-01", "A"},
		{"status and team", admin, "status=active&team=private_bank", "CA"},
		{"nothing matches", admin, "status=wrap_up", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(request{method: "GET", path: "/api/v1/conversations?" + tc.query, caller: as(tc.caller)})
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var p page
			r.decode(t, &p)
			if p.Items == nil || p.NextCursor == nil {
				t.Fatalf("body %s lacks items or next_cursor", r.body)
			}
			if got := e.names(p.Items); got != tc.want {
				t.Fatalf("items %s, want %s", got, tc.want)
			}
			if *p.NextCursor != "" {
				t.Fatalf("next_cursor %q on a single page", *p.NextCursor)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
}

func TestListConversationsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		caller auth.Principal
		query  string
		pages  []string
	}{
		{"admin by two", admin, "limit=2", []string{"FE", "DC", "BA"}},
		{"admin by four", admin, "limit=4", []string{"FEDC", "BA"}},
		{"admin by one, filtered", admin, "limit=1&customer=cus-0002", []string{"F", "B"}},
		{"rm by one", rmPB1, "limit=1", []string{"C", "A"}},
		{"max limit", admin, "limit=500", []string{"FEDCBA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			cursor := ""
			for range 10 {
				q := tc.query
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				r := e.do(request{method: "GET", path: "/api/v1/conversations?" + q, caller: as(tc.caller)})
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				var p page
				r.decode(t, &p)
				got = append(got, e.names(p.Items))
				if *p.NextCursor == "" {
					break
				}
				cursor = *p.NextCursor
			}
			if !slices.Equal(got, tc.pages) {
				t.Fatalf("pages %v, want %v", got, tc.pages)
			}
		})
	}
}

func TestListConversationsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name       string
		caller     *auth.Principal
		query      string
		wantStatus int
		wantMsg    []string
	}{
		{"no token", nil, "", 401, []string{"bearer token"}},
		{"rm asks for another team", as(rmPB1), "team=mass", 403, []string{"team mass"}},
		{"rm asks for another team and a colleague", as(rmPB1), "team=mass&assignee=rm-mass-01", 403, []string{"team mass"}},
		{"supervisor asks for another team", as(supPB), "team=mass", 403, []string{"team mass"}},
		{"unknown status", as(admin), "status=bogus", 400, []string{`"status"`, `"bogus"`, "new, queued, offered, active, wrap_up, closed, abandoned"}},
		{"empty status", as(admin), "status=", 400, []string{`"status"`, "allowed"}},
		{"unknown channel", as(admin), "channel=fax", 400, []string{`"channel"`, "voice, video, sms, wechat, webchat"}},
		{"unknown team", as(admin), "team=nope", 400, []string{`"team"`, "mass, private_bank, wealth"}},
		{"unknown assignee", as(admin), "assignee=rm-nobody", 400, []string{`"assignee"`, "RM id"}},
		{"limit zero", as(admin), "limit=0", 400, []string{`"limit"`, "1 to 500"}},
		{"limit too large", as(admin), "limit=501", 400, []string{`"limit"`, "1 to 500"}},
		{"limit not a number", as(admin), "limit=ten", 400, []string{`"limit"`, "integer"}},
		{"empty customer", as(admin), "customer=", 400, []string{`"customer"`}},
		{"unknown parameter", as(admin), "state=queued", 400, []string{`"state"`, "status, channel, team, customer, assignee, limit, cursor"}},
		{"repeated parameter", as(admin), "status=new&status=queued", 400, []string{`"status"`, "2 times"}},
		{"two problems at once", as(admin), "status=x&channel=y", 400, []string{`"status"`, `"channel"`}},
		{"cursor not an id", as(admin), "cursor=garbage", 400, []string{`"cursor"`, "36 lowercase hex digits and dashes"}},
		{"cursor zero", as(admin), "cursor=0", 400, []string{`"cursor"`, "conversation id"}},
		{"empty cursor", as(admin), "cursor=", 400, []string{`"cursor"`}},
		{"cursor in upper case", as(admin), "cursor=0195F2A0-1C2D-7E3F-8A4B-5C6D7E8F9A0B", 400, []string{`"cursor"`}},
		{"cursor in braces", as(admin), "cursor=%7B0195f2a0-1c2d-7e3f-8a4b-5c6d7e8f9a0b%7D", 400, []string{`"cursor"`}},
		{"cursor without dashes", as(admin), "cursor=0195f2a01c2d7e3f8a4b5c6d7e8f9a0b", 400, []string{`"cursor"`}},
		{"cursor with a dash misplaced", as(admin), "cursor=0195f2a-01c2d-7e3f-8a4b-5c6d7e8f9a0b", 400, []string{`"cursor"`}},
		{"cursor with a letter beyond f", as(admin), "cursor=0195f2a0-1c2d-7e3f-8a4b-5c6d7e8f9a0g", 400, []string{`"cursor"`}},
		{"cursor of an rm", as(rmPB1), "cursor=garbage", 400, []string{`"cursor"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(request{method: "GET", path: "/api/v1/conversations?" + tc.query, caller: tc.caller})
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(string(r.body), strings.ReplaceAll(m, `"`, `\"`)) {
					t.Fatalf("body %s does not say %s", r.body, m)
				}
			}
		})
	}
}

func TestGetConversationAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		conv   string
		caller auth.Principal
		who    string
		want   int
	}{
		{"A", rmPB1, "rm: own team and assigned", 200},
		{"A", rmPB2, "rm: own team", 200},
		{"A", rmMass, "rm: other team", 403},
		{"A", rmWA, "rm: other team", 403},
		{"A", supPB, "supervisor: own team", 200},
		{"A", supAll, "supervisor without team", 200},
		{"A", admin, "admin", 200},
		{"B", rmPB1, "rm: other team", 403},
		{"B", rmMass, "rm: own team", 200},
		{"B", supPB, "supervisor: other team", 403},
		{"C", rmWA, "rm: specialist participant", 200},
		{"C", rmMass, "rm: other team", 403},
		{"D", rmWA, "rm: assigned, other team", 200},
		{"D", rmMass, "rm: own team", 200},
		{"D", rmPB1, "rm: other team", 403},
		{"E", rmPB1, "rm: no team on it", 403},
		{"E", supPB, "supervisor: no team on it", 403},
		{"E", supAll, "supervisor without team", 200},
		{"E", admin, "admin", 200},
		{"F", rmPB2, "rm: took part and left", 200},
		{"F", rmPB1, "rm: other team", 403},
	}
	for _, tc := range tests {
		t.Run(tc.conv+" "+tc.who+" "+tc.caller.Subject, func(t *testing.T) {
			t.Parallel()
			c := e.convs[tc.conv]
			r := e.do(request{method: "GET", path: "/api/v1/conversations/" + string(c.ID), caller: as(tc.caller)})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if tc.want == 403 && r.errorCode() != "forbidden" {
				t.Fatalf("code %q, want forbidden", r.errorCode())
			}
			if tc.want != 200 {
				return
			}
			var got struct {
				conversation.Conversation
				Messages []conversation.Message `json:"messages"`
				Events   []conversation.Event   `json:"events"`
			}
			r.decode(t, &got)
			if got.ID != c.ID || got.CustomerID != c.CustomerID || got.Status != c.Status || got.Messages == nil || len(got.Events) != 1 {
				t.Fatalf("detail %s", r.body)
			}
		})
	}
}

func TestGetConversation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.convs["B"]
	r := e.do(request{method: "GET", path: "/api/v1/conversations/" + string(b.ID), caller: as(rmMass)})
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got struct {
		conversation.Conversation
		Messages []conversation.Message `json:"messages"`
		Events   []conversation.Event   `json:"events"`
	}
	r.decode(t, &got)
	if got.ID != b.ID || got.Channel != conversation.ChannelSMS || got.TeamID != "mass" || got.Version != 1 {
		t.Fatalf("conversation %+v", got.Conversation)
	}
	if len(got.Messages) != 1 || got.Messages[0].Text != "balance please" || got.Messages[0].ProviderID != "SM0001" {
		t.Fatalf("messages %+v", got.Messages)
	}
	if len(got.Events) != 1 || got.Events[0].Type != conversation.EventStatusChanged {
		t.Fatalf("events %+v", got.Events)
	}

	for _, id := range []string{"0195f2a0-0000-7000-8000-000000000000", "no-such-conversation", strings.Repeat("x", 200)} {
		r := e.do(request{method: "GET", path: "/api/v1/conversations/" + id, caller: as(admin)})
		if r.status != http.StatusNotFound || r.errorCode() != "not_found" {
			t.Fatalf("GET unknown %s: status %d %s", id[:10], r.status, r.body)
		}
	}
	if r := e.do(request{method: "GET", path: "/api/v1/conversations/" + string(b.ID)}); r.status != 401 {
		t.Fatalf("no token: status %d", r.status)
	}
}
