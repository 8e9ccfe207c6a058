package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// trafficSummary is what a traffic run did, for the test's log.
type trafficSummary struct {
	Sent, Acked, Resent, Conversations, Replies int
	// SentTwice counts replies sent again by a survivor after their
	// instance died with them at the provider (at least once).
	SentTwice int
}

func (s trafficSummary) String() string {
	return fmt.Sprintf("%d messages sent, %d acknowledged (%d delivered twice by the provider), %d conversations, %d replies (%d sent twice: in flight when their instance died)",
		s.Sent, s.Acked, s.Resent, s.Conversations, s.Replies, s.SentTwice)
}

// trafficCheck stops the traffic, lets the desks serve and close what is
// left, and proves:
//   - every message was acknowledged by the gateway (the providers retried
//     until it was);
//   - every acknowledged message is stored exactly once, in a
//     conversation of its client (the directory's customer, or one
//     prospect per unknown address) on its channel and account;
//   - every message was answered, and every reply the desks sent is
//     stored once in its conversation and left exactly once, on the
//     conversation's own channel (fake Twilio, SMSC submits, fake WeChat)
//     and nowhere else;
//   - no conversation waited past its timeouts (the watchdog) and none is
//     left open: each was served and closed within 90 s of the end.
//
// It fails the test with every problem found.
func trafficCheck(t testing.TB, tr *traffic, desks map[string]*desk) trafficSummary {
	t.Helper()
	tr.Stop()
	msgs := tr.Messages()
	sum := trafficSummary{Sent: len(msgs)}
	var problems []string
	for _, m := range msgs {
		if m.att.Acked {
			sum.Acked++
		} else {
			problems = append(problems, fmt.Sprintf("%s: %q never acknowledged (statuses %v)", m.client.name(), m.text, m.att.Statuses))
		}
		if m.resent {
			sum.Resent++
		}
	}

	// Let the desks serve and close what is left.
	var open []trafficConv
	deadline := time.Now().Add(90 * time.Second)
	for {
		convs, err := tr.listConversations()
		if err == nil {
			open = open[:0]
			for _, cv := range convs {
				if cv.Status != "closed" && cv.Status != "abandoned" {
					open = append(open, cv)
				}
			}
			if len(open) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			for _, cv := range open {
				problems = append(problems, fmt.Sprintf("conversation %s of %s still %s (assignee %q) 90 s after the traffic ended", cv.ID, cv.CustomerID, cv.Status, cv.AssigneeID))
				if d := desks[cv.AssigneeID]; d != nil && (cv.Status == "active" || cv.Status == "wrap_up") {
					_ = d.finish(cv.ID) // leave the cluster as found
				}
			}
			break
		}
		time.Sleep(2 * time.Second)
	}
	tr.mu.Lock()
	problems = append(problems, tr.stuck...)
	tr.mu.Unlock()
	// A reply stored by an instance that was then killed is sent by
	// another once its in-flight lease (a minute) ran out: wait for the
	// replies still queued, for that lease and a margin.
	deadline = time.Now().Add(90 * time.Second)
	for {
		queued := trafficQueuedReplies(tr)
		if queued == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(3 * time.Second)
	}
	// Replies that an instance recovered from a dead one's in-flight queue.
	recovered := map[string]bool{}
	for _, in := range tr.c.instances() {
		for _, line := range in.LogLines("message left in flight by a stopped instance") {
			if i := strings.Index(line, `"message":{"id":"`); i >= 0 {
				id := line[i+len(`"message":{"id":"`):]
				if j := strings.IndexByte(id, '"'); j > 0 {
					recovered[id[:j]] = true
				}
			}
		}
	}

	// Read every conversation with its messages.
	convs, err := tr.listConversations()
	if err != nil {
		t.Fatalf("traffic check: list conversations: %v", err)
	}
	sum.Conversations = len(convs)
	adm := tr.admin()
	inbound, outbound := map[string][]trafficConv{}, map[string][]trafficConv{}
	outStatus := map[string]string{} // reply text → its stored message's id and status
	prospects := map[string]string{} // address → prospect customer id
	for _, l := range convs {
		var cv trafficConv
		if err := adm.get("/api/v1/conversations/"+l.ID, &cv); err != nil {
			t.Fatalf("traffic check: read %s: %v", l.ID, err)
		}
		cl, _ := tr.client(cv)
		if cl.customer == "" {
			if !strings.HasPrefix(cv.CustomerID, "prospect-") {
				problems = append(problems, fmt.Sprintf("conversation %s of unknown %s is customer %s, not a prospect", cv.ID, cv.Address.Value, cv.CustomerID))
			}
			if p, ok := prospects[cv.Address.Value]; ok && p != cv.CustomerID {
				problems = append(problems, fmt.Sprintf("unknown %s became two prospects: %s and %s", cv.Address.Value, p, cv.CustomerID))
			}
			prospects[cv.Address.Value] = cv.CustomerID
		}
		for _, m := range cv.Messages {
			if !strings.Contains(m.Text, tr.tag+" #") {
				continue
			}
			if m.Direction == "inbound" {
				inbound[m.Text] = append(inbound[m.Text], cv)
			} else {
				outbound[m.Text] = append(outbound[m.Text], cv)
				outStatus[m.Text] = fmt.Sprintf("message %s %s", m.ID, m.Status)
			}
		}
	}

	// Every acknowledged message: stored once, with its client, on its
	// channel and account.
	replied := map[string]int{}
	for _, d := range desks {
		for _, texts := range d.Replies() {
			for _, r := range texts {
				if strings.Contains(r, tr.tag+" #") {
					replied[r]++
				}
			}
		}
	}
	for _, m := range msgs {
		if !m.att.Acked {
			continue
		}
		at := inbound[m.text]
		if len(at) != 1 {
			problems = append(problems, fmt.Sprintf("%s: acknowledged %q stored %d times (conversations %v)", m.client.name(), m.text, len(at), convIDs(at)))
			continue
		}
		cv := at[0]
		if cl, ok := tr.client(cv); !ok || cl != m.client || cv.Account != m.client.account() {
			problems = append(problems, fmt.Sprintf("%s: %q stored in conversation %s of %s on %s/%s", m.client.name(), m.text, cv.ID, cv.CustomerID, cv.Channel, cv.Account))
		}
		if replied["re: "+m.text] == 0 {
			problems = append(problems, fmt.Sprintf("%s: %q (conversation %s, %s, assignee %q) never answered", m.client.name(), m.text, cv.ID, cv.Status, cv.AssigneeID))
		}
	}

	// Every reply: stored once, delivered once on the own channel only.
	delivered := trafficDeliveries(tr.c, tr.tag)
	for _, d := range desks {
		for convID, texts := range d.Replies() {
			for _, r := range texts {
				if !strings.Contains(r, tr.tag+" #") {
					continue
				}
				sum.Replies++
				if replied[r] != 1 {
					problems = append(problems, fmt.Sprintf("reply %q sent %d times by the desks", r, replied[r]))
				}
				at := outbound[r]
				if len(at) != 1 || at[0].ID != convID {
					problems = append(problems, fmt.Sprintf("reply %q of %s on %s stored in conversations %v", r, d.rm, convID, convIDs(at)))
					continue
				}
				cl, _ := tr.client(at[0])
				want := cl.kind
				if strings.HasPrefix(want, "wechat") {
					want = "wechat"
				}
				want += ":" + strings.TrimPrefix(cl.addr, "+")
				got := delivered[r]
				if len(got) == 2 && got[0] == want && got[1] == want && recovered[outID(outStatus[r])] {
					// In flight at the provider when its instance died, then
					// sent again by the survivor: at least once, as
					// documented (outbox.Recover); never more.
					sum.SentTwice++
					got = got[:1]
				}
				if len(got) != 1 || got[0] != want {
					hint := ""
					if len(got) == 0 && strings.HasSuffix(outStatus[r], " queued") {
						hint = " (stored queued and never sent: lost with the instance that stored it?)"
					}
					problems = append(problems, fmt.Sprintf("reply %q (conversation %s, stored as %s) delivered as %v, want once as %s%s", r, convID, outStatus[r], got, want, hint))
				}
			}
		}
	}
	if len(problems) > 0 {
		const show = 40
		more := ""
		if len(problems) > show {
			more = fmt.Sprintf("\n... and %d more", len(problems)-show)
			problems = problems[:show]
		}
		t.Errorf("traffic check (%s): %d problems:\n%s%s", sum, len(problems), strings.Join(problems, "\n"), more)
	}
	return sum
}

