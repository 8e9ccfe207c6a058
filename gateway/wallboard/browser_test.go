package wallboard_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/stats"
	"github.com/airbranch/airbranch/gateway/wallboard"
)

// A private-bank supervisor opens the wallboard in headless Chromium after
// a morning of known figures (gateway.play): logs in with a pasted token,
// reads the private_bank row (offered, answered, SLA below its target,
// ASA, AHT, abandonment, occupancy), the segments and RMs by state, sees
// the charts, opens rm-pb-01's scorecard, keeps the figures when the
// gateway ends the stream (it reconnects), and logs out; an admin then
// sees the pilot and control teams side by side; refused tokens are
// refused in plain words.
func TestWallboardInChromium(t *testing.T) {
	exe := chromium(t)
	g := newGateway(t)
	g.play(t)
	b := newBrowser(t, exe)
	token := tokenFor(t, supPB)
	row := `#teams tr[data-team="private_bank"]`
	seg := `#segments tr[data-segment="private"]`

	b.do("open the wallboard",
		chromedp.Navigate(g.srv.URL+wallboard.Prefix),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	checkEventStreamParser(t, b)

	b.do("log in",
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="live"][data-streams="1"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if got := b.text("#whoami"); got != "sup-pb · supervisor of Private bank" {
		t.Errorf("whoami %q", got)
	}

	// The team's figures, formatted with their units. A team's SLA counts
	// each conversation against its segment's budget; when the figures
	// name the team's budget too, the page compares the SLA with it.
	sla, target, below := "50 %", "per segment", ""
	waiting := fmt.Sprint(teamFigures(t, g, "private_bank").Waiting) // conversations of the team's segment count for it
	if f := teamFigures(t, g, "private_bank"); f.BudgetPercent > 0 {
		sla, target, below = "50 %▼ below target", "80 % in 20 s", "true"
	}
	for _, tc := range []struct{ figure, want string }{
		{"waiting", waiting},
		{"offered", "4"},
		{"answered", "3"},
		{"sla", sla},
		{"target", target},
		{"asa", "12.3 s"},
		{"aht", "3 min 00 s"},
		{"abandoned", "1 (25 %)"},
		{"handled", "2"},
		{"occupancy", "25 %"},
	} {
		if got := b.text(row + ` td[data-figure="` + tc.figure + `"]`); got != tc.want {
			t.Errorf("private_bank %s: %q, want %q", tc.figure, got, tc.want)
		}
	}
	if got := eval[string](b, `document.querySelector('`+row+` td[data-figure="sla"]').dataset.belowTarget || ""`); got != below {
		t.Errorf("the SLA cell is marked below target %q, want %q", got, below)
	}
	if n := eval[int](b, `document.querySelectorAll("#teams tbody tr").length`); n != 1 {
		t.Errorf("the private-bank supervisor sees %d teams, want 1", n)
	}
	if got := b.text("#announcer"); !strings.Contains(got, "Private bank SLA 40 % is below its target of 80 % in 20 s.") {
		t.Errorf("announced %q, want the private segment below target", got)
	}
	if got := b.text(seg + ` td[data-figure="target"]`); got != "80 % in 20 s" {
		t.Errorf("private segment target %q, want 80 %% in 20 s", got)
	}
	if got := eval[string](b, `document.querySelector('`+seg+` td[data-figure="sla"]').dataset.belowTarget`); got != "true" {
		t.Errorf("the segment's SLA cell is marked below target %q, want true", got)
	}

	// The segments: the waiting conversation has no team yet, so it shows here.
	for _, tc := range []struct{ figure, want string }{
		{"waiting", "1"},
		{"longest_wait", "40 s"},
		{"offered", "5"},
		{"sla", "40 %▼ below target"},
		{"abandoned", "1 (20 %)"},
	} {
		if got := b.text(seg + ` td[data-figure="` + tc.figure + `"]`); got != tc.want {
			t.Errorf("private segment %s: %q, want %q", tc.figure, got, tc.want)
		}
	}
	if got := b.text(`#tiles [data-figure="waiting"] dd`); got != "1" {
		t.Errorf("waiting tile %q, want 1", got)
	}

	// RMs by state: rm-pb-01 is away, the two others offline.
	for state, want := range map[string]string{"available": "0", "busy": "0", "away": "1", "wrap_up": "0", "offline": "2"} {
		if got := b.text(`#rm-states tr[data-team="private_bank"] td[data-state="` + state + `"]`); got != want {
			t.Errorf("private_bank RMs %s: %q, want %q", state, got, want)
		}
	}

	// The charts: SLA bar below its target mark, waiting by segment, one point of history.
	b.do("see the charts",
		chromedp.WaitVisible(chromedp.CSS(`#sla-chart g[data-key="private_bank"] rect.bar`)),
		chromedp.WaitVisible(chromedp.CSS(`#waiting-chart g[data-key="private"] rect.bar`)),
		chromedp.WaitVisible(chromedp.CSS(`#history-chart[data-points="1"] circle.point.waiting`)),
	)
	wantChart := "SLA by team: Private bank 50 %."
	if below != "" {
		wantChart = "SLA by team: Private bank 50 %, target 80 %, below target."
		b.do("see the target", chromedp.WaitVisible(chromedp.CSS(`#sla-chart g[data-key="private_bank"] rect.bar.bad + line.target`)))
	}
	if got := eval[string](b, `document.querySelector("#sla-chart svg").getAttribute("aria-label")`); got != wantChart {
		t.Errorf("the SLA chart reads %q, want %q", got, wantChart)
	}
	if got := b.text("#comparison-empty"); !strings.Contains(got, "No team on this board is in a pilot or a control group") {
		t.Errorf("comparison note %q", got)
	}

	// A scorecard: rm-pb-01 from the team's RMs.
	rm := `#rms tr[data-rm="rm-pb-01"]`
	b.do("open a scorecard",
		chromedp.WaitVisible(chromedp.CSS(rm+` button`)),
		chromedp.Click(chromedp.CSS(rm+` button`)),
		chromedp.WaitVisible(chromedp.CSS(`#scorecard[data-rm="rm-pb-01"][data-state="ready"]`)),
	)
	if got := b.text(rm + ` td[data-figure="presence"]`); got != "Away (meeting)" {
		t.Errorf("rm-pb-01 presence %q", got)
	}
	if got := b.text(rm + ` td[data-figure="load"]`); got != "25 of 100 (25 %)" {
		t.Errorf("rm-pb-01 load %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll("#rms tbody tr").length`); n != 3 {
		t.Errorf("%d RMs listed, want the team's 3", n)
	}
	for _, tc := range []struct{ sel, want string }{
		{`#scorecard dd[data-figure="handled"]`, "2"},
		{`#scorecard dd[data-figure="aht"]`, "3 min 00 s"},
		{`#scorecard dd[data-figure="active"]`, "1"},
		{`#scorecard dd[data-figure="leads"]`, "1"},
		{`#scorecard dd[data-figure="satisfaction"]`, "not collected yet"},
		{`#dispositions tr[data-disposition="lead:mortgage"] td`, "1"},
		{`#dispositions tr[data-disposition="resolved"] td`, "1"},
	} {
		if got := b.text(tc.sel); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.sel, got, tc.want)
		}
	}
	// Half a minute later the gateway ends the stream (as it does every 5
	// minutes): the page opens another one, whose first board shows the
	// client waiting 30 s longer, and draws the history of both boards.
	g.waitOpenStreams(t, 1)
	g.clk.advance(30 * time.Second)
	g.endStreams()
	b.do("reconnect",
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="live"][data-streams="2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#history-chart[data-points="2"] polyline.line.waiting`)),
	)
	if got := b.text(seg + ` td[data-figure="longest_wait"]`); got != "1 min 10 s" {
		t.Errorf("private segment longest wait after the reconnect %q, want 1 min 10 s", got)
	}
	b.screenshot("wallboard-private-bank.png")

	// A shorter window: the page asks again from 8 hours before the
	// gateway's clock (not the browser's), and the morning is all in it.
	b.do("choose the last 8 hours",
		chromedp.SendKeys(chromedp.ID("window"), kb.ArrowUp),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="live"][data-streams="3"]`)),
	)
	reqs := g.streamRequests()
	if len(reqs) != 3 {
		t.Fatalf("%d stream requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.authorization != "Bearer "+token || strings.Contains(r.rawQuery, token) {
			t.Errorf("stream request %d: query %q, Authorization %q; want the token in the header only", i, r.rawQuery, r.authorization)
		}
	}
	if reqs[0].rawQuery != "" || reqs[1].rawQuery != "" {
		t.Errorf("stream queries %q, %q; want the gateway's default window", reqs[0].rawQuery, reqs[1].rawQuery)
	}
	q, err := url.ParseQuery(reqs[2].rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	since, err := time.Parse(time.RFC3339, q.Get("since"))
	if want := g.clk.now().Add(-8 * time.Hour); err != nil || since.Before(want.Add(-time.Minute)) || since.After(want.Add(time.Minute)) {
		t.Errorf("the last 8 hours asked since=%q (%v), want about %s", q.Get("since"), err, want.Format(time.RFC3339))
	}
	b.do("see the last 8 hours", chromedp.WaitVisible(chromedp.CSS(`#scope[data-since="`+since.UTC().Format(time.RFC3339Nano)+`"]`)))
	if got := b.text("#scope"); !strings.Contains(got, "(the last 8 hours)") {
		t.Errorf("scope %q, want the last 8 hours", got)
	}
	if got := b.text(row + ` td[data-figure="offered"]`); got != "4" {
		t.Errorf("private_bank offered in the last 8 hours %q, want 4", got)
	}
	if loc := eval[string](b, "location.href"); strings.Contains(loc, token) {
		t.Errorf("the token is in the page's URL %s", loc)
	}
	if got := eval[string](b, `sessionStorage.getItem("airbranch.wallboard.token")`); got != token {
		t.Errorf("sessionStorage holds %q, want the token", got)
	}
	if n := eval[int](b, "localStorage.length"); n != 0 {
		t.Errorf("localStorage holds %d items, want none", n)
	}

	// Log out: the stream closes, the token is forgotten, the figures go.
	b.do("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="logged_out"]`)),
	)
	g.waitOpenStreams(t, 0)
	if n := eval[int](b, "sessionStorage.length"); n != 0 {
		t.Errorf("sessionStorage holds %d items after logging out", n)
	}
	if n := eval[int](b, `document.querySelectorAll("#teams tbody tr, #rms tbody tr").length`); n != 0 {
		t.Errorf("%d rows of figures stay after logging out", n)
	}

	// An admin sees every team, and the pilot and control teams side by side.
	b.do("log in as an admin",
		chromedp.SendKeys(chromedp.ID("token"), tokenFor(t, admin)),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#comparison th[data-team="mass"][data-group="pilot"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#comparison th[data-team="mass_affluent"][data-group="control"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#comparison tr[data-figure="offered"] td[data-figure="offered_difference"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#teams tr[data-team="mass"][data-group="pilot"]`)),
	)
	if n := eval[int](b, `document.querySelectorAll("#teams tbody tr").length`); n < 2 {
		t.Errorf("the admin sees %d teams", n)
	}
	if got := b.text(`#comparison tr[data-figure="offered"] td[data-figure="offered_difference"]`); got != "±0" {
		t.Errorf("pilot − control offered %q, want ±0", got)
	}
	b.screenshot("wallboard-admin.png")
	b.do("log out again",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
	)

	// Until now the page reported no error at all, and nothing personal.
	checkConsole(t, b.consoleMessages(), false, token, "cus-pb-0001", "+85255500001")
	seen := len(b.consoleMessages())

	// Tokens that cannot open the wallboard: an RM's at once, a forged
	// supervisor's when the gateway refuses it.
	b.do("log in as an RM",
		chromedp.SendKeys(chromedp.ID("token"), tokenFor(t, rmPB01)),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#login-error[data-reason="role"]`)),
	)
	forged, err := auth.Issue([]byte("another-secret-of-at-least-32-bytes!!"), supPB, time.Hour, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b.do("log in with a forged token",
		chromedp.Navigate(g.srv.URL+wallboard.Prefix),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), forged),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="refused"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#login-error[data-reason="refused"]`)),
	)
	if got := b.text("#login-error"); !strings.Contains(got, "invalid or has expired") {
		t.Errorf("refusal %q, want plain words", got)
	}
	if n := eval[int](b, "sessionStorage.length"); n != 0 {
		t.Errorf("sessionStorage keeps a refused token")
	}
	// The API's 401 is the browser's network error; the page raised nothing.
	checkConsole(t, b.consoleMessages()[seen:], true, forged)

	// The Content-Security-Policy is in force: HTML sinks refuse strings.
	if !eval[bool](b, `(() => { try { document.createElement("p").innerHTML = "<b>x</b>"; return false } catch (e) { return e instanceof TypeError } })()`) {
		t.Error("the page accepted an HTML string: the Content-Security-Policy is not in force")
	}
}

