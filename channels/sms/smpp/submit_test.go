package smpp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
)

func TestBindAndSubmit(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	binds := h.smsc.Binds()
	if len(binds) != 1 || binds[0].Type != data.BIND_TRANSCEIVER || binds[0].SystemID != testSystemID || binds[0].Status != data.ESME_ROK {
		t.Fatalf("binds %+v", binds)
	}
	text := "Your card ending 4321 is ready. Reply STOP to opt out {ref: 12}"
	sent, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	subs := h.smsc.Submits()
	if len(subs) != 1 || len(sent.ProviderIDs) != 1 || sent.ProviderIDs[0] != subs[0].ID || sent.Status != conversation.DeliverySent {
		t.Fatalf("sent %+v, submits %+v", sent, subs)
	}
	s := subs[0]
	want, _ := sms.Encode(text, sms.GSM7)
	if s.SourceAddr != "85230001234" || s.SourceTON != 1 || s.SourceNPI != 1 || s.DestAddr != "85291234567" || s.DestTON != 1 ||
		s.DataCoding != 0 || s.EsmClass != 0 || s.UDH != nil || s.RegisteredDelivery != 1 || !bytes.Equal(s.Payload, want) {
		t.Fatalf("submit_sm %+v", s)
	}
}

// TestLongMessages checks the split of long texts into concatenated
// parts: UCS-2 as soon as one Chinese character is there, 67 units per
// part, one 8-bit reference shared by the parts, one submit_sm per part.
func TestLongMessages(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	tests := []struct {
		name  string
		text  string
		dc    byte
		parts int
	}{
		{"Chinese, three UCS-2 parts", strings.Repeat("您好，您的定期存款將於下月到期，請致電客戶經理安排續存。", 5), 8, 3},
		{"GSM-7 with one Chinese character", strings.Repeat("a", 80) + "好", 8, 2},
		{"GSM-7, two parts", strings.Repeat("Statement ready. ", 10), 0, 2},
		{"GSM-7 with extension characters", strings.Repeat("€", 81), 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.smsc.Submits())
			sent, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			subs := h.smsc.Submits()[before:]
			if len(subs) != tt.parts || len(sent.ProviderIDs) != tt.parts {
				t.Fatalf("%d submit_sm, %d ids; want %d", len(subs), len(sent.ProviderIDs), tt.parts)
			}
			byPart := make([]smsctest.Submit, tt.parts)
			for _, s := range subs {
				if s.DataCoding != tt.dc || s.EsmClass&0x40 == 0 || len(s.UDH) != 6 || !bytes.Equal(s.UDH[:3], []byte{5, 0, 3}) ||
					int(s.ConcatTotal) != tt.parts || s.ConcatRef != subs[0].ConcatRef {
					t.Fatalf("part %+v", s)
				}
				byPart[s.ConcatSeq-1] = s
			}
			var joined []byte
			for i, s := range byPart {
				joined = append(joined, s.Payload...)
				if sent.ProviderIDs[i] != s.ID {
					t.Fatalf("ids %v not in part order (part %d is %s)", sent.ProviderIDs, i+1, s.ID)
				}
				limit := 67 * 2
				if tt.dc == 0 {
					limit = 153
				}
				if len(s.Payload) > limit {
					t.Fatalf("part %d has %d octets", i+1, len(s.Payload))
				}
			}
			enc := sms.GSM7
			if tt.dc == 8 {
				enc = sms.UCS2
			}
			got, err := sms.Decode(joined, enc)
			if err != nil || got != tt.text {
				t.Fatalf("parts decode to %q, %v", got, err)
			}
		})
	}
}

