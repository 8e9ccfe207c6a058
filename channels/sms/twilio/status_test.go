package twilio

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

const statusPath = inboundPath + "/status"

func statusBody(sid, status, code string) string {
	f := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {testSID}, "From": {testAcct}, "To": {testNumber}, "ApiVersion": {"2010-04-01"}}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return f.Encode()
}

// TestStatusOutOfOrder sends callbacks in the order they may arrive and
// checks the status only ever moves forward.
func TestStatusOutOfOrder(t *testing.T) {
	tests := []struct {
		name      string
		callbacks []string
		want      conversation.DeliveryStatus
		wantCode  string
	}{
		{"in order", []string{"queued", "sent", "delivered"}, conversation.DeliveryDelivered, ""},
		{"delivered before sent", []string{"delivered", "sent", "queued"}, conversation.DeliveryDelivered, ""},
		{"read after delivered", []string{"sent", "read", "delivered"}, conversation.DeliveryRead, ""},
		{"undelivered keeps its code", []string{"sending", "undelivered:30003", "sent"}, conversation.DeliveryFailed, "30003"},
		{"failed after delivered is ignored", []string{"delivered", "failed:30008"}, conversation.DeliveryDelivered, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			const sid = "SM0b6e2697aae04182a9f5b5c7a8994c7f"
			e.sink.Track(testAcct, sid)
			for _, cb := range tt.callbacks {
				status, code := cb, ""
				if i := len(cb) - 6; i > 0 && cb[i] == ':' {
					status, code = cb[:i], cb[i+1:]
				}
				if rec := e.post(t, statusPath, statusBody(sid, status, code), ""); rec.Code != 204 {
					t.Fatalf("%s: status %d (%s)", cb, rec.Code, rec.Body.String())
				}
			}
			got, code := e.sink.StatusOf(sid)
			if got != tt.want || code != tt.wantCode {
				t.Fatalf("status %s %q, want %s %q", got, code, tt.want, tt.wantCode)
			}
		})
	}
}

func TestStatusCallback(t *testing.T) {
	const sid = "SM0b6e2697aae04182a9f5b5c7a8994c7f"
	tests := []struct {
		name       string
		body       string
		sig        string
		sinkErr    error
		track      bool
		wantStatus int
		wantCalls  int
	}{
		{name: "captured-shape undelivered", body: readFile(t, "status-undelivered.form"), track: true, wantStatus: 204, wantCalls: 1},
		{name: "unknown message", body: statusBody("SMunknown", "delivered", ""), wantStatus: 204},
		{name: "inbound status ignored", body: statusBody(sid, "received", ""), track: true, wantStatus: 204},
		{name: "unknown status", body: statusBody(sid, "exploded", ""), track: true, wantStatus: 400},
		{name: "missing sid", body: url.Values{"MessageStatus": {"sent"}}.Encode(), wantStatus: 400},
		{name: "forged", body: statusBody(sid, "delivered", ""), sig: "bm90IGEgc2lnbmF0dXJl", track: true, wantStatus: 403},
		{name: "unsigned", body: statusBody(sid, "delivered", ""), sig: "-", track: true, wantStatus: 403},
		{name: "sink unavailable", body: statusBody(sid, "delivered", ""), track: true,
			sinkErr: fmt.Errorf("down: %w", conversation.ErrUnavailable), wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.track {
				e.sink.Track(testAcct, sid)
			}
			e.sink.SetErrors(nil, tt.sinkErr)
			rec := e.post(t, statusPath, tt.body, tt.sig)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if n := e.sink.StatusCalls(); n != tt.wantCalls {
				t.Fatalf("%d status updates applied, want %d", n, tt.wantCalls)
			}
		})
	}
	// The undelivered callback carried ErrorCode 30003.
	e := newEnv(t)
	e.sink.Track(testAcct, sid)
	e.post(t, statusPath, readFile(t, "status-undelivered.form"), "")
	if st, code := e.sink.StatusOf(sid); st != conversation.DeliveryFailed || code != "30003" {
		t.Fatalf("after undelivered: %s %q", st, code)
	}
}
