package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frame is one /ws/desk frame (docs/desk-protocol.md).
type frame struct {
	V    int             `json:"v,omitempty"`
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// offerSeen is an offer the desk received.
type offerSeen struct {
	OfferID, ConversationID, Channel, CustomerID string
	At                                           time.Time
}

// desk is an RM working from a /ws/desk client through the balancer (so
// on either instance), as the browser console does: it sets the RM
// available, accepts every offer when autoAccept is on, answers every
// inbound message with "re: " and its text when autoReply is on, and
// reconnects with ?after= when its instance goes away.
type desk struct {
	rm, token, url string
	autoAccept     bool
	autoReply      bool
	// finishAfter, when set (autoFinish), wraps up and closes a
	// conversation that long after the desk's last reply on it, unless
	// the client wrote again meanwhile.
	finishAfter time.Duration
	// holdFor lists customers whose offers the desk takes but never
	// accepts (an RM away from the screen), autoAccept notwithstanding.
	holdFor map[string]bool

	mu       sync.Mutex
	conn     *websocket.Conn
	wmu      sync.Mutex
	pending  map[string]chan frame
	nextID   int
	lastSeq  int64
	offers   []offerSeen
	inbound  map[string][]string // conversation id → inbound texts, in order
	seen     map[string]bool     // inbound message ids taken
	replies  map[string][]string // conversation id → texts the desk sent
	finishes map[string]int      // conversation id → generation of its pending auto-finish
	ending   map[string]bool     // conversations being auto-finished
	replying map[string]int      // conversation id → replies in flight
	finished []string            // conversations auto-finished
	frames   []frame
	changed  chan struct{}
	closed   bool
	reconns  int
	errs     []string
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// openDesk connects rm's desk and sets them available.
func (c *cluster) openDesk(t testing.TB, rm string, autoAccept, autoReply bool) *desk {
	t.Helper()
	tok, err := c.token("rm", rm)
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{rm: rm, token: tok, url: strings.Replace(c.URL(), "http://", "ws://", 1) + "/ws/desk",
		autoAccept: autoAccept, autoReply: autoReply, pending: map[string]chan frame{},
		inbound: map[string][]string{}, seen: map[string]bool{}, replies: map[string][]string{}, replying: map[string]int{}, changed: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := d.dial(); err != nil {
		t.Fatalf("desk %s: %v", rm, err)
	}
	go d.run()
	t.Cleanup(d.Close)
	if _, err := d.request("presence", map[string]any{"state": "available"}); err != nil {
		t.Fatalf("desk %s: presence: %v", rm, err)
	}
	return d
}

func (d *desk) dial() error {
	u := d.url
	d.mu.Lock()
	if d.lastSeq > 0 {
		u += "?after=" + strconv.FormatInt(d.lastSeq, 10)
	}
	d.mu.Unlock()
	h := http.Header{"Authorization": {"Bearer " + d.token}}
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Subprotocols: []string{"airbranch.desk.v1"}}
	conn, res, err := dialer.Dial(u, h)
	if err != nil {
		if res != nil {
			return fmt.Errorf("dial %s: %w (HTTP %d)", u, err, res.StatusCode)
		}
		return fmt.Errorf("dial %s: %w", u, err)
	}
	d.mu.Lock()
	d.conn = conn
	d.mu.Unlock()
	return nil
}

// run reads frames, reconnecting (with after=) when the connection ends,
// until Close.
func (d *desk) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		conn := d.conn
		d.mu.Unlock()
		for {
			var f frame
			if err := conn.ReadJSON(&f); err != nil {
				break
			}
			d.handle(f)
		}
		d.mu.Lock()
		for id, ch := range d.pending { // requests in flight on the lost connection fail
			close(ch)
			delete(d.pending, id)
		}
		d.mu.Unlock()
		for {
			select {
			case <-d.stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if err := d.dial(); err == nil {
				d.mu.Lock()
				d.reconns++
				d.mu.Unlock()
				break
			}
		}
	}
}

func (d *desk) handle(f frame) {
	d.mu.Lock()
	if f.Seq > d.lastSeq {
		d.lastSeq = f.Seq
	}
	d.frames = append(d.frames, f)
	if ch, ok := d.pending[f.ID]; ok && f.ID != "" && (f.Type == "ack" || f.Type == "error") {
		delete(d.pending, f.ID)
		ch <- f
	}
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()

	switch f.Type {
	case "offer":
		var o struct {
			Offer struct {
				ID string `json:"id"`
			} `json:"offer"`
			Conversation struct {
				ID         string `json:"id"`
				Channel    string `json:"channel"`
				CustomerID string `json:"customer_id"`
			} `json:"conversation"`
		}
		_ = json.Unmarshal(f.Data, &o)
		d.mu.Lock()
		d.offers = append(d.offers, offerSeen{OfferID: o.Offer.ID, ConversationID: o.Conversation.ID,
			Channel: o.Conversation.Channel, CustomerID: o.Conversation.CustomerID, At: time.Now()})
		d.mu.Unlock()
		d.mu.Lock()
		held := d.holdFor[o.Conversation.CustomerID]
		d.mu.Unlock()
		if d.autoAccept && !held {
			go func() {
				if _, err := d.request("accept", map[string]any{"offer_id": o.Offer.ID}); err != nil && !d.assignedToMe(o.Conversation.ID) {
					d.note("accept %s: %v", o.Offer.ID, err)
					return
				}
				if d.autoReply { // what the client wrote before the accept is read from the conversation
					d.replyToHistory(o.Conversation.ID)
				}
			}()
		}
	case "message":
		var m struct {
			Message msg `json:"message"`
		}
		_ = json.Unmarshal(f.Data, &m)
		var cid struct {
			Message struct {
				ConversationID string `json:"conversation_id"`
			} `json:"message"`
		}
		_ = json.Unmarshal(f.Data, &cid)
		if m.Message.Direction != "inbound" {
			return
		}
		d.inboundMessage(cid.Message.ConversationID, m.Message)
	}
}

// inboundMessage records an inbound message once (by id) and answers it
// when autoReply is on.
func (d *desk) inboundMessage(conversationID string, m msg) {
	d.mu.Lock()
	if d.seen[m.ID] {
		d.mu.Unlock()
		return
	}
	d.seen[m.ID] = true
	d.inbound[conversationID] = append(d.inbound[conversationID], m.Text)
	if d.finishes != nil {
		d.finishes[conversationID]++ // the client wrote again: a pending finish waits
	}
	reply := d.autoReply && m.Text != ""
	if reply {
		d.replying[conversationID]++
	}
	d.mu.Unlock()
	if reply {
		go func() {
			err := d.send(conversationID, "re: "+m.Text)
			d.mu.Lock()
			d.replying[conversationID]--
			d.mu.Unlock()
			if err != nil {
				d.note("reply on %s: %v", conversationID, err)
				return
			}
			d.scheduleFinish(conversationID)
		}()
	}
}

// autoFinish makes the desk wrap up and close each conversation after
// seconds without a new client message following its last reply.
func (d *desk) autoFinish(after time.Duration) {
	d.mu.Lock()
	d.finishAfter, d.finishes, d.ending = after, map[string]int{}, map[string]bool{}
	d.mu.Unlock()
}

// hold makes the desk leave the offers of customer's conversations
// unanswered.
func (d *desk) hold(customer string) {
	d.mu.Lock()
	if d.holdFor == nil {
		d.holdFor = map[string]bool{}
	}
	d.holdFor[customer] = true
	d.mu.Unlock()
}

// scheduleFinish arms the auto-finish of a conversation just replied on.
func (d *desk) scheduleFinish(conversationID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finishAfter <= 0 || d.ending[conversationID] {
		return
	}
	d.finishes[conversationID]++
	gen := d.finishes[conversationID]
	time.AfterFunc(d.finishAfter, func() {
		d.mu.Lock()
		stale := d.finishes[conversationID] != gen || d.closed || d.ending[conversationID]
		if !stale {
			d.ending[conversationID] = true
		}
		d.mu.Unlock()
		if stale {
			return
		}
		// Wrap up first (the client's next message opens a new
		// conversation), answer what arrived meanwhile, then close.
		failed := func(err error) { // a retryable failure (e.g. the store away) is tried again
			d.note("auto-finish %s: %v", conversationID, err)
			d.mu.Lock()
			d.ending[conversationID] = false
			d.mu.Unlock()
			if !strings.Contains(err.Error(), "illegal_transition") && !strings.Contains(err.Error(), "not_found") && !strings.Contains(err.Error(), "forbidden") {
				d.scheduleFinish(conversationID)
			}
		}
		if _, err := d.request("wrap_up", map[string]any{"conversation_id": conversationID}); err != nil && !strings.Contains(err.Error(), "illegal_transition") {
			failed(err)
			return
		}
		d.replyToHistory(conversationID)
		for deadline := time.Now().Add(25 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			d.mu.Lock()
			n := d.replying[conversationID]
			d.mu.Unlock()
			if n == 0 {
				break
			}
		}
		if err := d.finish(conversationID); err != nil {
			failed(err)
			return
		}
		d.mu.Lock()
		d.finished = append(d.finished, conversationID)
		d.mu.Unlock()
	})
}

// Replies returns the texts the desk sent, by conversation.
func (d *desk) Replies() map[string][]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string][]string, len(d.replies))
	for id, r := range d.replies {
		out[id] = append([]string(nil), r...)
	}
	return out
}

