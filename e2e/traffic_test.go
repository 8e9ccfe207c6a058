package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mixed traffic over the cluster: clients of the demo directory and
// prospects write through every messaging provider at a steady rate, as
// the providers deliver (retrying until acknowledged); RM desk bots answer
// and close the conversations; trafficCheck then proves that nothing
// acknowledged was lost or doubled and that every reply left once on the
// conversation's own channel.

// trafficClient is one client writing on one channel.
type trafficClient struct {
	kind     string // twilio, smpp, wechat, wechat-aes
	addr     string // E.164 phone, or WeChat openid
	customer string // the directory's customer id; "" for a prospect
}

func (tc trafficClient) channel() string {
	if strings.HasPrefix(tc.kind, "wechat") {
		return "wechat"
	}
	return "sms"
}

// account is the bank's side of the client's channel.
func (tc trafficClient) account() string {
	switch tc.kind {
	case "twilio":
		return twilioAccount
	case "smpp":
		return smppAccount
	}
	return wechatOriginalID
}

func (tc trafficClient) name() string {
	who := tc.customer
	if who == "" {
		who = "prospect " + tc.addr
	}
	return tc.kind + " " + who
}

// trafficRMs are the desks serving the traffic: the teams of its clients.
var trafficRMs = []string{"rm-pb-01", "rm-pb-02", "rm-pb-03", "rm-af-01", "rm-af-02", "rm-ma-01", "rm-ma-02", "rm-ms-01", "rm-ms-02"}

// trafficRuns numbers the traffic runs of the process: each run's
// prospects are new numbers (+8525559xxxx) and openids.
var trafficRuns atomic.Int64

// trafficClients returns the clients of one run: one per provider and
// customer, and a prospect on each provider.
func trafficClients() []trafficClient {
	n := (time.Now().Unix()/7)%300*10 + trafficRuns.Add(1)*3
	return []trafficClient{
		{kind: "twilio", addr: "+85255500001", customer: "cus-pb-0001"},
		{kind: "twilio", addr: "+442079460001", customer: "cus-pb-0002"},
		{kind: "smpp", addr: "+85255500003", customer: "cus-pb-0003"},
		{kind: "wechat-aes", addr: "o-demo-openid-pb-0005", customer: "cus-pb-0005"},
		{kind: "twilio", addr: "+85255500301", customer: "cus-af-0001"},
		{kind: "smpp", addr: "+85255500201", customer: "cus-ma-0001"},
		{kind: "wechat", addr: "o-demo-openid-ms-0001", customer: "cus-ms-0001"},
		{kind: "smpp", addr: "+85255500102", customer: "cus-ms-0002"},
		{kind: "twilio", addr: fmt.Sprintf("+8525559%04d", n%10000)},
		{kind: "smpp", addr: fmt.Sprintf("+8525559%04d", (n+1)%10000)},
		{kind: "wechat", addr: fmt.Sprintf("o-e2e-prospect-%d-%d", time.Now().Unix(), n)},
	}
}

// trafficMsg is one message a client sent.
type trafficMsg struct {
	client trafficClient
	text   string
	at     time.Time
	att    attempts
	resent bool // the provider delivered it again after its ack
}

// traffic is a running generator; Stop ends it.
type traffic struct {
	c       *cluster
	tag     string
	clients []trafficClient
	start   time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	seq     atomic.Int64
	mu      sync.Mutex
	msgs    []trafficMsg
	stuck   []string // conversations seen waiting past their timeouts
	stopped bool
}

// startTraffic starts every client writing one message each `every`
// (with jitter), each message's text unique; every fifth Twilio and
// WeChat message is delivered a second time after its ack (a provider
// that missed the answer). A watchdog lists the conversations every 10 s
// and records any left offered or waiting past the offer timeout.
func (c *cluster) startTraffic(t testing.TB, every time.Duration) *traffic {
	t.Helper()
	tr := &traffic{c: c, tag: fmt.Sprintf("t%d", time.Now().UnixNano()%1e9), clients: trafficClients(),
		start: time.Now(), stop: make(chan struct{})}
	tr.seq.Store(time.Now().UnixNano() / 1000 % 1e12 * 1000)
	for i, cl := range tr.clients {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			// Spread the clients over the period.
			first := time.Duration(i) * every / time.Duration(len(tr.clients))
			for wait := first; ; wait = every/2 + rand.N(every) {
				select {
				case <-tr.stop:
					return
				case <-time.After(wait):
				}
				if strings.HasPrefix(cl.kind, "wechat") {
					// A WeChat user who wrote allows the account 5 replies
					// (customer-service quota): like a person, the client
					// waits when 4 of its messages are still unanswered.
					tr.waitAnswered(cl, 4)
				}
				tr.sendOne(cl)
			}
		}()
	}
	tr.wg.Add(1)
	go func() { defer tr.wg.Done(); tr.watch() }()
	t.Cleanup(tr.Stop)
	return tr
}

