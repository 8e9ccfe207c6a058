package smpp

import (
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
	"github.com/airbranch/airbranch/channels/sms/smstest"
)

func deliver(t *testing.T, h *harness, d *pdu.DeliverSM) data.CommandStatusType {
	t.Helper()
	st, err := h.smsc.Deliver(ctx(t), d)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mo(t *testing.T, from, text string) *pdu.DeliverSM {
	t.Helper()
	d, err := smsctest.MO(from, testAcct, text)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIncomingMessage(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	tests := []struct {
		name, text string
		kind       conversation.IncomingKind
		event      string
	}{
		{"GSM-7", "Hi, please call me back about my loan @ 3pm {urgent}", conversation.IncomingMessage, ""},
		{"UCS-2 Chinese", "我想查詢一下我的信用卡額度", conversation.IncomingMessage, ""},
		{"opt-out keyword", " 退订 ", conversation.IncomingEvent, sms.EventOptOut},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := deliver(t, h, mo(t, testNumber, tt.text)); st != data.ESME_ROK {
				t.Fatalf("deliver_sm_resp %s", st)
			}
			got := h.sink.Received()
			if len(got) != i+1 {
				t.Fatalf("%d stored", len(got))
			}
			in := got[i]
			if in.Text != tt.text || in.Kind != tt.kind || in.Event != tt.event || in.From.Value != testNumber ||
				in.ChannelAccount != testAcct || in.Channel != conversation.ChannelSMS || in.ProviderID == "" {
				t.Fatalf("incoming %+v", in)
			}
		})
	}
	// After 退订 nothing may be sent; START lifts it.
	if _, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: "offer"}); err == nil {
		t.Fatal("sent to an opted-out number")
	}
	if st := deliver(t, h, mo(t, testNumber, "START")); st != data.ESME_ROK {
		t.Fatalf("START: %s", st)
	}
	if _, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: "welcome back"}); err != nil {
		t.Fatal(err)
	}
}

// TestIncomingConcatenatedUCS2 delivers a Chinese message in three UCS-2
// parts out of order, then the last part again: one message stored, with
// the whole text, every deliver_sm acknowledged.
func TestIncomingConcatenatedUCS2(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	text := strings.Repeat("您好，我想預約下星期二上午與我的客戶經理見面，討論退休投資組合。", 5)
	parts, err := smsctest.ConcatUCS2(testNumber, testAcct, text, 0x42, 67)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for _, i := range []int{2, 0, 1, 1} {
		if st := deliver(t, h, parts[i]); st != data.ESME_ROK {
			t.Fatalf("part %d: %s", i+1, st)
		}
	}
	got := h.sink.Received()
	if len(got) != 1 || got[0].Text != text {
		t.Fatalf("stored %d: %+v", len(got), got)
	}
	// The SMSC delivers the last part again (its resp was lost): the
	// message is not stored twice.
	again, _ := smsctest.ConcatUCS2(testNumber, testAcct, text, 0x42, 67)
	for _, p := range again {
		if st := deliver(t, h, p); st != data.ESME_ROK {
			t.Fatalf("repeat: %s", st)
		}
	}
	if n := len(h.sink.Received()); n != 1 {
		t.Fatalf("stored %d times", n)
	}
}

// TestDeliverNotAcknowledgedWhenSinkUnavailable: a deliver_sm the Sink
// cannot store is answered with an error status, so the SMSC delivers it
// again; once the Sink is back, it is stored once.
func TestDeliverNotAcknowledgedWhenSinkUnavailable(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	h.sink.SetUnavailable(true)
	if st := deliver(t, h, mo(t, testNumber, "are you there?")); st == data.ESME_ROK {
		t.Fatal("acknowledged OK while the sink is unavailable")
	} else if st != data.ESME_RX_T_APPN {
		t.Fatalf("status %s, want ESME_RX_T_APPN", st)
	}
	// A concatenated message: the parts are held and acknowledged, the
	// last one is not until the Sink stores the whole.
	text := strings.Repeat("請問我的轉賬為甚麼還沒到賬？", 6)
	parts, _ := smsctest.ConcatUCS2(testNumber, testAcct, text, 7, 67)
	for i, p := range parts {
		st := deliver(t, h, p)
		last := i == len(parts)-1
		if last != (st != data.ESME_ROK) {
			t.Fatalf("part %d/%d: %s", i+1, len(parts), st)
		}
	}
	if n := len(h.sink.Received()); n != 0 {
		t.Fatalf("%d stored while unavailable", n)
	}
	h.sink.SetUnavailable(false)
	if st := deliver(t, h, mo(t, testNumber, "are you there?")); st != data.ESME_ROK {
		t.Fatalf("redelivery: %s", st)
	}
	last, _ := smsctest.ConcatUCS2(testNumber, testAcct, text, 7, 67)
	if st := deliver(t, h, last[len(last)-1]); st != data.ESME_ROK {
		t.Fatalf("last part again: %s", st)
	}
	got := h.sink.Received()
	if len(got) != 2 || got[0].Text != "are you there?" || got[1].Text != text {
		t.Fatalf("stored %+v", got)
	}
}