// replyToHistory reads a conversation the RM just accepted with the RM's
// token, as the console does, and takes its inbound messages.
func (d *desk) replyToHistory(conversationID string) {
	base := strings.Replace(strings.TrimSuffix(d.url, "/ws/desk"), "ws://", "http://", 1)
	code, body, err := api("GET", base, "/api/v1/conversations/"+conversationID, d.token, nil)
	if err != nil || code != http.StatusOK {
		d.note("read %s: %d %v", conversationID, code, err)
		return
	}
	raw, _ := json.Marshal(body["messages"])
	var msgs []msg
	_ = json.Unmarshal(raw, &msgs)
	for _, m := range msgs {
		if m.Direction == "inbound" {
			d.inboundMessage(conversationID, m)
		}
	}
}

func (d *desk) note(format string, args ...any) {
	d.mu.Lock()
	d.errs = append(d.errs, fmt.Sprintf(format, args...))
	d.mu.Unlock()
}

// errUnanswered is a request whose connection ended before its answer.
var errUnanswered = errors.New("connection ended before the answer")

// request sends a desk request and waits (15 s) for its ack, returning
// the ack's data; an error frame is returned as an error with its code.
func (d *desk) request(typ string, data any) (json.RawMessage, error) {
	raw, _ := json.Marshal(data)
	d.mu.Lock()
	d.nextID++
	id := "e2e-" + strconv.Itoa(d.nextID)
	ch := make(chan frame, 1)
	d.pending[id] = ch
	conn := d.conn
	d.mu.Unlock()
	d.wmu.Lock()
	err := conn.WriteJSON(frame{V: 1, Type: typ, ID: id, Data: raw})
	d.wmu.Unlock()
	if err != nil {
		d.mu.Lock()
		delete(d.pending, id)
		d.mu.Unlock()
		return nil, err
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, errUnanswered
		}
		if f.Type == "error" {
			var e struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(f.Data, &e)
			return nil, fmt.Errorf("%s: %s", e.Code, e.Message)
		}
		return f.Data, nil
	case <-time.After(15 * time.Second):
		return nil, fmt.Errorf("%s: no answer in 15 s", typ)
	}
}