// burst sends one message from every client at once (in the
// background, recorded as the others).
func (tr *traffic) burst() {
	for _, cl := range tr.clients {
		tr.wg.Add(1)
		go func() { defer tr.wg.Done(); tr.sendOne(cl) }()
	}
}

// waitAnswered waits (at most 60 s, or until the traffic stops) until
// fewer than max of cl's messages are without their reply on WeChat.
func (tr *traffic) waitAnswered(cl trafficClient, max int) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		answered := map[string]bool{}
		for _, r := range tr.c.wechat.sentTo(cl.addr) {
			answered[r] = true
		}
		pending := 0
		tr.mu.Lock()
		for _, m := range tr.msgs {
			if m.client.addr == cl.addr && !answered["re: "+m.text] {
				pending++
			}
		}
		tr.mu.Unlock()
		if pending < max {
			return
		}
		select {
		case <-tr.stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sendOne sends one message of cl and records it.
func (tr *traffic) sendOne(cl trafficClient) {
	n := tr.seq.Add(1)
	text := fmt.Sprintf("%s #%d from %s: balance?", tr.tag, n, cl.addr)
	m := trafficMsg{client: cl, text: text, at: time.Now()}
	id := fmt.Sprintf("%d", n)
	switch cl.kind {
	case "twilio":
		m.att = tr.c.sendTwilioSMS(cl.addr, text, "SMtr"+id)
		if m.att.Acked && n%5 == 0 {
			m.resent = true
			again := tr.c.sendTwilioSMS(cl.addr, text, "SMtr"+id)
			m.att.Statuses, m.att.Acked = append(m.att.Statuses, again.Statuses...), again.Acked
		}
	case "smpp":
		m.att = tr.c.sendSMPP(cl.addr, text)
	default:
		enc := cl.kind == "wechat-aes"
		m.att = tr.c.sendWeChat(cl.addr, id, text, enc)
		if m.att.Acked && n%5 == 0 {
			m.resent = true
			again := tr.c.sendWeChat(cl.addr, id, text, enc)
			m.att.Statuses, m.att.Acked = append(m.att.Statuses, again.Statuses...), again.Acked
		}
	}
	tr.mu.Lock()
	tr.msgs = append(tr.msgs, m)
	tr.mu.Unlock()
}

// watch records conversations waiting past their timeouts while the
// traffic runs: offered 30 s (the chat offer timeout) + 15 s, or queued
// 60 s with the desks of their teams available.
func (tr *traffic) watch() {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tr.stop:
			return
		case <-tick.C:
		}
		convs, err := tr.listConversations()
		if err != nil {
			continue // an instance going away: the next round lists again
		}
		now := time.Now()
		for _, cv := range convs {
			if why := overdue(cv, now); why != "" {
				tr.mu.Lock()
				tr.stuck = append(tr.stuck, fmt.Sprintf("%s (%s) %s", cv.ID, cv.CustomerID, why))
				tr.mu.Unlock()
			}
		}
	}
}

// overdue says why a conversation has waited longer than the product
// promises ("" when it has not).
func overdue(cv trafficConv, now time.Time) string {
	age := now.Sub(cv.UpdatedAt)
	switch cv.Status {
	case "offered":
		if age > 45*time.Second {
			return fmt.Sprintf("offered, unchanged for %s (offer timeout 30 s)", age.Round(time.Second))
		}
	case "new", "queued":
		if age > 60*time.Second {
			return fmt.Sprintf("%s, unchanged for %s with its team's desks available", cv.Status, age.Round(time.Second))
		}
	}
	return ""
}

