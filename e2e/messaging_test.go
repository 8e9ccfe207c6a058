package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
)

// inboundCase is one client message sent by a provider and where the demo
// directory and routing policies say it must land.
type inboundCase struct {
	name     string
	customer string
	channel  string // sms, wechat
	account  string // the conversation's channel account
	send     func(c *cluster, text string) attempts
	text     string
	wantRM   []string // the RMs it may reach (one: the own RM)
	wantTeam string
	// wantDecision is in the sentence of the decision that offered it.
	wantDecision string
	// delivered checks that the reply reached the client on the
	// conversation's own channel, exactly once.
	delivered func(c *cluster, reply string) error
}

// TestMessagingReachesTheRightRM: SMS (Twilio webhooks and SMPP) and
// WeChat (plain and encrypted) messages from the demo directory's clients
// reach the RM the policies call for, on either instance: a private-bank
// client their own RM, an affluent or mass client an RM of their segment's
// team; a provider's retry is stored once; the RM's reply leaves on the
// conversation's own channel and account, once.
func TestMessagingReachesTheRightRM(t *testing.T) {
	c := need(t)
	adm := c.admin(t)
	desks := map[string]*desk{}
	for _, rm := range []string{"rm-pb-01", "rm-pb-02", "rm-af-01", "rm-af-02", "rm-ms-01", "rm-ms-02"} {
		desks[rm] = c.openDesk(t, rm, true, true)
	}
	run := time.Now().UnixNano()
	cases := []inboundCase{
		{name: "twilio sms, private bank, own RM", customer: "cus-pb-0001", channel: "sms", account: twilioAccount,
			send: func(c *cluster, text string) attempts {
				sid := fmt.Sprintf("SMe2e%d", run)
				a := c.sendTwilioSMS("+85255500001", text, sid)
				if a.Acked { // Twilio retries when it misses the answer: stored once
					b := c.sendTwilioSMS("+85255500001", text, sid)
					a.Acked = b.Acked
				}
				return a
			},
			wantRM: []string{"rm-pb-01"}, wantTeam: "private_bank", wantDecision: "offered to own RM rm-pb-01 at step 1",
			delivered: func(c *cluster, reply string) error {
				return once(c.twilio.sentTo("+85255500001", twilioAccount), reply)
			}},
		{name: "wechat encrypted, private bank, own RM", customer: "cus-pb-0005", channel: "wechat", account: wechatOriginalID,
			send: func(c *cluster, text string) attempts {
				id := fmt.Sprintf("%d", run%1e15+5)
				a := c.sendWeChat("o-demo-openid-pb-0005", id, text, true)
				if a.Acked {
					b := c.sendWeChat("o-demo-openid-pb-0005", id, text, true)
					a.Acked = b.Acked
				}
				return a
			},
			wantRM: []string{"rm-pb-02"}, wantTeam: "private_bank", wantDecision: "offered to own RM rm-pb-02 at step 1",
			delivered: func(c *cluster, reply string) error { return once(c.wechat.sentTo("o-demo-openid-pb-0005"), reply) }},
		{name: "wechat plain, mass client, mass team", customer: "cus-ms-0001", channel: "wechat", account: wechatOriginalID,
			send: func(c *cluster, text string) attempts {
				return c.sendWeChat("o-demo-openid-ms-0001", fmt.Sprintf("%d", run%1e15+7), text, false)
			},
			wantRM: []string{"rm-ms-01", "rm-ms-02"}, wantTeam: "mass", wantDecision: "at step 2", // team:mass
			delivered: func(c *cluster, reply string) error { return once(c.wechat.sentTo("o-demo-openid-ms-0001"), reply) }},
		{name: "smpp, affluent client, affluent team", customer: "cus-af-0001", channel: "sms", account: smppAccount,
			send:   func(c *cluster, text string) attempts { return c.sendSMPP("+85255500301", text) },
			wantRM: []string{"rm-af-01", "rm-af-02"}, wantTeam: "affluent", wantDecision: "at step 2", // team:affluent
			delivered: func(c *cluster, reply string) error { return once(c.smscSentTo("85255500301"), reply) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := fmt.Sprintf("%s: please call me about my account (%d)", tc.customer, run)
			if a := tc.send(c, text); !a.Acked {
				t.Fatalf("not acknowledged: statuses %v", a.Statuses)
			}
			// Acknowledged means stored: the message is there at once.
			cv := findConversation(t, adm, tc.customer, tc.channel, text)
			if cv.Account != tc.account {
				t.Errorf("channel account %q, want %q", cv.Account, tc.account)
			}
			eventually(t, 30*time.Second, "assigned", func() error {
				got, err := adm.conversation(cv.ID)
				if err != nil {
					return err
				}
				if got.AssigneeID == "" || got.Status != "active" {
					return fmt.Errorf("status %s, assignee %q", got.Status, got.AssigneeID)
				}
				cv = got
				return nil
			})
			if !slices.Contains(tc.wantRM, cv.AssigneeID) {
				d, _ := adm.decisions(cv.ID)
				t.Fatalf("assigned to %s, want one of %v; decisions: %q", cv.AssigneeID, tc.wantRM, d)
			}
			sentences, err := adm.decisions(cv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(sentences, func(s string) bool { return strings.Contains(s, tc.wantDecision) }) {
				t.Errorf("no routing decision says %q: %q", tc.wantDecision, sentences)
			}
			if cv.TeamID != tc.wantTeam {
				t.Errorf("team %q, want %q", cv.TeamID, tc.wantTeam)
			}
			reply := "re: " + text
			eventually(t, 30*time.Second, "the reply reached the client on "+tc.channel, func() error { return tc.delivered(c, reply) })
			eventually(t, 10*time.Second, "stored exactly once", func() error {
				got, err := adm.conversation(cv.ID)
				if err != nil {
					return err
				}
				return exactlyOnce(got, text, reply)
			})
			if err := desks[cv.AssigneeID].finish(cv.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
	for rm, d := range desks {
		if errs := d.Errors(); len(errs) > 0 {
			t.Errorf("desk %s: %v", rm, errs)
		}
	}
}

// findConversation returns the customer's conversation on channel
// holding an inbound message with text, which must be stored by now.
func findConversation(t *testing.T, adm *admin, customer, channel, text string) conv {
	t.Helper()
	list, err := adm.conversations(customer)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.Channel != channel || l.Status == "closed" {
			continue
		}
		cv, err := adm.conversation(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cv.Messages {
			if m.Direction == "inbound" && m.Text == text {
				return cv
			}
		}
	}
	t.Fatalf("acknowledged message %q of %s not stored in any open %s conversation (%d conversations)", text, customer, channel, len(list))
	return conv{}
}

// exactlyOnce checks that a conversation holds the inbound text once and
// the reply once.
func exactlyOnce(cv conv, inbound, reply string) error {
	var in, out int
	for _, m := range cv.Messages {
		switch {
		case m.Direction == "inbound" && m.Text == inbound:
			in++
		case m.Direction == "outbound" && m.Text == reply:
			out++
		}
	}
	if in != 1 || out != 1 {
		return fmt.Errorf("conversation %s holds the client's message %d times and the reply %d times", cv.ID, in, out)
	}
	return nil
}

// once checks that texts holds want exactly once.
func once(texts []string, want string) error {
	n := 0
	for _, s := range texts {
		if s == want {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("the provider sent %q %d times (it sent %d messages there)", want, n, len(texts))
	}
	return nil
}

// sentTo returns the bodies of the SMS sent to a handset from the
// account.
func (f *twilioAPI) sentTo(to, from string) []string {
	var out []string
	for _, m := range f.Sent() {
		if m.Get("To") == to && m.Get("From") == from {
			out = append(out, m.Get("Body"))
		}
	}
	return out
}

// sentTo returns the texts of the customer-service messages (and the
// templates' keyword1) sent to an openid.
func (f *wechatAPI) sentTo(openid string) []string {
	custom, templates := f.Sent()
	var out []string
	for _, m := range custom {
		if m["touser"] == openid {
			if tx, ok := m["text"].(map[string]any); ok {
				out = append(out, fmt.Sprint(tx["content"]))
			}
		}
	}
	for _, m := range templates {
		if m["touser"] == openid {
			out = append(out, fmt.Sprint(m["data"]))
		}
	}
	return out
}

// smscSentTo returns the texts of the submit_sm the SMSC accepted for a
// destination address (single-part GSM-7 or UCS-2 messages).
func (c *cluster) smscSentTo(dest string) []string {
	var out []string
	for _, s := range c.smsc.Submits() {
		if s.DestAddr != dest || s.ID == "" {
			continue
		}
		out = append(out, decodeSMS(s.DataCoding, s.Payload))
	}
	return out
}

// decodeSMS decodes a short message's payload by its data_coding (SMPP
// 3.4 §5.2.19): GSM 7-bit unpacked, UCS-2, and the others gosmpp knows.
func decodeSMS(coding byte, payload []byte) string {
	enc := data.FromDataCoding(coding)
	if enc == nil {
		return string(payload)
	}
	s, err := enc.Decode(payload)
	if err != nil {
		return string(payload)
	}
	return s
}
