package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

func stateFilterAll() state.ConversationFilter {
	return state.ConversationFilter{Limit: state.MaxListLimit}
}

func TestBadBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	big := `{"customer_id":"cus-0001","channel":"voice","tags":["` + strings.Repeat("x", 4096) + `"]}`
	padded := `{"customer_id":"cus-0001","channel":"voice"}` + strings.Repeat(" ", 4096)
	tests := []struct {
		name        string
		body        string
		contentType string
		wantStatus  int
		wantCode    string
		wantMsg     string
	}{
		{"no content type", `{"customer_id":"cus-0001","channel":"voice"}`, "-", 415, "unsupported_media_type", "application/json"},
		{"text/plain", `{"customer_id":"cus-0001","channel":"voice"}`, "text/plain", 415, "unsupported_media_type", "text/plain"},
		{"form", `customer_id=cus-0001`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", "application/json"},
		{"latin-1 charset", `{"customer_id":"cus-0001","channel":"voice"}`, "application/json; charset=iso-8859-1", 415, "unsupported_media_type", "UTF-8"},
		{"empty body", "", "application/json", 400, "bad_request", "empty body"},
		{"truncated", `{"channel":`, "", 400, "bad_request", "ends inside"},
		{"syntax error", `{"channel" "sms"}`, "", 400, "bad_request", "malformed JSON at byte 12"},
		{"unknown field", `{"customer_id":"cus-0001","channel":"voice","colour":"red"}`, "", 400, "bad_request", `unknown field \"colour\" (allowed: customer_id, address, address.kind, address.value, channel, priority, skills, skills.skill, skills.min_level, intent, language, tags)`},
		{"unknown nested field", `{"address":{"kind":"phone","value":"91234567","note":1},"channel":"voice"}`, "", 400, "bad_request", `unknown field \"note\"`},
		{"wrong type", `{"customer_id":"cus-0001","channel":"voice","priority":"high"}`, "", 400, "bad_request", `field \"priority\" at byte`},
		{"wrong nested type", `{"customer_id":"cus-0001","channel":"voice","skills":[{"skill":"fx","min_level":"2"}]}`, "", 400, "bad_request", `field \"skills.min_level\"`},
		{"array", `[]`, "", 400, "bad_request", "expected an object, got array"},
		{"two objects", `{"customer_id":"cus-0001","channel":"voice"} {}`, "", 400, "bad_request", "more than one JSON value"},
		{"trailing garbage", `{"customer_id":"cus-0001","channel":"voice"} ]`, "", 400, "bad_request", "after the JSON object"},
		{"too large", big, "", 413, "payload_too_large", "2048 bytes"},
		{"too large after a valid object", padded, "", 413, "payload_too_large", "2048 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := request{method: "POST", path: "/api/v1/conversations", caller: as(admin), body: tc.body, contentType: tc.contentType}
			if tc.body == "" {
				req.header = map[string]string{"Content-Type": "application/json"}
			}
			r := e.do(req)
			if r.status != tc.wantStatus || r.errorCode() != tc.wantCode {
				t.Fatalf("status %d code %q, want %d %q: %s", r.status, r.errorCode(), tc.wantStatus, tc.wantCode, r.body)
			}
			if !strings.Contains(string(r.body), tc.wantMsg) {
				t.Fatalf("body %s does not say %s", r.body, tc.wantMsg)
			}
		})
	}
}