func TestIncomingRefused(t *testing.T) {
	h := start(t, nil, func(c *Config) { c.MaxInboundParts = 4; c.ReassemblyMaxMessages = 1 })
	h.waitBound(t)
	alnum := mo(t, testNumber, "hello")
	alnum.SourceAddr = pdu.NewAddressWithTonNpi(5, 0)
	_ = alnum.SourceAddr.SetAddress("BANKHK")
	tooMany, _ := smsctest.ConcatUCS2(testNumber, testAcct, strings.Repeat("好", 67*5), 1, 67)
	first, _ := smsctest.ConcatUCS2(testNumber, testAcct, strings.Repeat("好", 100), 2, 67)
	second, _ := smsctest.ConcatUCS2("+85291110000", testAcct, strings.Repeat("好", 100), 3, 67)
	tests := []struct {
		name string
		d    *pdu.DeliverSM
		want data.CommandStatusType
	}{
		{"alphanumeric source", alnum, data.ESME_RINVSRCADR},
		{"more parts than allowed", tooMany[0], data.ESME_RINVMSGLEN},
		{"first of one in reassembly", first[0], data.ESME_ROK},
		{"reassembly full", second[0], data.ESME_RMSGQFUL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := deliver(t, h, tt.d); st != tt.want {
				t.Fatalf("status %s, want %s", st, tt.want)
			}
		})
	}
	if n := len(h.sink.Received()); n != 0 {
		t.Fatalf("%d stored", n)
	}
}

