package smpp

import (
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

// Up is closed while a bind is up, and a lost bind gives a new, open one
// that closes on the next bind.
func TestUpFollowsTheBind(t *testing.T) {
	t.Parallel()
	smsc := newSMSC(t)
	h := start(t, smsc)
	h.waitBound(t)
	select {
	case <-h.p.Up():
	default:
		t.Fatal("Up is open while bound")
	}
	smsc.RefuseBinds(data.ESME_RBINDFAIL)
	smsc.DropConnections()
	deadline := time.Now().Add(10 * time.Second)
	for h.p.Bound() {
		if time.Now().After(deadline) {
			t.Fatal("still bound after the drop")
		}
		time.Sleep(5 * time.Millisecond)
	}
	up := h.p.Up()
	select {
	case <-up:
		t.Fatal("Up is closed while unbound")
	case <-time.After(100 * time.Millisecond):
	}
	smsc.RefuseBinds(data.ESME_ROK)
	select {
	case <-up:
	case <-time.After(10 * time.Second):
		t.Fatal("Up did not close on the rebind")
	}
	if !h.p.Bound() {
		t.Fatal("Up closed but not bound")
	}
}