// trafficDeliveries returns, for each text of the run the providers
// delivered, where they delivered it: "twilio:<to>", "smpp:<dest>",
// "wechat:<openid>" (numbers without "+"), once per delivery.
func trafficDeliveries(c *cluster, tag string) map[string][]string {
	out := map[string][]string{}
	add := func(text, where string) {
		if strings.Contains(text, tag+" #") {
			out[text] = append(out[text], where)
		}
	}
	for _, m := range c.twilio.Sent() {
		where := "twilio:" + strings.TrimPrefix(m.Get("To"), "+")
		if m.Get("From") != twilioAccount {
			where = "twilio from " + m.Get("From") + ":" + where
		}
		add(m.Get("Body"), where)
	}
	for _, s := range c.smsc.Submits() {
		if s.ID != "" {
			add(decodeSMS(s.DataCoding, s.Payload), "smpp:"+strings.TrimPrefix(s.DestAddr, "+"))
		}
	}
	custom, _ := c.wechat.Sent()
	for _, m := range custom {
		if tx, ok := m["text"].(map[string]any); ok {
			add(fmt.Sprint(tx["content"]), "wechat:"+fmt.Sprint(m["touser"]))
		}
	}
	for _, w := range out {
		sort.Strings(w)
	}
	return out
}

func convIDs(cs []trafficConv) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// trafficQueuedReplies counts the replies stored and not yet sent (or
// failed) in the traffic's conversations; -1 when they could not be read.
func trafficQueuedReplies(tr *traffic) int {
	convs, err := tr.listConversations()
	if err != nil {
		return -1
	}
	adm := tr.admin()
	n := 0
	for _, l := range convs {
		var cv trafficConv
		if err := adm.get("/api/v1/conversations/"+l.ID, &cv); err != nil {
			return -1
		}
		for _, m := range cv.Messages {
			if m.Direction == "outbound" && m.Status == "queued" {
				n++
			}
		}
	}
	return n
}

// outID is the message id of an outStatus value ("message <id> <status>").
func outID(s string) string {
	if f := strings.Fields(s); len(f) == 3 {
		return f[1]
	}
	return ""
}
