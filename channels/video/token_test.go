package video_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/video"
)

func TestTokens(t *testing.T) {
	if _, err := video.NewTokens([]byte("short"), 0); !errors.Is(err, video.ErrConfig) {
		t.Fatalf("short secret: %v", err)
	}
	tokens, _ := video.NewTokens(secret, 5*time.Second)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	g := video.Grant{Room: "room-1", Role: video.RoleClient, Identity: "cus-1", Name: "Mrs Chan"}
	tok, exp, err := tokens.Issue(g, 10*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tok  string
		at   time.Time
		want error
	}{
		{"valid", tok, now.Add(time.Minute), nil},
		{"within leeway", tok, exp.Add(4 * time.Second), nil},
		{"expired", tok, exp.Add(6 * time.Second), video.ErrExpiredToken},
		{"tampered", tok[:len(tok)-2] + "xx", now, video.ErrInvalidToken},
		{"empty", "", now, video.ErrInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tokens.Verify(tc.tok, tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if err == nil && (got.Room != g.Room || got.Role != g.Role || got.Identity != g.Identity || got.Name != g.Name || !got.ExpiresAt.Equal(exp)) {
				t.Fatalf("grant %+v", got)
			}
		})
	}
	if _, _, err := tokens.Issue(video.Grant{Room: "r", Role: "boss", Identity: "x"}, time.Minute, now); err == nil {
		t.Fatal("issued a token with an unknown role")
	}
}

// TestInvitation: an invitation is exchanged once for a working token.
func TestInvitation(t *testing.T) {
	e := newEnv(t, video.Config{})
	inv := video.NewMemoryInvitations()
	code := video.NewInvitationCode()
	if err := inv.Put(context.Background(), video.Invitation{Code: code, Grant: video.Grant{Room: "room-1", Role: video.RoleSpecialist, Identity: "pm-01"},
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	expired := video.NewInvitationCode()
	_ = inv.Put(context.Background(), video.Invitation{Code: expired, Grant: video.Grant{Room: "room-1", Role: video.RoleClient, Identity: "c"}, ExpiresAt: time.Now().Add(-time.Second)})
	mux := http.NewServeMux()
	mux.Handle(video.InvitationRoute, video.InvitationHandler(inv, e.tokens, time.Hour, nil, nil))
	tests := []struct {
		name   string
		method string
		code   string
		status int
	}{
		{"exchange", http.MethodPost, code, http.StatusOK},
		{"used", http.MethodPost, code, http.StatusNotFound},
		{"expired", http.MethodPost, expired, http.StatusNotFound},
		{"unknown", http.MethodPost, "nope", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			req, _ := http.NewRequest(tc.method, "/video/invitations/"+tc.code, nil)
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status != http.StatusOK {
				return
			}
			var a video.TokenAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			g, err := e.tokens.Verify(a.Token, time.Now())
			if err != nil || g.Room != "room-1" || g.Role != video.RoleSpecialist || g.Identity != "pm-01" {
				t.Fatalf("token grant %+v, %v", g, err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (video.Config{}).Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	err := video.Config{MaxParticipants: 1, PingInterval: time.Millisecond, MaxFrameBytes: 10, SendQueue: -1, MaxChatBytes: -1}.Defaults().Validate()
	for _, f := range []string{"max_participants", "ping_interval", "max_frame_bytes", "send_queue", "max_chat_bytes"} {
		if err == nil || !errors.Is(err, video.ErrConfig) || !contains(err.Error(), f+":") {
			t.Errorf("no problem named %s in %v", f, err)
		}
	}
}
