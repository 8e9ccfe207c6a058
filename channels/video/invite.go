package video

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Invitation is a single-use invitation to a room: whoever presents Code
// before ExpiresAt gets a join token for Grant (its ExpiresAt is set when
// exchanged).
type Invitation struct {
	Code      string    `json:"code"`
	Grant     Grant     `json:"grant"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Invitations keep invitations until they are used or expire.
//
// A Redis implementation would store each under "video:invite:{code}"
// as JSON with PEXPIREAT at ExpiresAt, and Take with GETDEL (Redis 6.2),
// atomic across instances, so a code is exchanged once.
type Invitations interface {
	// Put stores inv (its Code must be new).
	Put(ctx context.Context, inv Invitation) error
	// Take removes and returns the invitation with code, if it exists and
	// has not expired at now; ErrInvitationNotFound otherwise (used,
	// expired or never made).
	Take(ctx context.Context, code string, now time.Time) (Invitation, error)
}

// NewInvitationCode returns a fresh code: 128 random bits, base64url
// without padding (22 characters), fit for a URL path.
func NewInvitationCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// MemoryInvitations keeps invitations in memory (one instance). Expired
// ones are dropped when taken or when Put runs.
type MemoryInvitations struct {
	mu  sync.Mutex
	inv map[string]Invitation
}

var _ Invitations = (*MemoryInvitations)(nil)

// NewMemoryInvitations returns an empty store.
func NewMemoryInvitations() *MemoryInvitations {
	return &MemoryInvitations{inv: map[string]Invitation{}}
}

// Put implements Invitations.
func (m *MemoryInvitations) Put(_ context.Context, inv Invitation) error {
	if inv.Code == "" {
		return errors.New("video: an invitation needs a code")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.inv[inv.Code]; ok {
		return errors.New("video: invitation code in use")
	}
	now := time.Now()
	for c, i := range m.inv {
		if !now.Before(i.ExpiresAt) {
			delete(m.inv, c)
		}
	}
	m.inv[inv.Code] = inv
	return nil
}

// Take implements Invitations.
func (m *MemoryInvitations) Take(_ context.Context, code string, now time.Time) (Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.inv[code]
	if !ok {
		return Invitation{}, ErrInvitationNotFound
	}
	delete(m.inv, code)
	if !now.Before(inv.ExpiresAt) {
		return Invitation{}, ErrInvitationNotFound
	}
	return inv, nil
}

// TokenAnswer is the answer of an invitation exchange.
type TokenAnswer struct {
	Token     string    `json:"token"`
	Room      RoomID    `json:"room"`
	Role      Role      `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

// InvitationHandler exchanges an invitation for a join token: POST
// InvitationRoute ("POST /video/invitations/{code}") answers 200 with a TokenAnswer (the token valid
// for ttl), 404 when the code is unknown, used or expired, 405 for
// another method, 503 when the store fails.
func InvitationHandler(inv Invitations, tokens *Tokens, ttl time.Duration, log *slog.Logger, now func() time.Time) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		code := r.PathValue("code")
		t := now()
		i, err := inv.Take(r.Context(), code, t)
		switch {
		case errors.Is(err, ErrInvitationNotFound):
			http.Error(w, "no such invitation (used, expired or unknown)", http.StatusNotFound)
			return
		case err != nil:
			log.Warn("invitation not read", "error", err)
			http.Error(w, "retry later", http.StatusServiceUnavailable)
			return
		}
		tok, exp, err := tokens.Issue(i.Grant, ttl, t)
		if err != nil {
			log.Error("join token not issued", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		log.Info("invitation exchanged", "room_id", i.Grant.Room, "role", i.Grant.Role, "identity", i.Grant.Identity)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(TokenAnswer{Token: tok, Room: i.Grant.Room, Role: i.Grant.Role, ExpiresAt: exp})
	})
}