// On an instance without figures the stream answers 503: the wallboard
// says so in plain words and keeps retrying with backoff, without logging
// the supervisor out.
func TestWallboardWithoutFigures(t *testing.T) {
	exe := chromium(t)
	g := newGatewayFigures(t, false)
	b := newBrowser(t, exe)
	token := tokenFor(t, supPB)
	b.do("log in",
		chromedp.Navigate(g.srv.URL+wallboard.Prefix),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="reconnecting"][data-streams="0"]`)),
		chromedp.WaitVisible(chromedp.ID("problem")),
	)
	if got := b.text("#problem"); !strings.Contains(got, "The figures are not available on the gateway right now.") || !strings.Contains(got, "keeps trying") {
		t.Errorf("problem %q, want plain words", got)
	}
	if got := b.text("#conn"); !strings.HasPrefix(got, "Not connected. Retrying in") {
		t.Errorf("connection %q, want the retry", got)
	}
	if !eval[bool](b, `!document.getElementById("board").hidden && document.getElementById("login").hidden`) {
		t.Error("a 503 logged the supervisor out")
	}
	// The second attempt follows the first after the backoff (0.5 to 1 s).
	g.waitStreamRequests(t, 2)
	checkConsole(t, b.consoleMessages(), true, token)
}

// checkEventStreamParser feeds the page's own event-stream reader
// (js/sse.js) chunks cut at awkward places: inside a field, between the
// CR and LF of a line end, with comments, a multi-line data field, an
// event without data and one without a type.
func checkEventStreamParser(t *testing.T, b *browser) {
	t.Helper()
	got := eval[[]map[string]string](b, `(async () => {
		const { EventStreamParser } = await import("./js/sse.js");
		const out = [];
		const p = new EventStreamParser((e) => out.push(e));
		for (const chunk of ["event: bo", "ard\r", "\ndata: {\"a\":", "1}\r\n\r", "\n: a comment\n\nevent: nothing\n\n",
			"data: one\ndata:two\nid: 7\n\n", "event: error\rdata: {}\r\r", ": the last CR ends a line once more text comes\n"]) p.push(chunk);
		return out;
	})()`, chromedp.EvalAwaitPromise)
	want := []map[string]string{
		{"type": "board", "data": `{"a":1}`, "id": ""},
		{"type": "message", "data": "one\ntwo", "id": "7"},
		{"type": "error", "data": "{}", "id": "7"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("event stream parser\n got %q\nwant %q", got, want)
	}
}

// checkConsole fails on an uncaught exception or an error in what the page
// wrote to the browser's console (network errors aside when allowed), and
// on any message showing one of private.
func checkConsole(t *testing.T, msgs []chromedp.ConsoleMessage, networkErrors bool, private ...string) {
	t.Helper()
	for _, m := range msgs {
		if m.IsException() || m.Type == chromedp.ConsoleError && !(networkErrors && m.Source == "network") {
			t.Errorf("the page reported %s (source %q)", m, m.Source)
		}
		for _, p := range private {
			if strings.Contains(m.Text, p) {
				t.Errorf("the browser console shows personal data: %s", fmt.Sprint(m))
			}
		}
	}
}

// teamFigures returns a team's figures as the API computes them now.
func teamFigures(t *testing.T, g *gateway, team string) stats.Figures {
	t.Helper()
	now := g.clk.now()
	board, err := g.stats.Board(context.Background(), now.Add(-24*time.Hour), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range board.Teams {
		if f.Key == team {
			return f
		}
	}
	t.Fatalf("no team %s on the board", team)
	return stats.Figures{}
}