// Stop ends the traffic and waits for the messages in flight (each
// until acknowledged or its provider gives up).
func (tr *traffic) Stop() {
	tr.mu.Lock()
	if tr.stopped {
		tr.mu.Unlock()
		return
	}
	tr.stopped = true
	tr.mu.Unlock()
	close(tr.stop)
	tr.wg.Wait()
}

// Messages returns the messages sent so far.
func (tr *traffic) Messages() []trafficMsg {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]trafficMsg(nil), tr.msgs...)
}

// SentSince returns the messages sent at or after since.
func (tr *traffic) SentSince(since time.Time) []trafficMsg {
	var out []trafficMsg
	for _, m := range tr.Messages() {
		if !m.at.Before(since) {
			out = append(out, m)
		}
	}
	return out
}

// Statuses counts what the providers saw, by provider kind and status
// (HTTP status, 0 for no answer; SMPP command_status, -1 for no answer).
func (tr *traffic) Statuses() map[string]map[int]int {
	out := map[string]map[int]int{}
	for _, m := range tr.Messages() {
		if out[m.client.kind] == nil {
			out[m.client.kind] = map[int]int{}
		}
		for _, s := range m.att.Statuses {
			out[m.client.kind][s]++
		}
	}
	return out
}

// trafficConv is a conversation as listed, with the fields the checks
// need.
type trafficConv struct {
	ID         string `json:"id"`
	CustomerID string `json:"customer_id"`
	Channel    string `json:"channel"`
	Account    string `json:"channel_account"`
	Address    struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	} `json:"address"`
	Status     string    `json:"status"`
	AssigneeID string    `json:"assignee_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Messages   []msg     `json:"messages"`
}

// client returns the traffic client a conversation is with, if any.
func (tr *traffic) client(cv trafficConv) (trafficClient, bool) {
	for _, cl := range tr.clients {
		if cl.channel() != cv.Channel || cl.addr != cv.Address.Value {
			continue
		}
		if cl.customer == "" || cl.customer == cv.CustomerID {
			return cl, true
		}
	}
	return trafficClient{}, false
}

// listConversations lists the traffic clients' conversations updated
// since the traffic started (every page, through the balancer).
func (tr *traffic) listConversations() ([]trafficConv, error) {
	adm := tr.admin()
	if adm == nil {
		return nil, fmt.Errorf("no admin token")
	}
	var out []trafficConv
	cursor := ""
	for range 100 {
		var page struct {
			Items      []trafficConv `json:"items"`
			NextCursor string        `json:"next_cursor"`
		}
		q := "/api/v1/conversations?limit=500"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := adm.get(q, &page); err != nil {
			return nil, err
		}
		for _, cv := range page.Items {
			if _, ok := tr.client(cv); ok && !cv.UpdatedAt.Before(tr.start.Add(-time.Second)) {
				out = append(out, cv)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return out, nil
		}
	}
	return out, fmt.Errorf("more than 100 pages of conversations")
}

var (
	trafficAdminMu  sync.Mutex
	trafficAdminTok *admin
)

// admin is an admin API client (its token minted once per process).
func (tr *traffic) admin() *admin {
	trafficAdminMu.Lock()
	defer trafficAdminMu.Unlock()
	if trafficAdminTok == nil {
		tok, err := tr.c.token("admin", "ops-e2e-traffic")
		if err != nil {
			return nil
		}
		trafficAdminTok = &admin{c: tr.c, token: tok}
	}
	return trafficAdminTok
}

// openTrafficDesks opens the desks of trafficRMs: auto-accepting,
// answering every message, and closing each conversation finishAfter
// after their last reply.
func (c *cluster) openTrafficDesks(t testing.TB, finishAfter time.Duration) map[string]*desk {
	t.Helper()
	desks := map[string]*desk{}
	for _, rm := range trafficRMs {
		d := c.openDesk(t, rm, true, true)
		d.autoFinish(finishAfter)
		desks[rm] = d
	}
	return desks
}

// statusTable formats Statuses for a log.
func statusTable(st map[string]map[int]int) string {
	var kinds []string
	for k := range st {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, k := range kinds {
		var codes []int
		for s := range st[k] {
			codes = append(codes, s)
		}
		sort.Ints(codes)
		fmt.Fprintf(&b, "%s:", k)
		for _, s := range codes {
			fmt.Fprintf(&b, " %d×%d", s, st[k][s])
		}
		b.WriteString("; ")
	}
	return b.String()
}