func TestSendRefusals(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	c := ctx(t)
	tests := []struct {
		name      string
		status    data.CommandStatusType
		msg       sms.Outbound
		wantIs    []error
		wantCode  string
		wantRetry bool
	}{
		{name: "throttled", status: data.ESME_RTHROTTLED, msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x"},
			wantIs: []error{conversation.ErrUnavailable}, wantCode: "0x00000058", wantRetry: true},
		{name: "invalid destination", status: data.ESME_RINVDSTADR, msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x"},
			wantCode: "0x0000000B"},
		{name: "other account", msg: sms.Outbound{Account: "+85238888888", To: testNumber, Text: "x"},
			wantIs: []error{ErrUnknownAccount, conversation.ErrInvalid}},
		{name: "attachment", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: "x",
			Attachments: []conversation.Attachment{{Type: "image/png", Ref: "https://x/y.png"}}}, wantIs: []error{sms.ErrInvalidMessage}},
		{name: "too many parts", msg: sms.Outbound{Account: testAcct, To: testNumber, Text: strings.Repeat("好", 67*10+1)},
			wantIs: []error{sms.ErrTooLong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.smsc.SetSubmitStatus(tt.status)
			defer h.smsc.SetSubmitStatus(data.ESME_ROK)
			before := len(h.smsc.Submits())
			_, err := h.p.Send(c, tt.msg)
			if err == nil {
				t.Fatal("no error")
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("%v does not wrap %v", err, target)
				}
			}
			if tt.wantCode == "" {
				if n := len(h.smsc.Submits()) - before; n != 0 {
					t.Fatalf("%d submit_sm sent for a refused message", n)
				}
				return
			}
			var perr *conversation.ProviderError
			if !errors.As(err, &perr) || perr.Code != tt.wantCode || perr.Retryable != tt.wantRetry {
				t.Fatalf("provider error %+v from %v", perr, err)
			}
			if !tt.wantRetry && errors.Is(err, conversation.ErrUnavailable) {
				t.Fatalf("a permanent refusal says unavailable: %v", err)
			}
		})
	}
}

// TestWindow holds the SMSC's answers back and checks that no more
// submit_sm than the window wait for an answer at once.
func TestWindow(t *testing.T) {
	h := start(t, nil, func(c *Config) { c.Window = 3 })
	h.waitBound(t)
	h.smsc.HoldSubmits()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: fmt.Sprintf("message %d", i)})
			errs <- err
		}()
	}
	if err := h.smsc.Wait(ctx(t), func(s smsctest.State) bool { return s.Held == 3 }); err != nil {
		t.Fatal(err)
	}
	// The other three wait for a slot; give them the chance to break the
	// window before releasing.
	time.Sleep(100 * time.Millisecond)
	if n := len(h.smsc.Submits()); n != 3 {
		t.Fatalf("%d submit_sm outstanding with a window of 3", n)
	}
	h.smsc.Release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, maxHeld := len(h.smsc.Submits()), h.smsc.MaxHeld(); n != 6 || maxHeld != 3 {
		t.Fatalf("%d submits, at most %d outstanding", n, maxHeld)
	}
}

// TestThroughputLimit checks the lower bound the limit guarantees: n
// submit_sm at r per second with a burst of the window take at least
// (n-window)/r seconds.
func TestThroughputLimit(t *testing.T) {
	h := start(t, nil, func(c *Config) { c.Throughput = 50; c.Window = 5 })
	h.waitBound(t)
	began := time.Now()
	for i := range 30 {
		if _, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if took, least := time.Since(began), 25*time.Second/50; took < least {
		t.Fatalf("30 submit_sm took %s at 50/s, the limit allows no less than %s", took, least)
	}
}

func TestSendToSuppressed(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	if err := h.sup.Suppress(ctx(t), testAcct, testNumber); err != nil {
		t.Fatal(err)
	}
	_, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: "promo"})
	if !errors.Is(err, conversation.ErrOptedOut) || len(h.smsc.Submits()) != 0 {
		t.Fatalf("send to suppressed: %v, %d submits", err, len(h.smsc.Submits()))
	}
}

// TestGSM7AlphabetMatchesGosmpp checks that every character package sms
// counts as GSM-7 is one gosmpp's GSM-7 encoder writes the same way (so
// the SMSC and the desk agree), and every other BMP character is refused
// by both.
func TestGSM7AlphabetMatchesGosmpp(t *testing.T) {
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		s := string(r)
		ours, ourErr := sms.Encode(s, sms.GSM7)
		theirs, theirErr := data.GSM7BIT.Encode(s)
		if (ourErr == nil) != (theirErr == nil) {
			t.Fatalf("%U: sms says %v, gosmpp %v", r, ourErr, theirErr)
		}
		if ourErr == nil && (!bytes.Equal(ours, theirs) || len(ours) != sms.Septets(r)) {
			t.Fatalf("%U: sms %x (%d septets), gosmpp %x", r, ours, sms.Septets(r), theirs)
		}
	}
}
