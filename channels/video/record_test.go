package video_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/video"
)

// events records the server's events.
type events struct {
	mu  sync.Mutex
	all []video.Event
	got chan video.Event
}

func (e *events) add(ev video.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	select {
	case e.got <- ev:
	default:
	}
}

func (e *events) await(ctx context.Context, t *testing.T, typ string) video.Event {
	t.Helper()
	for {
		select {
		case ev := <-e.got:
			if ev.Type == typ {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", typ, ctx.Err())
		}
	}
}

// TestRecordingNeedsEveryonesConsent: with consent required, a room of
// an RM and an admitted client does not record until both consent; the
// participants are told who is awaited, then that it records; when the
// client withdraws consent the recording stops and its event lists an
// Ogg file and an IVF file per publisher, each holding frames.
func TestRecordingNeedsEveryonesConsent(t *testing.T) {
	dir := t.TempDir()
	evs := &events{got: make(chan video.Event, 64)}
	e := newEnvWith(t, video.Config{}, func(o *video.Options) {
		o.Recording = video.RecordingOptions{Dir: dir, RequireConsent: true}
		o.Events = evs.add
	})
	if err := e.srv.CreateRoom(video.RoomSpec{ID: "room-r", ConversationID: "conv-r"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rm := e.dial(t, "rm-pb-01", e.token(t, "room-r", video.RoleRM, "rm-pb-01", time.Hour))
	rm.request(ctx, video.TypeJoin, video.JoinRequest{})
	rm.publish()
	cl := e.dial(t, "cus-pb-0001", e.token(t, "room-r", video.RoleClient, "cus-pb-0001", time.Hour))
	cl.request(ctx, video.TypeJoin, video.JoinRequest{})
	rm.await(ctx, video.EventLobby, "")
	rm.request(ctx, video.TypeAdmit, video.Target{Identity: "cus-pb-0001"})
	cl.await(ctx, video.EventAdmitted, "")
	cl.publish()
	if err := rm.peer.WaitPackets(ctx, []string{"cus-pb-0001/audio", "cus-pb-0001/video"}, 10); err != nil {
		t.Fatal(err)
	}

	if f := rm.request(ctx, video.TypeConsent, video.ConsentData{Recording: true}); f.Type != video.TypeAck {
		t.Fatalf("rm consent: %s", f.Data)
	}
	var d video.RecordingData
	_ = json.Unmarshal(rm.await(ctx, video.EventRecording, "").Data, &d)
	if d.Active || len(d.Waiting) != 1 || d.Waiting[0] != "cus-pb-0001" {
		t.Fatalf("after the rm's consent: %+v, want inactive waiting for the client", d)
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Fatalf("files before everyone consented: %v", files)
	}
	cl.request(ctx, video.TypeConsent, video.ConsentData{Recording: true})
	evs.await(ctx, t, video.RecordingStarted)
	_ = json.Unmarshal(cl.await(ctx, video.EventRecording, "").Data, &d)
	if !d.Active {
		t.Fatalf("after both consented: %+v", d)
	}
	time.Sleep(2 * time.Second)
	cl.request(ctx, video.TypeConsent, video.ConsentData{Recording: false})
	stopped := evs.await(ctx, t, video.RecordingStopped)
	if stopped.ConversationID != "conv-r" || len(stopped.Files) != 4 {
		t.Fatalf("recording_stopped: %+v, want 4 files of conv-r", stopped)
	}
	for _, f := range stopped.Files {
		if filepath.Dir(f.Path) != dir || f.Packets < 20 {
			t.Errorf("file %+v: want under %s with >= 20 packets", f, dir)
		}
		st, err := os.Stat(f.Path)
		if err != nil || st.Size() < 1000 {
			t.Errorf("file %s: %v, size %d", f.Path, err, st.Size())
		}
	}
}
