package video_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Janus (Debian's janus package, the VideoRoom plugin) as the benchmark's
// peer: configured in a folder of its own with the HTTP transport and the
// VideoRoom plugin only, one room; driven through its
// REST API (https://janus.conf.meetecho.com/docs/rest.html) without
// trickle (the SDPs carry the candidates), with ICE on benchIP.

const janusRoom = 1234

// writeJanusConfig writes a Janus configuration under dir serving HTTP
// on port and returns it.
func writeJanusConfig(dir string, port int) error {
	for _, d := range []string{"plugins", "transports", "none"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	links := map[string]string{
		"/usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videoroom.so": filepath.Join(dir, "plugins", "libjanus_videoroom.so"),
		"/usr/lib/x86_64-linux-gnu/janus/transports/libjanus_http.so":   filepath.Join(dir, "transports", "libjanus_http.so"),
	}
	for from, to := range links {
		if err := os.Symlink(from, to); err != nil && !os.IsExist(err) {
			return err
		}
	}
	files := map[string]string{
		"janus.jcfg": fmt.Sprintf(`general: {
	configs_folder = "%[1]s"
	plugins_folder = "%[1]s/plugins"
	transports_folder = "%[1]s/transports"
	events_folder = "%[1]s/none"
	loggers_folder = "%[1]s/none"
	debug_level = 2
	admin_secret = "bench"
}
media: {
	rtp_port_range = "41000-41999"
}
nat: {
	nice_debug = false
	ice_enforce_list = "%[2]s"
}
plugins: {
}
transports: {
}
events: {
}
`, dir, benchIP()),
		"janus.transport.http.jcfg": fmt.Sprintf(`general: {
	base_path = "/janus"
	http = true
	port = %d
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
}
`, port),
		"janus.plugin.videoroom.jcfg": fmt.Sprintf(`general: {
}
room-%d: {
	description = "bench"
	publishers = 4
	bitrate = 0
	fir_freq = 0
	videocodec = "vp8"
	audiocodec = "opus"
	record = false
}
`, janusRoom),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// janusSession is one Janus session with one VideoRoom handle.
type janusSession struct {
	base    string // http://127.0.0.1:port/janus
	session int64
	handle  int64
	tx      atomic.Int64
	events  chan map[string]any
	stop    chan struct{}
}

func janusPost(ctx context.Context, url string, body map[string]any) (map[string]any, error) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, err
	}
	if out["janus"] == "error" {
		return out, fmt.Errorf("%w: janus: %v", errBench, out["error"])
	}
	return out, nil
}

// newJanusSession creates a session, attaches the VideoRoom plugin and
// long-polls the session's events.
func newJanusSession(ctx context.Context, base string) (*janusSession, error) {
	j := &janusSession{base: base, events: make(chan map[string]any, 64), stop: make(chan struct{})}
	out, err := janusPost(ctx, base, map[string]any{"janus": "create", "transaction": j.txID()})
	if err != nil {
		return nil, err
	}
	j.session = int64(out["data"].(map[string]any)["id"].(float64))
	out, err = janusPost(ctx, j.sessionURL(), map[string]any{"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": j.txID()})
	if err != nil {
		return nil, err
	}
	j.handle = int64(out["data"].(map[string]any)["id"].(float64))
	go j.poll()
	return j, nil
}

func (j *janusSession) txID() string       { return strconv.FormatInt(j.tx.Add(1), 10) }
func (j *janusSession) sessionURL() string { return j.base + "/" + strconv.FormatInt(j.session, 10) }

// poll long-polls the session's events (which also keeps it alive).
func (j *janusSession) poll() {
	for {
		select {
		case <-j.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 35*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, j.sessionURL()+"?maxev=5", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			select {
			case <-j.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		var evs []map[string]any
		_ = json.NewDecoder(res.Body).Decode(&evs)
		res.Body.Close()
		cancel()
		for _, e := range evs {
			if e["janus"] == "event" {
				select {
				case j.events <- e:
				default:
				}
			}
		}
	}
}

// message sends a plugin message (with jsep when not nil) and waits for
// the plugin's event answering it.
func (j *janusSession) message(ctx context.Context, body map[string]any, jsep *webrtc.SessionDescription) (map[string]any, error) {
	msg := map[string]any{"janus": "message", "body": body, "transaction": j.txID()}
	if jsep != nil {
		msg["jsep"] = map[string]any{"type": jsep.Type.String(), "sdp": jsep.SDP}
	}
	if _, err := janusPost(ctx, j.sessionURL()+"/"+strconv.FormatInt(j.handle, 10), msg); err != nil {
		return nil, err
	}
	select {
	case e := <-j.events:
		data, _ := e["plugindata"].(map[string]any)["data"].(map[string]any)
		if data["error"] != nil {
			return e, fmt.Errorf("%w: videoroom: %v", errBench, data["error"])
		}
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func jsepOf(e map[string]any) (webrtc.SessionDescription, error) {
	js, ok := e["jsep"].(map[string]any)
	if !ok {
		return webrtc.SessionDescription{}, fmt.Errorf("%w: no jsep in %v", errBench, e)
	}
	sd := webrtc.SessionDescription{SDP: js["sdp"].(string)}
	if js["type"] == "offer" {
		sd.Type = webrtc.SDPTypeOffer
	} else {
		sd.Type = webrtc.SDPTypeAnswer
	}
	return sd, nil
}

func (j *janusSession) close() {
	close(j.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = janusPost(ctx, j.sessionURL(), map[string]any{"janus": "destroy", "transaction": j.txID()})
}

// janusPublish joins pc as the room's publisher and returns its feed id.
func janusPublish(ctx context.Context, base string, pc *webrtc.PeerConnection) (*janusSession, float64, error) {
	j, err := newJanusSession(ctx, base)
	if err != nil {
		return nil, 0, err
	}
	offer, err := completeOffer(ctx, pc)
	if err != nil {
		return nil, 0, err
	}
	e, err := j.message(ctx, map[string]any{"request": "joinandconfigure", "room": janusRoom, "ptype": "publisher", "display": "pub", "audio": false, "video": true}, &offer)
	if err != nil {
		return nil, 0, err
	}
	ans, err := jsepOf(e)
	if err != nil {
		return nil, 0, err
	}
	if err := pc.SetRemoteDescription(ans); err != nil {
		return nil, 0, err
	}
	data := e["plugindata"].(map[string]any)["data"].(map[string]any)
	feed := data["id"].(float64)
	// Subscribers get "No such feed" until the publisher's PeerConnection
	// is up on Janus's side: wait until the room lists it as publishing.
	for {
		out, err := janusPost(ctx, j.sessionURL()+"/"+strconv.FormatInt(j.handle, 10),
			map[string]any{"janus": "message", "body": map[string]any{"request": "listparticipants", "room": janusRoom}, "transaction": j.txID()})
		if err != nil {
			return nil, 0, err
		}
		pd, _ := out["plugindata"].(map[string]any)
		d, _ := pd["data"].(map[string]any)
		ps, _ := d["participants"].([]any)
		for _, p := range ps {
			if m, _ := p.(map[string]any); m["id"] == feed && m["publisher"] == true {
				return j, feed, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("janus never listed the publisher: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// janusSubscribe subscribes pc to feed: Janus offers, pc answers.
func janusSubscribe(ctx context.Context, base string, pc *webrtc.PeerConnection, feed float64) (*janusSession, error) {
	j, err := newJanusSession(ctx, base)
	if err != nil {
		return nil, err
	}
	e, err := j.message(ctx, map[string]any{"request": "join", "room": janusRoom, "ptype": "subscriber", "streams": []map[string]any{{"feed": feed}}}, nil)
	if err != nil {
		return nil, err
	}
	offer, err := jsepOf(e)
	if err != nil {
		return nil, err
	}
	ans, err := completeAnswer(ctx, pc, offer)
	if err != nil {
		return nil, err
	}
	if _, err := j.message(ctx, map[string]any{"request": "start"}, &ans); err != nil {
		return nil, err
	}
	return j, nil
}
