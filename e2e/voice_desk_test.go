package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// voiceWaitConversation waits for the newest voice conversation of
// customer created since then to have status and assignee, and returns
// it.
func voiceWaitConversation(t *testing.T, adm *admin, customer string, since time.Time, status, assignee string, within time.Duration) conv {
	t.Helper()
	var cv conv
	eventually(t, within, fmt.Sprintf("%s's call %s with %s", customer, status, assignee), func() error {
		list, err := adm.conversations(customer)
		if err != nil {
			return err
		}
		for _, l := range list { // newest first
			if l.Channel != "voice" || l.CreatedAt.Before(since.Add(-2*time.Second)) {
				continue
			}
			cv = l
			if l.Status != status || l.AssigneeID != assignee {
				return fmt.Errorf("conversation %s: status %s, assignee %q", l.ID, l.Status, l.AssigneeID)
			}
			return nil
		}
		return fmt.Errorf("no voice conversation of %s since %s (%d conversations)", customer, since.Format(time.TimeOnly), len(list))
	})
	return cv
}

// voiceLanded checks where a call's conversation landed.
func voiceLanded(t *testing.T, cv conv, customer, rm, team string) {
	t.Helper()
	if cv.Channel != "voice" || cv.Account != bankNumber || cv.CustomerID != customer || cv.AssigneeID != rm || cv.TeamID != team {
		t.Errorf("conversation %s: channel %s, account %s, customer %s, assignee %s, team %s; want voice, %s, %s, %s, %s",
			cv.ID, cv.Channel, cv.Account, cv.CustomerID, cv.AssigneeID, cv.TeamID, bankNumber, customer, rm, team)
	}
}

// voiceCalls returns the call events the desk received for a
// conversation, each as "state[ device[ ended_by reason]]", e.g.
// "ringing phone" or "ended phone client completed".
func (d *desk) voiceCalls(conversationID string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, f := range d.frames {
		if f.Type != "call" {
			continue
		}
		var e struct {
			ConversationID string `json:"conversation_id"`
			State          string `json:"state"`
			Device         string `json:"device"`
			EndedBy        string `json:"ended_by"`
			Reason         string `json:"reason"`
		}
		if json.Unmarshal(f.Data, &e) != nil || e.ConversationID != conversationID {
			continue
		}
		out = append(out, strings.TrimSpace(strings.Join([]string{e.State, e.Device, e.EndedBy, e.Reason}, " ")))
	}
	return out
}

// voiceWaitCalls waits (20 s) until the desk has received the call events
// want, in that order (others may come between); a word "*" in want
// matches any one word.
func voiceWaitCalls(t *testing.T, d *desk, conversationID string, want ...string) {
	t.Helper()
	eventually(t, 20*time.Second, "call events "+strings.Join(want, ", ")+" on "+d.rm+"'s desk", func() error {
		got := d.voiceCalls(conversationID)
		i := 0
		for _, g := range got {
			if i < len(want) && voiceCallMatches(g, want[i]) {
				i++
			}
		}
		if i < len(want) {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
}

// voiceCallMatches reports whether a call event got is want, whose words
// "*" match any word.
func voiceCallMatches(got, want string) bool {
	g, w := strings.Fields(got), strings.Fields(want)
	if len(g) != len(w) {
		return false
	}
	for i := range w {
		if w[i] != "*" && w[i] != g[i] {
			return false
		}
	}
	return true
}

// voiceFinish closes a conversation in wrap-up from the RM's desk and
// checks it is closed.
func voiceFinish(t *testing.T, adm *admin, d *desk, conversationID string) {
	t.Helper()
	if err := d.finish(conversationID); err != nil {
		t.Fatal(err)
	}
	got, err := adm.conversation(conversationID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "closed" {
		t.Errorf("conversation %s is %s after the desk closed it", conversationID, got.Status)
	}
}

// voiceNoDeskErrors fails the test when a desk's automatic accepts went
// wrong.
func voiceNoDeskErrors(t *testing.T, desks ...*desk) {
	t.Helper()
	for _, d := range desks {
		if errs := d.Errors(); len(errs) > 0 {
			t.Errorf("desk %s: %v", d.rm, errs)
		}
	}
}
