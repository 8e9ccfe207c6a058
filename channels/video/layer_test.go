package video_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// TestLayerRequest: the RM publishes a camera in three simulcast layers
// (q, h, f); the specialist receives f, then asks with a `layer` request
// for q and receives only q; bad requests get bad_request or not_found
// and the connection stays.
func TestLayerRequest(t *testing.T) {
	e := newEnv(t, video.Config{})
	if err := e.srv.CreateRoom(video.RoomSpec{ID: "room-l", ConversationID: "conv-l", MaxParticipants: 3}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rm := e.dial(t, "rm-pb-01", e.token(t, "room-l", video.RoleRM, "rm-pb-01", time.Hour))
	spec := e.dial(t, "pm-01", e.token(t, "room-l", video.RoleSpecialist, "pm-01", time.Hour))
	for _, c := range []*client{rm, spec} {
		if f := c.request(ctx, video.TypeJoin, video.JoinRequest{}); f.Type != video.TypeAck {
			t.Fatalf("%s join: %s %s", c.name, f.Type, f.Data)
		}
	}
	var mu sync.Mutex
	var markers []byte
	spec.peer.Observe(func(key string, p *rtp.Packet) {
		if key == "rm-pb-01/cam" && len(p.Payload) > sfutest.LayerMarkerOffset {
			mu.Lock()
			markers = append(markers, p.Payload[sfutest.LayerMarkerOffset])
			mu.Unlock()
		}
	})
	last := func(n int, m byte) bool {
		mu.Lock()
		defer mu.Unlock()
		if len(markers) < n {
			return false
		}
		for _, b := range markers[len(markers)-n:] {
			if b != m {
				return false
			}
		}
		return true
	}
	if _, err := rm.peer.AddSimulcast("cam", "q", "h", "f"); err != nil {
		t.Fatal(err)
	}
	if err := rm.peer.Offer(false); err != nil {
		t.Fatal(err)
	}
	spec.publish()
	if err := spec.peer.WaitFor(ctx, "30 packets of f", func() bool { return last(30, 'f') }); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		data         any
		code         string
		status       int
		layersWanted string
	}{
		{video.LayerRequest{Track: "cam", RID: "q"}, "bad_request", 400, ""},
		{video.LayerRequest{Identity: "rm-pb-01", Track: "nope", RID: "q"}, "not_found", 404, ""},
		{video.LayerRequest{Identity: "rm-pb-01", Track: "cam", RID: "x"}, "bad_request", 400, ""},
		{video.LayerRequest{Identity: "rm-pb-01", Track: "cam", RID: "q"}, "", 0, "[q h f]"},
	} {
		f := spec.request(ctx, video.TypeLayer, c.data)
		if code, status := errorCode(f); code != c.code || status != c.status {
			t.Fatalf("layer %+v: %s %d %s, want %q %d", c.data, code, status, f.Data, c.code, c.status)
		}
		if c.code == "" {
			var ack video.LayerAck
			_ = json.Unmarshal(f.Data, &ack)
			if fmt.Sprint(ack.Layers) != c.layersWanted {
				t.Fatalf("layer ack %s, want layers %s", f.Data, c.layersWanted)
			}
		}
	}
	if err := spec.peer.WaitFor(ctx, "30 packets of q", func() bool { return last(30, 'q') }); err != nil {
		t.Fatal(err)
	}
}
