package api_test

import (
	"net/http"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

func TestGetCustomerAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		customer string
		caller   auth.Principal
		why      string
		want     int
	}{
		{"cus-0001", rmPB1, "own RM", 200},
		{"cus-0001", rmPB2, "own RM in the team", 200},
		{"cus-0001", rmMass, "other team and segment", 403},
		{"cus-0001", rmWA, "specialist on a conversation, none assigned", 403},
		{"cus-0002", rmMass, "segment of the team", 200},
		{"cus-0002", rmPB1, "other segment", 403},
		{"cus-0003", rmMass, "deputy RM in the team", 200},
		{"cus-0003", rmPB1, "other team and segment", 403},
		{"cus-0004", rmWA, "conversation assigned", 200},
		{"cus-0004", rmMass, "conversation in the team, not assigned", 403},
		{"cus-0004", rmPB1, "nothing", 403},
		{"cus-0001", supPB, "supervisor: own RM in the team", 200},
		{"cus-0002", supPB, "supervisor: other segment, conversations of another team", 403},
		{"cus-0002", supMS, "supervisor: segment of the team", 200},
		{"cus-0003", supMS, "supervisor: deputy RM in the team", 200},
		{"cus-0003", supPB, "supervisor: other team and segment", 403},
		{"cus-0004", supMS, "supervisor: conversation of the team", 200},
		{"cus-0004", supPB, "supervisor: nothing", 403},
		{"cus-0004", supWA, "supervisor: conversation assigned to an RM of the team, held by another", 403},
		{"cus-0001", supWA, "supervisor: team's RM a specialist on a conversation", 403},
		{"cus-0002", supAll, "supervisor without team", 200},
		{"cus-0004", supAll, "supervisor without team", 200},
		{"cus-0001", admin, "admin", 200},
	}
	for _, tc := range tests {
		t.Run(tc.customer+" "+tc.caller.Subject+" "+tc.why, func(t *testing.T) {
			t.Parallel()
			r := e.do(request{method: "GET", path: "/api/v1/customers/" + tc.customer, caller: as(tc.caller)})
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if tc.want != 200 {
				return
			}
			var c conversation.Customer
			r.decode(t, &c)
			if string(c.ID) != tc.customer || len(c.Addresses) == 0 {
				t.Fatalf("customer %s", r.body)
			}
		})
	}
}

func TestGetCustomerNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, caller := range []auth.Principal{admin, rmPB1} {
		r := e.do(request{method: "GET", path: "/api/v1/customers/cus-9999", caller: as(caller)})
		if r.status != http.StatusNotFound || r.errorCode() != "not_found" {
			t.Fatalf("%s: status %d %s", caller.Subject, r.status, r.body)
		}
	}
	if r := e.do(request{method: "GET", path: "/api/v1/customers/cus-0001"}); r.status != http.StatusUnauthorized {
		t.Fatalf("no token: status %d", r.status)
	}
}
