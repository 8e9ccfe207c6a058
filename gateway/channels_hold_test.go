package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/linxGnu/gosmpp/data"

	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp/smsctest"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

const holdBank = "+85230008888"

// smppGateway starts a gateway on cfg bound to smsc (fast rebinds, a long
// submit_timeout: a held reply must not wait for it).
func smppGateway(t *testing.T, cfg *configs.Config, smsc *smsctest.Server) *running {
	t.Helper()
	s := &cfg.SMS.SMPP
	s.Addr, s.SystemID, s.Account = smsc.Addr(), "airbranch", holdBank
	s.RebindMin, s.RebindMax, s.EnquireLink, s.ReadTimeout, s.SubmitTimeout = 20*time.Millisecond, 100*time.Millisecond, time.Second, 5*time.Second, 30*time.Second
	cfg.Secrets.SMPPPassword = "smpp-pw"
	return start(t, cfg, &syncBuffer{})
}

func newSMSC(t *testing.T) *smsctest.Server {
	t.Helper()
	smsc, err := smsctest.New(smsctest.Config{SystemID: "airbranch", Password: "smpp-pw"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = smsc.Close() })
	return smsc
}

// readyBody returns /readyz's status and body.
func readyBody(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// linkAndHeld reads the SMPP bind state and held count off /readyz.
func linkAndHeld(t *testing.T, base string) (int, string, string, float64) {
	t.Helper()
	code, body := readyBody(t, base)
	links, _ := body["channels"].(map[string]any)
	held, _ := body["held"].(map[string]any)
	n, _ := held["sms.smpp"].(float64)
	link, _ := links["sms.smpp"].(string)
	status, _ := body["status"].(string)
	return code, status, link, n
}

// openSMSConversation has the demo client text the bank over smsc and
// their RM accept; it returns the conversation id.
func openSMSConversation(t *testing.T, d *apiDesk, smsc *smsctest.Server) string {
	t.Helper()
	mo, err := smsctest.MO(demoPhone, holdBank, "Please confirm my transfer")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := smsc.WaitBound(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := smsc.Deliver(ctx, mo); err != nil || st != data.ESME_ROK {
		t.Fatalf("deliver_sm: %v %v", st, err)
	}
	return d.acceptOffer()
}

// dropLink makes the SMSC drop the bind and refuse new ones, and waits
// for /readyz to say so.
func dropLink(t *testing.T, smsc *smsctest.Server, base string) {
	t.Helper()
	smsc.RefuseBinds(data.ESME_RBINDFAIL)
	if smsc.DropConnections() == 0 {
		t.Fatal("the SMSC had no connection to drop")
	}
	waitFor(t, "/readyz to report the bind down", func() bool {
		code, status, link, _ := linkAndHeld(t, base)
		return code == http.StatusOK && status == "degraded" && link == "not_bound"
	})
}

// replyHeld sends text as the RM and checks it is answered at once,
// queued (held), not failed.
func replyHeld(t *testing.T, d *apiDesk, id, text string) string {
	t.Helper()
	t0 := time.Now()
	code, out := d.reply(id, map[string]any{"text": text})
	m, _ := out["message"].(map[string]any)
	if code != http.StatusCreated || m["status"] != "queued" {
		t.Fatalf("reply %q while unbound: %d %v", text, code, out)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("reply while unbound took %v: it waited for the bind instead of being held", took)
	}
	return m["id"].(string)
}

// metricsText returns GET /metrics.
func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// submitted returns the texts the SMSC took, in arrival order.
func submitted(smsc *smsctest.Server) []string {
	var out []string
	for _, s := range smsc.Submits() {
		enc := sms.GSM7
		if s.DataCoding == sms.UCS2.DataCoding() {
			enc = sms.UCS2
		}
		text, err := sms.Decode(s.Payload, enc)
		if err != nil {
			text = string(s.Payload)
		}
		out = append(out, text)
	}
	return out
}

// TestSMPPHoldsRepliesWhileUnbound: the SMSC drops the link and refuses
// to bind again; the RM's replies are answered at once as queued, held in
// the store and counted on /readyz (degraded, not_bound); once the SMSC
// takes binds again each goes out exactly once, in the order written,
// moves to sent and the RM's desk is told; a reply after that goes at
// once. Nothing is lost.
func TestSMPPHoldsRepliesWhileUnbound(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		smsc := newSMSC(t)
		r := smppGateway(t, cfg, smsc)
		d := newDesk(t, r)
		id := openSMSConversation(t, d, smsc)

		dial := websocket.Dialer{Subprotocols: []string{"airbranch.desk.v1", "bearer." + d.rm}}
		desk, res, err := dial.Dial("ws"+strings.TrimPrefix(r.base, "http")+"/ws/desk", nil)
		if err != nil {
			t.Fatalf("dial desk: %v (%v)", err, res)
		}
		defer desk.Close()
		readChat(t, desk, "welcome", "")

		dropLink(t, smsc, r.base)
		texts := []string{"First: the transfer is booked.", "Second: it settles tomorrow.", "Third: 转账已确认。"}
		ids := map[string]bool{}
		for _, text := range texts {
			ids[replyHeld(t, d, id, text)] = true
		}
		if code, status, link, n := linkAndHeld(t, r.base); code != http.StatusOK || status != "degraded" || link != "not_bound" || n != 3 {
			t.Fatalf("readyz while held: %d %s %s held %v", code, status, link, n)
		}
		if got := submitted(smsc); len(got) != 0 {
			t.Fatalf("the SMSC got %q while refusing binds", got)
		}
		if m := metricsText(t, r.base); !strings.Contains(m, `airbranch_channel_held_messages{account="`+holdBank+`",channel="sms",provider="smpp"} 3`) {
			t.Errorf("metrics lack the 3 held replies:\n%s", m)
		}

		smsc.RefuseBinds(data.ESME_ROK)
		waitFor(t, "the held replies at the SMSC", func() bool { return len(smsc.Submits()) >= len(texts) })
		waitFor(t, "/readyz bound with nothing held", func() bool {
			code, status, link, n := linkAndHeld(t, r.base)
			return code == http.StatusOK && status == "ready" && link == "bound" && n == 0
		})
		msgs := d.messages(id)
		for _, m := range msgs[1:] {
			if m["status"] != "sent" {
				t.Errorf("message %v after the rebind, want sent", m)
			}
		}
		// The desk is told each held message went.
		for told := 0; told < len(texts); {
			var st struct {
				Message struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"message"`
			}
			if err := json.Unmarshal(readChat(t, desk, "message_status", "").Data, &st); err != nil {
				t.Fatal(err)
			}
			if !ids[st.Message.ID] || st.Message.Status != "sent" {
				t.Fatalf("desk message_status %+v", st)
			}
			told++
		}

		if code, out := d.reply(id, map[string]any{"text": "Fourth, with the bind up."}); code != http.StatusCreated || out["message"].(map[string]any)["status"] != "sent" {
			t.Fatalf("reply with the bind up: %d %v", code, out)
		}
		time.Sleep(300 * time.Millisecond) // a second sending would show by now
		want := append(texts[:2:2], "Third: 转账已确认。", "Fourth, with the bind up.")
		got := submitted(smsc)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("the SMSC got %q, want %q once each in order", got, want)
		}
		if msgs := d.messages(id); len(msgs) != 5 {
			t.Fatalf("stored messages %v", msgs)
		}
	})
}

// TestSMPPHeldRepliesSurviveRestart: replies held while the bind is down
// are in Redis, so an instance started after the first one stopped sends
// them, once each and in order, when the SMSC takes its bind.
func TestSMPPHeldRepliesSurviveRestart(t *testing.T) {
	t.Parallel()
	u := testRedisURL(t)
	prefix := "{abtest-hold-" + strings.ToLower(rand.Text()[:12]) + "}"
	t.Cleanup(func() { statetest.PurgeRedisURL(t, u, prefix) })
	cfg := configs.Default()
	cfg.Redis.URL, cfg.Redis.KeyPrefix = u, prefix
	cfg.Secrets.JWTSecret = testSecret
	smsc := newSMSC(t)
	first := smppGateway(t, cfg, smsc)
	d := newDesk(t, first)
	id := openSMSConversation(t, d, smsc)
	dropLink(t, smsc, first.base)
	texts := []string{"Held one.", "Held two.", "Held three."}
	for _, text := range texts {
		replyHeld(t, d, id, text)
	}
	first.cancel()
	err := <-first.done
	first.done <- err // for the cleanup
	if err != nil {
		t.Fatalf("first instance: %v", err)
	}

	second := smppGateway(t, cfg, smsc)
	if _, _, link, n := linkAndHeld(t, second.base); link != "not_bound" || n != 3 {
		t.Fatalf("second instance before the SMSC is back: %s, held %v", link, n)
	}
	smsc.RefuseBinds(data.ESME_ROK)
	waitFor(t, "the held replies sent by the second instance", func() bool {
		_, _, link, n := linkAndHeld(t, second.base)
		return link == "bound" && n == 0 && len(smsc.Submits()) >= len(texts)
	})
	time.Sleep(300 * time.Millisecond)
	if got := submitted(smsc); strings.Join(got, "|") != strings.Join(texts, "|") {
		t.Fatalf("the SMSC got %q, want %q once each in order", got, texts)
	}
	d2 := &apiDesk{t: t, base: second.base, rm: d.rm, admin: d.admin}
	for _, m := range d2.messages(id)[1:] {
		if m["status"] != "sent" {
			t.Errorf("message %v, want sent", m)
		}
	}
}
