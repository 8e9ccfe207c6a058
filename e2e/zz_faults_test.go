package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The fault tests run after the others (this file's name sorts last but
// for the soak's): they kill an instance and restart Redis under traffic,
// and leave the cluster as they found it.

// faultPin routes the desk WebSockets of the given RMs to a chosen
// instance (by the subject of their bearer token), everything else round
// robin; a dead choice falls back to round robin, as a reconnect after a
// crash does. It returns the function that removes the pinning.
func faultPin(c *cluster, pins map[string]*instance) func() {
	f := func(r *http.Request) *instance {
		if r.URL.Path != "/ws/desk" {
			return nil
		}
		return pins[faultSubject(r.Header.Get("Authorization"))]
	}
	c.lb.pick.Store(&f)
	return func() { c.lb.pick.Store(nil) }
}

// faultSubject is the "sub" claim of a bearer JWT ("" if unreadable).
func faultSubject(authorization string) string {
	parts := strings.Split(strings.TrimPrefix(authorization, "Bearer "), ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	_ = json.Unmarshal(raw, &claims)
	return claims.Sub
}

// faultTwilioVia posts a signed Twilio inbound SMS webhook straight to
// one instance (signed for the public URL, as Twilio signs it), once, and
// returns the HTTP status (0 when there was no answer).
func faultTwilioVia(c *cluster, in *instance, from, text, sid string) int {
	path := "/webhooks/sms/twilio/" + url.PathEscape(twilioAccount)
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {twilioSID},
		"From": {from}, "To": {twilioAccount}, "Body": {text}, "NumMedia": {"0"}, "NumSegments": {"1"}}
	req, _ := http.NewRequest(http.MethodPost, in.Base()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSignature(twilioToken, c.URL()+path, form))
	res, err := httpClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// faultLatest returns the customer's newest conversation on channel
// created at or after since.
func faultLatest(adm *admin, customer, channel string, since time.Time) (conv, error) {
	list, err := adm.conversations(customer)
	if err != nil {
		return conv{}, err
	}
	for _, cv := range list {
		if cv.Channel == channel && !cv.CreatedAt.Before(since.Add(-time.Second)) {
			return cv, nil
		}
	}
	return conv{}, fmt.Errorf("no %s conversation of %s since %s", channel, customer, since.Format(time.TimeOnly))
}

// faultProviderStatuses returns what the providers saw other than
// acknowledgements and retryable failures (5xx, no answer; for SMPP any
// command_status, which an SMSC retries).
func faultProviderStatuses(tr *traffic) []string {
	var out []string
	for _, m := range tr.Messages() {
		if m.client.kind == "smpp" {
			continue
		}
		for _, s := range m.att.Statuses {
			if s != 0 && s != 200 && s < 500 {
				out = append(out, fmt.Sprintf("%s: %q got %d (statuses %v)", m.client.name(), m.text, s, m.att.Statuses))
			}
		}
	}
	return out
}

// TestKillAnInstance: with traffic running, instance A is killed
// (SIGKILL). A conversation offered to an RM whose desk was on A returns
// to the queue when the offer lapses and is served through B within the
// chat offer timeout (30 s) plus a margin; a call A held is ended as lost
// within the instance lease; the desks reconnect through the balancer;
// the providers see only 5xx and connection errors; nothing acknowledged
// is lost or doubled. A is then started again and serves.
func TestKillAnInstance(t *testing.T) {
	c := need(t)
	adm := c.admin(t)
	defer func() {
		if !c.a.Running() {
			if err := c.a.Start(); err != nil {
				t.Errorf("restart A: %v", err)
			}
		}
	}()
	// Half the desks work on A, the probe's RM among them.
	pins := map[string]*instance{}
	for i, rm := range trafficRMs {
		pins[rm] = c.instances()[i%2]
	}
	const probeRM, probeCustomer, probePhone = "rm-pb-01", "cus-pb-0004", "+442079460004"
	if pins[probeRM] != c.a {
		t.Fatalf("%s's desk must be on A", probeRM)
	}
	defer faultPin(c, pins)()
	desks := c.openTrafficDesks(t, 3*time.Second)
	desks[probeRM].hold(probeCustomer)
	tr := c.startTraffic(t, 4*time.Second)

	// A call held by A: a small-business client, whose team has no desk
	// open, waits on A's media.
	voiceSkip := ""
	if _, err := os.Stat("../gateway/voice_reaper.go"); err != nil {
		voiceSkip = "the gateway does not reap a lost instance's calls yet (no gateway/voice_reaper.go)"
	}
	var callConv conv
	if voiceSkip == "" {
		trunk := newFaultTrunk(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		callStart := time.Now()
		call, err := trunk.call(ctx, c.a.SIPAddr(), "+85255500401")
		cancel()
		if err != nil {
			t.Fatalf("call to A: %v", err)
		}
		defer call.Close()
		eventually(t, 15*time.Second, "the call's conversation", func() (err error) {
			callConv, err = faultLatest(adm, "cus-sb-0001", "voice", callStart)
			return err
		})
		t.Logf("call held by A: conversation %s, %s", callConv.ID, callConv.Status)
	}

	// A chat offered to an RM whose desk is on A, not accepted.
	probeAt := time.Now()
	probeText := fmt.Sprintf("kill probe %d: please call me", probeAt.UnixNano())
	if a := c.sendTwilioSMS(probePhone, probeText, fmt.Sprintf("SMkill%d", probeAt.UnixNano())); !a.Acked {
		t.Fatalf("probe not acknowledged: %v", a.Statuses)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	offer, err := desks[probeRM].waitOffer(ctx, probeCustomer)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			d, _ := adm.decisions(offer.ConversationID)
			t.Logf("probe %s decisions: %q", offer.ConversationID, d)
		}
	}()
	time.Sleep(5 * time.Second)

	// Kill A while a burst of messages is being taken, offered and
	// accepted.
	tr.burst()
	tr.burst()
	time.Sleep(40 * time.Millisecond)
	killAt := time.Now()
	c.a.Kill()
	after, _ := tr.listConversations()
	var waiting []string
	for _, cv := range after {
		if cv.Status == "offered" || cv.Status == "queued" || cv.Status == "new" {
			waiting = append(waiting, cv.ID)
		}
	}
	t.Logf("killed A %s after the probe's offer to %s; %d traffic conversations waiting just after", killAt.Sub(offer.At).Round(time.Millisecond), probeRM, len(waiting))

	// The probe: back to the queue when the offer lapses, served by
	// another RM of the policy through B.
	servedBy := offer.At.Add(30*time.Second + 15*time.Second)
	var probeConv conv
	eventually(t, time.Until(servedBy), "the probe served after its offer lapsed", func() error {
		cv, err := adm.conversation(offer.ConversationID)
		if err != nil {
			return err
		}
		if cv.AssigneeID == "" || cv.AssigneeID == probeRM || (cv.Status != "active" && cv.Status != "wrap_up" && cv.Status != "closed") {
			return fmt.Errorf("%s, assignee %q", cv.Status, cv.AssigneeID)
		}
		probeConv = cv
		return nil
	})
	t.Logf("probe served by %s %s after the kill", probeConv.AssigneeID, time.Since(killAt).Round(100*time.Millisecond))
	eventually(t, 30*time.Second, "the probe answered once on SMS", func() error {
		return once(c.twilio.sentTo(probePhone, twilioAccount), "re: "+probeText)
	})
	if d, _ := adm.decisions(offer.ConversationID); len(d) > 0 {
		t.Logf("probe decisions: %q", d)
	}

	// The traffic conversations waiting at the kill: served.
	for _, id := range waiting {
		eventually(t, time.Until(killAt.Add(45*time.Second)), "conversation "+id+" waiting at the kill served", func() error {
			cv, err := adm.conversation(id)
			if err != nil {
				return err
			}
			if !slices.Contains([]string{"active", "wrap_up", "closed"}, cv.Status) {
				return fmt.Errorf("%s", cv.Status)
			}
			return nil
		})
	}

	// The call: ended as lost within the lease (10 s, renewed every 2 s).
	if voiceSkip != "" {
		t.Logf("voice part skipped: %s", voiceSkip)
	} else {
		// Ended within the lease: 10 s after A's last renewal (every
		// 2 s), found at a renewal of B's, plus a margin.
		var ended struct {
			Status    string    `json:"status"`
			EndedAt   time.Time `json:"ended_at"`
			UpdatedAt time.Time `json:"updated_at"`
		}
		eventually(t, time.Until(killAt.Add(20*time.Second)), "the call held by A ended", func() error {
			if err := adm.get("/api/v1/conversations/"+callConv.ID, &ended); err != nil {
				return err
			}
			if !slices.Contains([]string{"abandoned", "wrap_up", "closed"}, ended.Status) {
				return fmt.Errorf("still %s", ended.Status)
			}
			return nil
		})
		at := ended.EndedAt
		if at.IsZero() {
			at = ended.UpdatedAt
		}
		if took := at.Sub(killAt); took > 20*time.Second {
			t.Errorf("the call held by A ended (%s) %s after the kill, beyond the instance lease (10 s + 2 s) and margin", ended.Status, took.Round(100*time.Millisecond))
		} else {
			t.Logf("the call held by A ended (%s) %s after the kill", ended.Status, took.Round(100*time.Millisecond))
		}
	}

	// Desks that were on A are back, through the balancer.
	for rm, d := range desks {
		if pins[rm] != c.a {
			continue
		}
		if _, err := d.request("presence", map[string]any{"state": "available"}); err != nil {
			t.Errorf("desk %s after the kill: %v", rm, err)
		}
		d.mu.Lock()
		n := d.reconns
		d.mu.Unlock()
		if n == 0 {
			t.Errorf("desk %s, on A, never reconnected", rm)
		}
	}

	// A serves again after a restart.
	time.Sleep(10 * time.Second)
	if err := c.a.Start(); err != nil {
		t.Fatalf("restart A: %v", err)
	}
	restartAt := time.Now()
	text := fmt.Sprintf("after restart %d: hello A", restartAt.UnixNano())
	prospect := fmt.Sprintf("+85255599%03d", restartAt.Unix()%1000) // a new client: the mass team serves them
	if code := faultTwilioVia(c, c.a, prospect, text, fmt.Sprintf("SMre%d", restartAt.UnixNano())); code != http.StatusOK {
		t.Fatalf("webhook to the restarted A: %d", code)
	}
	eventually(t, 30*time.Second, "the restarted A's message answered", func() error {
		return once(c.twilio.sentTo(prospect, twilioAccount), "re: "+text)
	})
	time.Sleep(10 * time.Second)

	sum := trafficCheck(t, tr, desks)
	t.Logf("traffic: %s; provider statuses: %s", sum, statusTable(tr.Statuses()))
	for _, p := range faultProviderStatuses(tr) {
		t.Error(p)
	}
	faultCloseProbe(t, adm, desks, probeCustomer)
	for rm, d := range desks {
		if errs := d.Errors(); len(errs) > 0 {
			t.Logf("desk %s (errors expected around the kill): %v", rm, errs)
		}
	}
}

// faultCloseProbe waits until the customer's conversations are closed
// (the desk finishes them), finishing any left.
func faultCloseProbe(t *testing.T, adm *admin, desks map[string]*desk, customer string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := adm.conversations(customer)
		if err != nil {
			t.Fatal(err)
		}
		var open []conv
		for _, cv := range list {
			if cv.Status != "closed" && cv.Status != "abandoned" {
				open = append(open, cv)
			}
		}
		if len(open) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, cv := range open {
				if d := desks[cv.AssigneeID]; d != nil {
					_ = d.finish(cv.ID)
				}
			}
			t.Errorf("conversations of %s left open: %v", customer, open)
			return
		}
		time.Sleep(time.Second)
	}
}

