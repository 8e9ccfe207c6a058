package twilio

import (
	"errors"
	"fmt"
	"testing"

	"github.com/airbranch/airbranch/channels/identity"
)

// The memo answers as identity.NormalisePhone does, remembers only
// numbers that normalise, and stays within its bound.
func TestNumberMemo(t *testing.T) {
	t.Parallel()
	m := newNumberMemo("HK")
	for _, raw := range []string{"+85291234567", "9123 4567", "+85291234567", "+8529123456", "not a number", "+44 20 7946 0958"} {
		want, wantErr := identity.NormalisePhone(raw, "HK")
		for range 2 { // the second answer comes from the memo when the first normalised
			got, err := m.normalise(raw)
			if got != want || (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, identity.ErrInvalidPhone)) {
				t.Errorf("normalise(%q) = %q, %v; want %q, %v", raw, got, err, want, wantErr)
			}
		}
		if _, kept := m.e164[raw]; kept != (wantErr == nil) {
			t.Errorf("%q kept: %v", raw, kept)
		}
	}
	for i := range numberMemoSize + 10 {
		if _, err := m.normalise(fmt.Sprintf("+8529%07d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.e164) > numberMemoSize {
		t.Fatalf("the memo holds %d numbers, more than %d", len(m.e164), numberMemoSize)
	}
}
