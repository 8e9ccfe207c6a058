package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/outbox"
)

// senderFunc is an outbox.Sender made of a function.
type senderFunc func(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error)

func (f senderFunc) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	return f(ctx, m, to)
}

// testSenders: web chat takes every message; WeChat refuses with 45015
// (the 48-hour service window closed); SMS has no adapter.
var testSenders = map[conversation.Channel]outbox.Sender{
	conversation.ChannelWebChat: senderFunc(func(_ context.Context, m conversation.Message, _ conversation.Address) (conversation.Sent, error) {
		return conversation.Sent{ProviderIDs: []string{"frame-" + string(m.ID)}, Status: conversation.DeliveryDelivered}, nil
	}),
	conversation.ChannelWeChat: senderFunc(func(context.Context, conversation.Message, conversation.Address) (conversation.Sent, error) {
		return conversation.Sent{}, &conversation.ProviderError{Channel: conversation.ChannelWeChat, Code: "45015", Message: "response out of time limit"}
	}),
}

func TestSendMessageAPI(t *testing.T) {
	t.Parallel()
	e, _ := newRoutingEnv(t)
	path := func(name string) string { return "/api/v1/conversations/" + string(e.convs[name].ID) + "/messages" }

	// D: web chat, active, assigned rm-wa-01.
	res := e.do(request{method: http.MethodPost, path: path("D"), caller: as(rmWA), body: `{"text":"Good morning, how can I help?"}`})
	if res.status != http.StatusCreated || !strings.Contains(string(res.body), `"status":"delivered"`) {
		t.Fatalf("send on web chat: %d %s", res.status, res.body)
	}
	msgs, _ := e.store.Messages(context.Background(), e.convs["D"].ID, 0)
	if len(msgs) != 1 || msgs[0].Direction != conversation.Outbound || msgs[0].Sender != "rm-wa-01" {
		t.Fatalf("stored %+v", msgs)
	}

	// F (WeChat) gets assignee rm-pb-02, B (SMS) rm-mass-01.
	for name, rm := range map[string]conversation.RMID{"F": "rm-pb-02", "B": "rm-mass-01"} {
		if _, err := e.store.UpdateConversation(context.Background(), e.convs[name].ID, func(c *conversation.Conversation) error {
			c.AssigneeID = rm
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	res = e.do(request{method: http.MethodPost, path: path("F"), caller: as(rmPB2), body: `{"text":"Are you still there?"}`})
	if res.status != http.StatusBadGateway || !strings.Contains(string(res.body), `"error_code":"45015"`) || res.errorCode() != "not_sent" {
		t.Fatalf("send refused by WeChat: %d %s, want 502 not_sent with the failed message", res.status, res.body)
	}

	refused := []struct {
		name   string
		conv   string
		caller auth.Principal
		body   string
		status int
		code   string
	}{
		{"not the assignee", "D", rmPB1, `{"text":"hi"}`, http.StatusForbidden, "forbidden"},
		{"a supervisor", "D", supWA, `{"text":"hi"}`, http.StatusForbidden, "forbidden"},
		{"empty text", "D", rmWA, `{"text":"  "}`, http.StatusBadRequest, "bad_request"},
		{"unknown field", "D", rmWA, `{"txt":"hi"}`, http.StatusBadRequest, "bad_request"},
		{"video carries no messages", "C", rmWA, `{"text":"hi"}`, http.StatusConflict, "not_messaging"},
		{"no SMS adapter", "B", rmMass, `{"text":"hi"}`, http.StatusServiceUnavailable, "unavailable"},
	}
	for _, tc := range refused {
		res := e.do(request{method: http.MethodPost, path: path(tc.conv), caller: as(tc.caller), body: tc.body})
		if res.status != tc.status || res.errorCode() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, res.status, res.body, tc.status, tc.code)
		}
	}
}

func TestSMSSegmentsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cases := []struct {
		text, want string
	}{
		{"Your appointment is confirmed for 3pm.", `"encoding":"GSM-7","units":38,"segments":1,"per_segment":160,"remaining":122`},
		{strings.Repeat("a", 161), `"encoding":"GSM-7","units":161,"segments":2`},
		{"您的預約已確認", `"encoding":"UCS-2","units":7,"segments":1,"per_segment":70`},
		{"Price: 100€", `"units":12`}, // € is an extension character: two septets
	}
	for _, tc := range cases {
		body, _ := json.Marshal(map[string]string{"text": tc.text})
		res := e.do(request{method: http.MethodPost, path: "/api/v1/sms/segments", caller: as(rmPB1), body: string(body)})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), tc.want) {
			t.Errorf("%q: %d %s, want %s", tc.text, res.status, res.body, tc.want)
		}
	}
	if res := e.do(request{method: http.MethodPost, path: "/api/v1/sms/segments", body: `{"text":"hi"}`}); res.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", res.status)
	}
}
