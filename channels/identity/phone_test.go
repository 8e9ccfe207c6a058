package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
)

func TestNormalisePhone(t *testing.T) {
	t.Parallel()
	valid := []struct {
		name, raw, region, want string
	}{
		{"international with spaces", "+852 5550 1234", "HK", "+85255501234"},
		{"national in default region", "55501234", "HK", "+85255501234"},
		{"region in lower case", "5550 1234", "hk", "+85255501234"},
		{"allocated mobile", "+85291234567", "", "+85291234567"},
		{"separators", "(+852) 5550-1234", "HK", "+85255501234"},
		{"other country keeps its code", "+1 415 555 2671", "HK", "+14155552671"},
		{"surrounding space", "  +44 20 7946 0958 ", "HK", "+442079460958"},
		{"tel URI global", "tel:+852-5550-1234", "", "+85255501234"},
		{"tel URI upper-case scheme", "TEL:+85255501234", "", "+85255501234"},
		{"tel URI local with phone-context", "tel:5550-1234;phone-context=+852", "", "+85255501234"},
		{"sip URI user part", "sip:+85255501234@trunk.example.com;user=phone", "", "+85255501234"},
		{"sip URI in angle brackets", "<sip:+85255501234@10.0.0.1:5060>", "", "+85255501234"},
		{"sips URI percent-encoded plus", "sips:%2B85255501234@trunk.example.com", "", "+85255501234"},
		{"sip URI national user part", "sip:55501234@pbx.example.com", "HK", "+85255501234"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := identity.NormalisePhone(tc.raw, tc.region)
			if err != nil {
				t.Fatalf("NormalisePhone(%q, %q): %v", tc.raw, tc.region, err)
			}
			if got != tc.want {
				t.Fatalf("NormalisePhone(%q, %q) = %q, want %q", tc.raw, tc.region, got, tc.want)
			}
		})
	}

	invalid := []struct {
		name, raw, region, wantMsg string
	}{
		{"empty", "   ", "HK", "empty"},
		{"letters", "1-800-FLOWERS", "US", "only digits"},
		{"too short", "+852 1234", "HK", "too short"},
		{"digit missing", "+852 5550 123", "HK", "not the length"},
		{"too long", "+852 5550 1234 5678 9012", "HK", "+852"},
		{"unknown country code", "+999 5550 1234", "HK", "country code"},
		{"national without region", "55501234", "", "no country code and no default region"},
		{"unknown region", "55501234", "XX", "ISO 3166-1"},
		{"tel URI local without context", "tel:5550-1234", "HK", "phone-context"},
		{"tel URI extension", "tel:+85255501234;ext=12", "", "extensions"},
		{"sip URI without user", "sip:pbx.example.com", "HK", "without a user part"},
		{"sip URI with a name", "sip:alice@example.com", "HK", "only digits"},
		{"not a number", "abc", "HK", "only digits"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := identity.NormalisePhone(tc.raw, tc.region)
			if err == nil {
				t.Fatalf("NormalisePhone(%q, %q) = %q, want an error", tc.raw, tc.region, got)
			}
			if !errors.Is(err, conversation.ErrInvalid) || !errors.Is(err, identity.ErrInvalidPhone) {
				t.Fatalf("error %v does not wrap conversation.ErrInvalid and identity.ErrInvalidPhone", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "55501234") || strings.Contains(err.Error(), "5550 1234") {
				t.Fatalf("error %q shows the number in clear", err)
			}
		})
	}
}