// send writes text to the client on the conversation's own channel,
// retrying (up to 20 s) a request lost with its connection.
func (d *desk) send(conversationID, text string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := d.request("send", map[string]any{"conversation_id": conversationID, "text": text})
		if err == nil {
			d.mu.Lock()
			d.replies[conversationID] = append(d.replies[conversationID], text)
			d.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) || (!errors.Is(err, errUnanswered) && !strings.Contains(err.Error(), "unavailable") && !strings.Contains(err.Error(), "no answer")) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
		if d.stored(conversationID, text) { // the lost request was carried out: not again
			d.mu.Lock()
			d.replies[conversationID] = append(d.replies[conversationID], text)
			d.mu.Unlock()
			return nil
		}
	}
}

// assignedToMe reports whether the conversation is active with the RM:
// an accept whose answer was lost with its instance may have been
// carried out.
func (d *desk) assignedToMe(conversationID string) bool {
	base := strings.Replace(strings.TrimSuffix(d.url, "/ws/desk"), "ws://", "http://", 1)
	for range 3 {
		code, body, err := api("GET", base, "/api/v1/conversations/"+conversationID, d.token, nil)
		if err == nil && code == http.StatusOK {
			return body["status"] == "active" && body["assignee_id"] == d.rm
		}
		time.Sleep(time.Second)
	}
	return false
}