// TestRedisRestartUnderLoad: with traffic running, Redis stops for about
// 5 s and starts again. Meanwhile webhooks are answered 503 (the
// providers retry), an INVITE gets 503 with Retry-After and /readyz 503;
// then both instances recover without a restart: ready again, new
// messages routed and answered, nothing acknowledged lost or doubled.
func TestRedisRestartUnderLoad(t *testing.T) {
	c := need(t)
	desks := c.openTrafficDesks(t, 3*time.Second)
	tr := c.startTraffic(t, 3*time.Second)
	time.Sleep(10 * time.Second)

	if err := c.redis.Stop(); err != nil {
		t.Fatalf("stop redis: %v", err)
	}
	downAt := time.Now()
	restarted := false
	defer func() {
		if !restarted {
			_ = c.redis.start()
		}
	}()
	trunk := newFaultTrunk(t)
	var sipProblems []string
	for _, in := range c.instances() {
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		res, err := trunk.finalAnswer(ctx, in.SIPAddr(), "+85255500501")
		cancel()
		switch {
		case err != nil:
			sipProblems = append(sipProblems, fmt.Sprintf("INVITE to %s with Redis down: %v", in.name, err))
		case res.StatusCode != 503:
			sipProblems = append(sipProblems, fmt.Sprintf("INVITE to %s with Redis down: %d %s, want 503", in.name, res.StatusCode, res.Reason))
		case res.GetHeader("Retry-After") == nil:
			sipProblems = append(sipProblems, fmt.Sprintf("INVITE to %s with Redis down: 503 without Retry-After", in.name))
		default:
			t.Logf("INVITE to %s with Redis down: %d %s, Retry-After: %s", in.name, res.StatusCode, res.Reason, res.GetHeader("Retry-After").Value())
		}
		if in.Ready() {
			sipProblems = append(sipProblems, fmt.Sprintf("%s: /readyz 200 with Redis down", in.name))
		}
	}
	if rest := 5*time.Second - time.Since(downAt); rest > 0 {
		time.Sleep(rest)
	}
	if err := c.redis.start(); err != nil {
		t.Fatalf("start redis: %v", err)
	}
	restarted = true
	upAt := time.Now()
	t.Logf("Redis down for %s", upAt.Sub(downAt).Round(100*time.Millisecond))
	for _, p := range sipProblems {
		t.Error(p)
	}
	for _, in := range c.instances() {
		eventually(t, 30*time.Second, in.name+" ready again without a restart", func() error {
			if !in.Ready() {
				return fmt.Errorf("/readyz not 200")
			}
			return nil
		})
	}
	time.Sleep(25 * time.Second)
	sum := trafficCheck(t, tr, desks)
	t.Logf("traffic: %s; provider statuses: %s", sum, statusTable(tr.Statuses()))
	st := tr.Statuses()
	if st["twilio"][503]+st["wechat"][503]+st["wechat-aes"][503] == 0 {
		t.Errorf("no webhook was answered 503 while Redis was down (statuses %s)", statusTable(st))
	}
	after := 0
	for _, m := range tr.SentSince(upAt.Add(5 * time.Second)) {
		if m.att.Acked {
			after++
		}
	}
	if after < 10 {
		t.Errorf("only %d messages acknowledged after Redis came back", after)
	}
	for _, p := range faultProviderStatuses(tr) {
		t.Error(p)
	}
}