func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	down := func(context.Context) error { return errors.New("redis: dial tcp 127.0.0.1:6379: connection refused") }
	unavailable := func(ctx context.Context) error { return errors.Join(state.ErrUnavailable, down(ctx)) }
	e := newEnv(t, func(s *faultyStore) {
		s.conversation = func(ctx context.Context, _ conversation.ConversationID) (conversation.Conversation, error) {
			return conversation.Conversation{}, unavailable(ctx)
		}
		s.listConversations = func(ctx context.Context, _ state.ConversationFilter) (state.ConversationPage, error) {
			return state.ConversationPage{}, unavailable(ctx)
		}
		s.createConversation = func(ctx context.Context, _ conversation.Conversation) (conversation.Conversation, error) {
			return conversation.Conversation{}, unavailable(ctx)
		}
		s.customer = func(ctx context.Context, _ conversation.CustomerID) (conversation.Customer, error) {
			return conversation.Customer{}, unavailable(ctx)
		}
		s.customerByAddress = func(ctx context.Context, _ conversation.Address) (conversation.Customer, error) {
			return conversation.Customer{}, unavailable(ctx)
		}
	})
	tests := []struct {
		name string
		req  request
	}{
		{"get conversation", request{method: "GET", path: "/api/v1/conversations/" + string(e.convs["A"].ID), caller: as(admin)}},
		{"list conversations", request{method: "GET", path: "/api/v1/conversations", caller: as(admin)}},
		{"customer access needs the store", request{method: "GET", path: "/api/v1/customers/cus-0004", caller: as(rmPB1)}},
		{"prospect lookup", request{method: "GET", path: "/api/v1/customers/prospect-1", caller: as(admin)}},
		{"create for a directory customer", request{method: "POST", path: "/api/v1/conversations", caller: as(admin), body: `{"customer_id":"cus-0001","channel":"voice"}`}},
		{"create for an address", request{method: "POST", path: "/api/v1/conversations", caller: as(admin), body: `{"address":{"kind":"phone","value":"55501234"},"channel":"voice"}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(tc.req)
			if r.status != http.StatusServiceUnavailable || r.errorCode() != "unavailable" || r.header.Get("Retry-After") != "5" {
				t.Fatalf("status %d code %q Retry-After %q: %s", r.status, r.errorCode(), r.header.Get("Retry-After"), r.body)
			}
			if strings.Contains(string(r.body), "6379") {
				t.Fatalf("the body shows internals: %s", r.body)
			}
		})
	}
}

func TestInternalErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *faultyStore) {
		s.conversation = func(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
			if id == "boom" {
				return conversation.Conversation{}, errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")
			}
			return s.Store.Conversation(ctx, id)
		}
		s.events = func(context.Context, conversation.ConversationID) ([]conversation.Event, error) {
			var m map[string]int
			m["nil map"]++ // a bug: panics
			return nil, nil
		}
	})
	tests := []struct {
		name    string
		path    string
		wantLog string
	}{
		{"unexpected store error", "/api/v1/conversations/boom", "WRONGTYPE"},
		{"panic in a handler", "/api/v1/conversations/" + string(e.convs["A"].ID), "panic in API handler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(request{method: "GET", path: tc.path, caller: as(admin), header: map[string]string{"X-Request-ID": "req-" + strings.ReplaceAll(tc.name, " ", "-")}})
			if r.status != http.StatusInternalServerError || r.errorCode() != "internal" {
				t.Fatalf("status %d code %q: %s", r.status, r.errorCode(), r.body)
			}
			id := r.header.Get("X-Request-ID")
			if id != "req-"+strings.ReplaceAll(tc.name, " ", "-") || !strings.Contains(string(r.body), id) {
				t.Fatalf("request id %q not echoed in %s", id, r.body)
			}
			if strings.Contains(string(r.body), "WRONGTYPE") || strings.Contains(string(r.body), "nil map") {
				t.Fatalf("the body shows the detail: %s", r.body)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, tc.wantLog) || !strings.Contains(logs, `"request_id":"`+id+`"`) {
				t.Fatalf("the log lacks %q with request id %s:\n%s", tc.wantLog, id, logs)
			}
		})
	}
}

func TestCreationEventFailureKeepsConversation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *faultyStore) {
		s.appendEvent = func(context.Context, conversation.Event) error {
			return errors.Join(state.ErrUnavailable, errors.New("timeline write timed out"))
		}
	})
	r := e.do(request{method: "POST", path: "/api/v1/conversations", caller: as(admin), body: `{"customer_id":"cus-0001","channel":"voice"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !strings.Contains(e.logs.String(), "creation event not stored") {
		t.Fatalf("the lost event is not logged:\n%s", e.logs.String())
	}
}

func TestRoutingFallbacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name      string
		method    string
		path      string
		want      int
		wantAllow string
	}{
		{"unknown path", "GET", "/api/v1/nope", 404, ""},
		{"unknown version", "GET", "/api/v2/conversations", 404, ""},
		{"delete conversations", "DELETE", "/api/v1/conversations", 405, "GET, HEAD, POST"},
		{"put customer", "PUT", "/api/v1/customers/cus-0001", 405, "GET, HEAD"},
		{"post openapi", "POST", "/api/v1/openapi.yaml", 405, "GET, HEAD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(request{method: tc.method, path: tc.path, caller: as(admin)})
			if r.status != tc.want || r.header.Get("Allow") != tc.wantAllow {
				t.Fatalf("status %d Allow %q, want %d %q: %s", r.status, r.header.Get("Allow"), tc.want, tc.wantAllow, r.body)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.do(request{method: "GET", path: "/api/v1/customers/cus-0001", caller: as(admin), header: map[string]string{"X-Request-ID": "abc-123"}})
	if got := r.header.Get("X-Request-ID"); got != "abc-123" {
		t.Fatalf("X-Request-ID %q, want the caller's", got)
	}
	r = e.do(request{method: "GET", path: "/api/v1/customers/cus-0001", caller: as(admin), header: map[string]string{"X-Request-ID": "bad id\twith spaces"}})
	if got := r.header.Get("X-Request-ID"); len(got) != 36 {
		t.Fatalf("X-Request-ID %q, want a fresh UUID for an insane one", got)
	}
}
