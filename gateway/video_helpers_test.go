package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/channels/video/videotest"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// videoClient is a pion participant of a gateway's room
// (videotest.Client) with the in-room chat channel it opens on publish.
type videoClient struct {
	*videotest.Client
	t     *testing.T
	name  string
	peer  *sfutest.Peer
	chats chan video.ChatOut
	dc    *webrtc.DataChannel
}

// dialVideo connects to base's /ws/video with token.
func dialVideo(t *testing.T, base, name, token string) *videoClient {
	t.Helper()
	c := videotest.Dial(t, "ws"+strings.TrimPrefix(base, "http")+video.WSPath, name, token)
	return &videoClient{Client: c, t: t, name: name, peer: c.Peer, chats: make(chan video.ChatOut, 16)}
}

// await returns the next frame of typ, skipping others.
func (c *videoClient) await(ctx context.Context, typ string) video.Frame {
	c.t.Helper()
	return c.Await(ctx, typ)
}

// request sends a request and returns its ack (failing on an error).
func (c *videoClient) request(ctx context.Context, typ string, data any) video.Frame {
	c.t.Helper()
	return c.Request(ctx, typ, data)
}

// publish adds Opus and VP8 tracks and the chat channel, then offers.
func (c *videoClient) publish() {
	c.t.Helper()
	for _, k := range []string{"audio", "video"} {
		if _, err := c.peer.AddTrack(k, k); err != nil {
			c.t.Fatal(err)
		}
	}
	dc, err := c.peer.PC.CreateDataChannel(video.ChatLabel, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.dc = dc
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		var out video.ChatOut
		_ = json.Unmarshal(m.Data, &out)
		select {
		case c.chats <- out:
		default:
		}
	})
	if err := c.peer.Offer(false); err != nil {
		c.t.Fatal(err)
	}
}
