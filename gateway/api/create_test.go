package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

func TestCreateConversation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		caller       auth.Principal
		body         string
		wantCustomer string // "" for a new prospect
		wantSegment  conversation.Segment
		wantTeam     conversation.TeamID
		wantAddr     conversation.Address
		check        func(t *testing.T, c conversation.Conversation)
	}{
		{
			name:         "rm calls back an own customer",
			caller:       rmPB1,
			body:         `{"customer_id":"cus-0001","channel":"voice","priority":5,"skills":[{"skill":"wealth","min_level":3}],"intent":"mortgage","tags":["callback"]}`,
			wantCustomer: "cus-0001", wantSegment: conversation.SegmentPrivate, wantTeam: "private_bank",
			wantAddr: conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"},
			check: func(t *testing.T, c conversation.Conversation) {
				if c.Priority != 5 || len(c.Skills) != 1 || c.Skills[0].MinLevel != 3 || c.Intent != "mortgage" || c.Language != "yue" || len(c.Tags) != 1 {
					t.Fatalf("hints not kept: %+v", c)
				}
			},
		},
		{
			name:        "rm of the mass team texts a new number",
			caller:      rmMass,
			body:        `{"address":{"kind":"phone","value":"+852 5550 1234"},"channel":"sms","language":"en"}`,
			wantSegment: conversation.SegmentMass, wantTeam: "mass",
			wantAddr: conversation.Address{Kind: conversation.AddressPhone, Value: "+85255501234"},
			check: func(t *testing.T, c conversation.Conversation) {
				if c.Language != "en" || c.Priority != 0 {
					t.Fatalf("conversation %+v", c)
				}
			},
		},
		{
			name:         "admin reaches a customer by a SIP caller ID",
			caller:       admin,
			body:         `{"address":{"kind":"sip_uri","value":"sip:+85291234567@trunk.example.com;user=phone"},"channel":"voice"}`,
			wantCustomer: "cus-0001", wantSegment: conversation.SegmentPrivate, wantTeam: "",
			wantAddr: conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"},
		},
		{
			name:         "admin opens a video session on the app address",
			caller:       admin,
			body:         `{"customer_id":"cus-0004","channel":"video"}`,
			wantCustomer: "cus-0004", wantSegment: conversation.SegmentSmallBusiness,
			wantAddr: conversation.Address{Kind: conversation.AddressApp, Value: "app-0004"},
		},
		{
			name:         "rm of the deputy RM's team",
			caller:       rmMass,
			body:         `{"customer_id":"cus-0003","channel":"sms"}`,
			wantCustomer: "cus-0003", wantSegment: conversation.SegmentAffluent, wantTeam: "mass",
			wantAddr: conversation.Address{Kind: conversation.AddressPhone, Value: "+85251234567"},
		},
		{
			name:         "rm of the customer's segment",
			caller:       rmMass,
			body:         `{"customer_id":"cus-0002","channel":"wechat"}`,
			wantCustomer: "cus-0002", wantSegment: conversation.SegmentMass, wantTeam: "mass",
			wantAddr: conversation.Address{Kind: conversation.AddressWeChat, Value: "oJlus55nABCDEF0002"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := e.do(request{method: "POST", path: "/api/v1/conversations", caller: as(tc.caller), body: tc.body, contentType: "application/json; charset=utf-8"})
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var c conversation.Conversation
			r.decode(t, &c)
			if loc := r.header.Get("Location"); loc != "/api/v1/conversations/"+string(c.ID) {
				t.Fatalf("Location %q for %s", loc, c.ID)
			}
			if c.Status != conversation.StatusNew || c.Segment != tc.wantSegment || c.TeamID != tc.wantTeam || c.Address != tc.wantAddr ||
				c.Version != 1 || !c.CreatedAt.Equal(now) || c.AssigneeID != "" {
				t.Fatalf("created %+v", c)
			}
			if tc.wantCustomer != "" && string(c.CustomerID) != tc.wantCustomer {
				t.Fatalf("customer %s, want %s", c.CustomerID, tc.wantCustomer)
			}
			if tc.check != nil {
				tc.check(t, c)
			}

			// The caller can read it back, with its creation event.
			r = e.do(request{method: "GET", path: r.header.Get("Location"), caller: as(tc.caller)})
			if r.status != http.StatusOK {
				t.Fatalf("GET Location: status %d: %s", r.status, r.body)
			}
			var detail struct {
				conversation.Conversation
				Events []conversation.Event `json:"events"`
			}
			r.decode(t, &detail)
			if len(detail.Events) != 1 || detail.Events[0].Type != conversation.EventStatusChanged ||
				detail.Events[0].ToStatus != conversation.StatusNew || detail.Events[0].Actor != tc.caller.Subject {
				t.Fatalf("events %+v", detail.Events)
			}
			// And the customer.
			r = e.do(request{method: "GET", path: "/api/v1/customers/" + string(c.CustomerID), caller: as(tc.caller)})
			if r.status != http.StatusOK {
				t.Fatalf("GET customer: status %d: %s", r.status, r.body)
			}
			if tc.wantCustomer == "" {
				var cust conversation.Customer
				r.decode(t, &cust)
				if !cust.Prospect || cust.Segment != conversation.SegmentMass || cust.Verification != conversation.VerificationNone || !cust.HasAddress(tc.wantAddr) {
					t.Fatalf("prospect %s", r.body)
				}
			}
		})
	}
}

func TestCreateConversationOneProspectPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var ids []conversation.CustomerID
	for _, written := range []string{"+852 5550 1234", "55501234", "tel:+852-5550-1234"} {
		r := e.do(request{method: "POST", path: "/api/v1/conversations", caller: as(rmMass),
			body: `{"address":{"kind":"phone","value":"` + written + `"},"channel":"voice"}`})
		if r.status != http.StatusCreated {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		var c conversation.Conversation
		r.decode(t, &c)
		ids = append(ids, c.CustomerID)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] || !strings.HasPrefix(string(ids[0]), "prospect-") {
		t.Fatalf("customers %v, want one prospect", ids)
	}
}

func TestCreateConversationRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		caller     *auth.Principal
		body       string
		wantStatus int
		wantMsg    string
	}{
		{"no token", nil, `{"customer_id":"cus-0001","channel":"voice"}`, 401, "bearer token"},
		{"supervisor may not open", as(supAll), `{"customer_id":"cus-0001","channel":"voice"}`, 403, "allowed: [rm admin]"},
		{"rm: customer of another team", as(rmPB1), `{"customer_id":"cus-0002","channel":"sms"}`, 403, "may not open"},
		{"rm: address of another team's customer", as(rmPB1), `{"address":{"kind":"phone","value":"61234567"},"channel":"sms"}`, 403, "may not open"},
		// rm-wa-01 of the specialist pool may read cus-0004, whose
		// conversation D is assigned to them, but a conversation they open
		// would be held by the pool, whose every RM could then read it.
		{"rm: customer with a conversation assigned to them", as(rmWA), `{"customer_id":"cus-0004","channel":"webchat"}`, 403, "may not open"},
		{"rm: address of a customer with a conversation assigned to them", as(rmWA), `{"address":{"kind":"app_user","value":"app-0004"},"channel":"webchat"}`, 403, "may not open"},
		{"rm: customer of a conversation they are specialist on", as(rmWA), `{"customer_id":"cus-0001","channel":"voice"}`, 403, "may not open"},
		{"rm: customer whose conversation their team holds", as(rmMass), `{"customer_id":"cus-0004","channel":"webchat"}`, 403, "may not open"},
		{"unknown customer", as(admin), `{"customer_id":"cus-9999","channel":"voice"}`, 404, "cus-9999"},
		{"customer without an address for the channel", as(admin), `{"customer_id":"cus-0002","channel":"webchat"}`, 400, "no address for channel webchat (needs one of: app_user)"},
		{"address kind not for the channel", as(admin), `{"address":{"kind":"wechat_openid","value":"oJlus55nABCDEF0009"},"channel":"sms"}`, 400, "kind wechat_openid cannot be used on channel sms (allowed: phone)"},
		{"invalid phone", as(admin), `{"address":{"kind":"phone","value":"+852 5550 12"},"channel":"sms"}`, 400, "not the length"},
		{"unknown address kind", as(admin), `{"address":{"kind":"email","value":"a@example.com"},"channel":"sms"}`, 400, "phone, wechat_openid, app_user, sip_uri"},
		{"both customer and address", as(admin), `{"customer_id":"cus-0001","address":{"kind":"phone","value":"91234567"},"channel":"voice"}`, 400, "not both"},
		{"neither customer nor address", as(admin), `{"channel":"voice"}`, 400, "customer_id"},
		{"no channel", as(admin), `{"customer_id":"cus-0001"}`, 400, "channel"},
		{"unknown channel", as(admin), `{"customer_id":"cus-0001","channel":"fax"}`, 400, "voice, video, sms, wechat, webchat"},
		{"priority too high", as(admin), `{"customer_id":"cus-0001","channel":"voice","priority":101}`, 400, "0 to 100"},
		{"skill level", as(admin), `{"customer_id":"cus-0001","channel":"voice","skills":[{"skill":"fx","min_level":9}]}`, 400, "1 to 5"},
		{"skill name", as(admin), `{"customer_id":"cus-0001","channel":"voice","skills":[{"skill":"FX Options","min_level":2}]}`, 400, "skills[0].skill"},
		{"language", as(admin), `{"customer_id":"cus-0001","channel":"voice","language":"English!"}`, 400, "BCP 47"},
		{"duplicate tag", as(admin), `{"customer_id":"cus-0001","channel":"voice","tags":["a","a"]}`, 400, "given twice"},
		{"every problem at once", as(admin), `{"channel":"fax","priority":-1}`, 400, "priority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			r := e.do(request{method: "POST", path: "/api/v1/conversations", caller: tc.caller, body: tc.body})
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if !strings.Contains(string(r.body), tc.wantMsg) {
				t.Fatalf("body %s does not say %q", r.body, tc.wantMsg)
			}
			for _, p := range clearPhones {
				if strings.Contains(string(r.body), p) && !strings.Contains(tc.body, p) {
					t.Fatalf("body %s shows a phone number the caller did not send", r.body)
				}
			}
			// Nothing was created.
			page, err := e.store.ListConversations(context.Background(), stateFilterAll())
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != len(e.convs) {
				t.Fatalf("a refused request stored a conversation: %d conversations", len(page.Items))
			}
		})
	}
}

func TestCreateConversationRefusedCreatesNoProspect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// A new number becomes a mass prospect, which an RM of the private
	// bank team may not see: refused before the prospect is stored.
	r := e.do(request{method: "POST", path: "/api/v1/conversations", caller: as(rmPB1),
		body: `{"address":{"kind":"phone","value":"5550 7777"},"channel":"voice"}`})
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	_, err := e.store.CustomerByAddress(context.Background(), conversation.Address{Kind: conversation.AddressPhone, Value: "+85255507777"})
	if !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("a refused request stored a prospect (lookup: %v)", err)
	}
}
