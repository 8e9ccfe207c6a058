package gateway

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/gateway/desk"
)

// deskClient is rm-pb-01's desk over /ws/desk with a Go WebSocket client:
// a reader goroutine hands every frame to frames; frames read while
// waiting for something else are kept, in order, in backlog.
type deskClient struct {
	t       *testing.T
	conn    *websocket.Conn
	frames  chan desk.Frame
	backlog []desk.Frame
	n       int
}

// dialDesk opens the desk of the demo RM on r and reads its welcome.
func dialDesk(t *testing.T, r *running) *deskClient {
	t.Helper()
	dial := websocket.Dialer{Subprotocols: []string{desk.Subprotocol, "bearer." + rmToken(t, testSecret, demoRM, demoRMTeam)}}
	conn, res, err := dial.Dial("ws"+strings.TrimPrefix(r.base, "http")+desk.Path, nil)
	if err != nil {
		t.Fatalf("dial desk: %v (%v)", err, res)
	}
	d := &deskClient{t: t, conn: conn, frames: make(chan desk.Frame, 256)}
	go func() {
		defer close(d.frames)
		for {
			var f desk.Frame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			d.frames <- f
		}
	}()
	t.Cleanup(func() { _ = conn.Close() })
	d.next("welcome", func(f desk.Frame) bool { return f.Type == desk.TypeWelcome })
	return d
}

// next returns the first frame, kept or to come within 20 s, that match
// accepts; the others stay kept.
func (d *deskClient) next(what string, match func(desk.Frame) bool) desk.Frame {
	d.t.Helper()
	for i, f := range d.backlog {
		if match(f) {
			d.backlog = append(d.backlog[:i:i], d.backlog[i+1:]...)
			return f
		}
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-d.frames:
			if !ok {
				d.t.Fatalf("the desk connection closed while waiting for %s", what)
			}
			if match(f) {
				return f
			}
			d.backlog = append(d.backlog, f)
		case <-timeout:
			d.t.Fatalf("no %s on the desk within 20 s; frames seen: %s", what, d.seen())
		}
	}
}

func (d *deskClient) seen() string {
	var b strings.Builder
	for _, f := range d.backlog {
		b.WriteString(f.Type + " " + string(f.Data) + "\n")
	}
	return b.String()
}

// request sends a request and returns its ack's data; an error frame
// fails the test.
func (d *deskClient) request(typ string, data any) json.RawMessage {
	d.t.Helper()
	f := d.try(typ, data)
	if f.Type != desk.TypeAck {
		d.t.Fatalf("%s: %s %s", typ, f.Type, f.Data)
	}
	return f.Data
}

// try sends a request and returns its answer (ack or error).
func (d *deskClient) try(typ string, data any) desk.Frame {
	d.t.Helper()
	d.n++
	id := "t" + strconv.Itoa(d.n)
	raw, _ := json.Marshal(data)
	if err := d.conn.WriteJSON(desk.Frame{V: desk.Version, Type: typ, ID: id, Data: raw}); err != nil {
		d.t.Fatalf("send %s: %v", typ, err)
	}
	return d.next("the answer to "+typ, func(f desk.Frame) bool {
		return f.ID == id && (f.Type == desk.TypeAck || f.Type == desk.TypeError)
	})
}

// call waits for the call event of conversation id in state.
func (d *deskClient) call(id, state string) desk.CallData {
	d.t.Helper()
	var got desk.CallData
	d.next("call "+state, func(f desk.Frame) bool {
		if f.Type != desk.EventCall {
			return false
		}
		var c desk.CallData
		if json.Unmarshal(f.Data, &c) != nil || string(c.ConversationID) != id || c.State != state {
			return false
		}
		got = c
		return true
	})
	return got
}

// offer waits for the offer of a conversation and returns its offer and
// conversation ids.
func (d *deskClient) offer() (offerID, convID string) {
	d.t.Helper()
	f := d.next("an offer", func(f desk.Frame) bool { return f.Type == desk.EventOffer })
	var o desk.OfferData
	if err := json.Unmarshal(f.Data, &o); err != nil {
		d.t.Fatal(err)
	}
	return string(o.Offer.ID), string(o.Conversation.ID)
}

// phoneOfferFrame waits for the gateway's phone.offer.
func (d *deskClient) phoneOffer() phoneOffer {
	d.t.Helper()
	f := d.next("phone.offer", func(f desk.Frame) bool { return f.Type == desk.TypePhoneOffer })
	var o phoneOffer
	if err := json.Unmarshal(f.Data, &o); err != nil {
		d.t.Fatal(err)
	}
	if f.Seq != 0 {
		d.t.Errorf("phone.offer has seq %d, want none (not a stream event)", f.Seq)
	}
	return o
}

// answerPhone answers the gateway's phone.offer po from peer, the
// browser's side: the offer set, an answer with every ICE candidate
// gathered (no trickle), sent as phone.answer.
func (d *deskClient) answerPhone(peer *webrtc.PeerConnection, po phoneOffer) {
	d.t.Helper()
	if err := peer.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: po.SDP}); err != nil {
		d.t.Fatal(err)
	}
	answer, err := peer.CreateAnswer(nil)
	if err != nil {
		d.t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(peer)
	if err := peer.SetLocalDescription(answer); err != nil {
		d.t.Fatal(err)
	}
	<-gathered
	d.request(desk.TypePhoneAnswer, map[string]string{"call_id": po.CallID, "sdp": peer.LocalDescription().SDP})
}
