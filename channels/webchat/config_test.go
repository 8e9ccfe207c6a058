package webchat

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestConfigProblems: Problems applies the defaults (a zero Config lacks
// only a key) and names the field of every problem, all at once.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	if got := (Config{}).Problems(); len(got) != 1 || got[0].Field != "token" {
		t.Fatalf("zero config: %v, want only the missing key", got)
	}
	if got := (Config{Token: TokenConfig{Secret: testSecret}}).Problems(); got != nil {
		t.Fatalf("minimal config: %v", got)
	}
	bad := Config{
		Account:           "x",
		Token:             TokenConfig{Secret: []byte("short"), PublicKeyFile: "a.pem", JWKSFile: "b.json", Subject: "email", DefaultVerification: "gold", MaxLifetime: time.Second},
		Anonymous:         AnonymousConfig{Enabled: true, Secret: []byte("short")},
		Attachments:       AttachmentConfig{MaxBytes: MaxAttachmentBytes + 1, Types: []string{"image/png", "text/html; charset=utf-8"}, PerMessage: 21},
		MaxFrameBytes:     100,
		MessagesPerSecond: 2000,
		PingInterval:      time.Millisecond,
		AllowedOrigins:    []string{"*", "https://ebank.example.com", "ebank.example.com", "https://ebank.example.com/chat"},
	}
	var fields []string
	for _, p := range bad.Problems() {
		fields = append(fields, p.Field)
	}
	want := []string{"token.secret", "token.public_key_file", "token.subject", "token.default_verification", "token.max_lifetime",
		"anonymous.secret", "attachments.max_bytes", "attachments.types[1]", "attachments.per_message", "max_frame_bytes",
		"max_text_bytes", "messages_per_second", "frames_per_second", "ping_interval", "allowed_origins[2]", "allowed_origins[3]"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields\n%v\nwant\n%v", fields, want)
	}
	err := bad.withDefaults().Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("validate: %v", err)
	}
	if _, err := New(bad, Deps{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("new: %v", err)
	}
	if _, err := New(Config{Token: TokenConfig{Secret: testSecret}}, Deps{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("new without deps: %v", err)
	}
}
