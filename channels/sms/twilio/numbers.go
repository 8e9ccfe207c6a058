package twilio

import (
	"sync"

	"github.com/airbranch/airbranch/channels/identity"
)

// numberMemoSize bounds the remembered From numbers; the memo is emptied
// when it is full.
const numberMemoSize = 4096

// numberMemo remembers the E.164 form of the From numbers already seen:
// checking a number against the numbering plan (identity.NormalisePhone)
// costs more than the rest of a webhook's parsing, and a client's
// messages come from one number. Only numbers that normalise are kept.
type numberMemo struct {
	region string
	mu     sync.Mutex
	e164   map[string]string
}

func newNumberMemo(region string) *numberMemo {
	return &numberMemo{region: region, e164: make(map[string]string)}
}

// normalise returns raw as E.164 (identity.NormalisePhone with the
// provider's default region), and its error for a number that is not one.
func (m *numberMemo) normalise(raw string) (string, error) {
	m.mu.Lock()
	e, ok := m.e164[raw]
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := identity.NormalisePhone(raw, m.region)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	if len(m.e164) >= numberMemoSize {
		clear(m.e164)
	}
	m.e164[raw] = e
	m.mu.Unlock()
	return e, nil
}