// TestReassemblyTimeout: a message whose parts stop arriving is delivered
// with a gap once ReassemblyTimeout passes.
func TestReassemblyTimeout(t *testing.T) {
	h := start(t, nil, func(c *Config) { c.ReassemblyTimeout = 50 * time.Millisecond })
	h.waitBound(t)
	parts, _ := smsctest.ConcatUCS2(testNumber, testAcct, strings.Repeat("甲", 67)+strings.Repeat("乙", 67)+"丙", 9, 67)
	deliver(t, h, parts[0])
	deliver(t, h, parts[2])
	got, err := h.sink.WaitReceived(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("甲", 67) + missingPart + "丙"; got[0].Text != want {
		t.Fatalf("text %q", got[0].Text)
	}
}

// TestReceiptsPerSegment sends a two-part message and answers each part's
// id with its own receipt: one in the text only, one in TLVs only.
func TestReceiptsPerSegment(t *testing.T) {
	h := start(t, nil)
	h.waitBound(t)
	sent, err := h.p.Send(ctx(t), sms.Outbound{Account: testAcct, To: testNumber, Text: strings.Repeat("您的月結單已準備好。", 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.ProviderIDs) != 2 {
		t.Fatalf("ids %v", sent.ProviderIDs)
	}
	h.sink.Track(testAcct, sent.ProviderIDs...)
	id1, id2 := sent.ProviderIDs[0], sent.ProviderIDs[1]
	receipts := []struct {
		name string
		make func() (*pdu.DeliverSM, error)
	}{
		{"part 1 delivered, text", func() (*pdu.DeliverSM, error) {
			return smsctest.Receipt(testNumber, testAcct, id1, "DELIVRD", "000", false, 0, true)
		}},
		{"part 2 enroute, text", func() (*pdu.DeliverSM, error) {
			return smsctest.Receipt(testNumber, testAcct, id2, "ENROUTE", "000", false, 0, true)
		}},
		{"part 2 undeliverable, TLV only", func() (*pdu.DeliverSM, error) {
			return smsctest.Receipt(testNumber, testAcct, id2, "", "001", true, smsctest.StateUndeliverable, false)
		}},
		{"part 1 late enroute, ignored", func() (*pdu.DeliverSM, error) {
			return smsctest.Receipt(testNumber, testAcct, id1, "ENROUTE", "000", true, 1, true)
		}},
		{"unknown id", func() (*pdu.DeliverSM, error) {
			return smsctest.Receipt(testNumber, testAcct, "FFFFFFFF", "DELIVRD", "000", true, smsctest.StateDelivered, true)
		}},
	}
	for _, r := range receipts {
		d, err := r.make()
		if err != nil {
			t.Fatal(err)
		}
		if st := deliver(t, h, d); st != data.ESME_ROK {
			t.Fatalf("%s: %s", r.name, st)
		}
	}
	if st, _ := h.sink.StatusOf(id1); st != conversation.DeliveryDelivered {
		t.Fatalf("part 1: %s", st)
	}
	if st, code := h.sink.StatusOf(id2); st != conversation.DeliveryFailed || code != "001" {
		t.Fatalf("part 2: %s %q", st, code)
	}
	// A receipt the Sink cannot store is not acknowledged OK.
	h.sink.SetUnavailable(true)
	d, _ := smsctest.Receipt(testNumber, testAcct, id1, "DELIVRD", "000", false, 0, true)
	if st := deliver(t, h, d); st != data.ESME_RX_T_APPN {
		t.Fatalf("receipt with the sink down: %s", st)
	}
}

func TestParseReceipt(t *testing.T) {
	tests := []struct {
		text   string
		id     string
		status conversation.DeliveryStatus
		code   string
		ok     bool
	}{
		{"id:7710239921 sub:001 dlvrd:001 submit date:2501151030 done date:2501151031 stat:DELIVRD err:000 text:Your code", "7710239921", conversation.DeliveryDelivered, "", true},
		{"id:A1B2C3 sub:001 dlvrd:000 submit date:2501151030 done date:2501161030 stat:EXPIRED err:000 text:", "A1B2C3", conversation.DeliveryFailed, "EXPIRED", true},
		{"id:42 sub:001 dlvrd:000 submit date:2501151030 done date:2501151030 stat:UNDELIV err:034 text:x id:99 stat:DELIVRD", "42", conversation.DeliveryFailed, "034", true},
		{"ID:5 SUB:001 DLVRD:001 SUBMIT DATE:2501151030 DONE DATE:2501151031 STAT:ACCEPTD ERR:000 TEXT:", "5", conversation.DeliverySent, "", true},
		{"id:5 stat:WHATEVER err:000", "5", "", "", false},
		{"stat:DELIVRD err:000", "", conversation.DeliveryDelivered, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			d := pdu.NewDeliverSM().(*pdu.DeliverSM)
			r, ok := parseReceipt(d, tt.text)
			if ok != tt.ok || r.id != tt.id || r.state != tt.status {
				t.Fatalf("receipt %+v ok %v", r, ok)
			}
			if ok && r.state == conversation.DeliveryFailed && r.errorCode() != tt.code {
				t.Fatalf("error code %q, want %q", r.errorCode(), tt.code)
			}
		})
	}
}

func TestSourceNumber(t *testing.T) {
	p, err := New(testConfig("127.0.0.1:1"), smstest.NewSink(), sms.NewMemory(), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ton  byte
		addr string
		want string
	}{
		{1, "85291234567", testNumber},
		{1, "+85291234567", testNumber},
		{2, "91234567", testNumber},    // national, read in HK
		{0, "91234567", testNumber},    // unknown TON, national
		{0, "85291234567", testNumber}, // unknown TON, international digits
		{5, "BANKHK", ""},
	}
	for _, tt := range tests {
		a := pdu.NewAddressWithTonNpi(tt.ton, 1)
		_ = a.SetAddress(tt.addr)
		got, err := p.sourceNumber(a)
		if (err == nil) != (tt.want != "") || got != tt.want {
			t.Errorf("TON %d %q: %q, %v; want %q", tt.ton, tt.addr, got, err, tt.want)
		}
	}
}

// TestRepeatOnAnotherInstanceHasTheSameProviderID: the SMSC's repeat of a
// deliver_sm whose resp was lost may reach another instance (another
// bind): it carries the same provider id there, so the store, shared by
// the instances, keeps one copy.
func TestRepeatOnAnotherInstanceHasTheSameProviderID(t *testing.T) {
	a, b := start(t, nil), start(t, nil)
	a.waitBound(t)
	b.waitBound(t)
	for _, h := range []*harness{a, b} {
		if st := deliver(t, h, mo(t, testNumber, "Please call me about my deposit")); st != data.ESME_ROK {
			t.Fatalf("deliver_sm_resp %s", st)
		}
	}
	ga, gb := a.sink.Received(), b.sink.Received()
	if len(ga) != 1 || len(gb) != 1 || ga[0].ProviderID == "" || ga[0].ProviderID != gb[0].ProviderID {
		t.Fatalf("provider ids %v and %v, want one and the same", ga, gb)
	}
}