// stored reports whether the conversation holds an outbound message
// with text (read with the RM's token, as the console reloads it).
func (d *desk) stored(conversationID, text string) bool {
	base := strings.Replace(strings.TrimSuffix(d.url, "/ws/desk"), "ws://", "http://", 1)
	code, body, err := api("GET", base, "/api/v1/conversations/"+conversationID, d.token, nil)
	if err != nil || code != http.StatusOK {
		return false
	}
	raw, _ := json.Marshal(body["messages"])
	var msgs []msg
	_ = json.Unmarshal(raw, &msgs)
	for _, m := range msgs {
		if m.Direction == "outbound" && m.Text == text {
			return true
		}
	}
	return false
}

// Offers returns the offers received so far.
func (d *desk) Offers() []offerSeen {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]offerSeen(nil), d.offers...)
}

// Errors returns what went wrong in automatic accepts and replies.
func (d *desk) Errors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.errs...)
}

// waitOffer waits for an offer of a conversation of customer.
func (d *desk) waitOffer(ctx context.Context, customer string) (offerSeen, error) {
	for {
		d.mu.Lock()
		for _, o := range d.offers {
			if o.CustomerID == customer {
				d.mu.Unlock()
				return o, nil
			}
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			return offerSeen{}, fmt.Errorf("desk %s: no offer for %s: %w", d.rm, customer, ctx.Err())
		case <-ch:
		}
	}
}

// Close disconnects the desk and sets the RM offline first.
func (d *desk) Close() {
	d.stopOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		_, _ = d.request("presence", map[string]any{"state": "offline"})
		close(d.stop)
		d.mu.Lock()
		conn := d.conn
		d.mu.Unlock()
		_ = conn.Close()
		<-d.done
	})
}

// finish wraps up and closes a conversation of the RM's ("resolved").
func (d *desk) finish(conversationID string) error {
	if _, err := d.request("wrap_up", map[string]any{"conversation_id": conversationID}); err != nil && !strings.Contains(err.Error(), "illegal_transition") {
		return fmt.Errorf("wrap_up %s: %w", conversationID, err)
	}
	if _, err := d.request("close", map[string]any{"conversation_id": conversationID, "disposition": "resolved"}); err != nil {
		return fmt.Errorf("close %s: %w", conversationID, err)
	}
	return nil
}

// accept accepts one offer.
func (d *desk) accept(offerID string) error {
	_, err := d.request("accept", map[string]any{"offer_id": offerID})
	return err
}
