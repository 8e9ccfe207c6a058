package sfu_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/airbranch/airbranch/media/sfu"
)

// TestRecordingWritesOggAndIVF: two peers publish Opus and VP8; while the
// room records, each track goes to its own file: the Ogg files hold Opus
// pages, the IVF files VP8 frames starting with a key frame; a second
// start is refused; after the stop nothing more is written.
func TestRecordingWritesOggAndIVF(t *testing.T) {
	s := newSFU(t)
	room, err := s.NewRoom("rec-1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	names := []string{"client", "rm"}
	links := map[string]*link{}
	for _, n := range names {
		l := join(t, room, n, false)
		links[n] = l
		for _, kind := range []string{"audio", "video"} {
			if _, err := l.peer.AddTrack(kind, kind); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.peer.Offer(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := links["rm"].peer.WaitPackets(ctx, []string{"client/audio", "client/video"}, 5); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rec")
	if err := room.StartRecording(dir, "conv/1"); err != nil {
		t.Fatal(err)
	}
	if err := room.StartRecording(dir, "again"); !errors.Is(err, sfu.ErrRecording) {
		t.Fatalf("second start: %v, want ErrRecording", err)
	}
	if !room.Recording() {
		t.Fatal("Recording() = false while recording")
	}
	// 2 s: 100 Opus packets and ~60 VP8 frames per publisher, two key frames.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	files := room.StopRecording()
	if len(files) != 4 {
		t.Fatalf("files: %+v, want 4 (two tracks of two publishers)", files)
	}
	for _, f := range files {
		if filepath.Dir(f.Path) != dir || !strings.HasPrefix(filepath.Base(f.Path), "conv_1-"+f.Participant+"-") {
			t.Errorf("path %s: not in %s with the prefix and participant", f.Path, dir)
		}
		if f.Packets < 20 {
			t.Errorf("%s: %d packets written", f.Path, f.Packets)
		}
		switch f.Kind {
		case "audio":
			if n := oggPages(t, f.Path); n < 20 {
				t.Errorf("%s: %d Ogg pages, want >= 20", f.Path, n)
			}
		case "video":
			n, firstKey := ivfFrames(t, f.Path)
			if n < 10 || !firstKey {
				t.Errorf("%s: %d IVF frames (first a key frame: %v), want >= 10 starting with a key frame", f.Path, n, firstKey)
			}
		default:
			t.Errorf("%s: kind %q", f.Path, f.Kind)
		}
	}
	st, err := os.Stat(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if st2, _ := os.Stat(files[0].Path); st2.Size() != st.Size() {
		t.Errorf("%s grew after the stop", files[0].Path)
	}
	if room.Recording() || room.StopRecording() != nil {
		t.Error("the room still records after the stop")
	}
}

func oggPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, h, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if h.SampleRate != 48000 {
		t.Errorf("%s: sample rate %d", path, h.SampleRate)
	}
	n := 0
	for {
		if _, _, err := r.ParseNextPage(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Errorf("%s: page %d: %v", path, n, err)
			}
			return n
		}
		n++
	}
}

func ivfFrames(t *testing.T, path string) (int, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, h, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if h.FourCC != "VP80" {
		t.Errorf("%s: fourcc %q", path, h.FourCC)
	}
	n, firstKey := 0, false
	for {
		frame, _, err := r.ParseNextFrame()
		if err != nil {
			return n, firstKey
		}
		if n == 0 {
			firstKey = len(frame) > 0 && frame[0]&0x01 == 0
		}
		n++
	}
}
