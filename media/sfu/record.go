package sfu

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// recordQueue is how many packets may wait for one track's file writer;
// beyond it packets are dropped from the recording (counted in Dropped).
const recordQueue = 512

// RecordedFile is one file a recording wrote: the track of Participant
// (its TrackID and Kind, "audio" or "video"), in Codec's container (Ogg
// for Opus, RFC 7845; IVF for VP8), at Path, with the RTP packets
// written and those dropped because the disk was slower than the track.
type RecordedFile struct {
	Participant string    `json:"participant"`
	TrackID     string    `json:"track_id"`
	Kind        string    `json:"kind"`
	Codec       string    `json:"codec"`
	Path        string    `json:"path"`
	StartedAt   time.Time `json:"started_at"`
	Packets     uint64    `json:"packets"`
	Dropped     uint64    `json:"dropped"`
}

// rtpWriter is pion's media writer of one container.
type rtpWriter interface {
	WriteRTP(*rtp.Packet) error
	Close() error
}

// recording is a room's recording in progress (guarded by Room.mu).
type recording struct {
	dir, prefix string
	seq         int
	tracks      map[*published]*trackRecorder
	done        []RecordedFile
}

// trackRecorder writes one published track to a file from a queue, on
// its own goroutine, off the forwarding path.
type trackRecorder struct {
	file  RecordedFile
	w     rtpWriter
	queue chan *packet
	stop  chan struct{}
	ended chan struct{}
	once  sync.Once

	packets, dropped atomic.Uint64
}

// StartRecording writes every track published in the room, now and
// later, to files under dir named prefix-<participant>-<track>-<n>.ogg
// (Opus) or .ivf (VP8) until StopRecording; tracks of other codecs are
// not recorded. Video files start at a key frame (the publisher is asked
// for one). dir is created when missing. Errors: ErrClosed, ErrRecording
// (a recording runs already), or the folder's.
func (r *Room) StartRecording(dir, prefix string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("sfu: recording folder: %w", err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.rec != nil {
		r.mu.Unlock()
		return ErrRecording
	}
	r.rec = &recording{dir: dir, prefix: safeName(prefix), tracks: map[*published]*trackRecorder{}}
	var started []*published
	for pt := range r.tracks {
		if r.recordLocked(pt) {
			started = append(started, pt)
		}
	}
	r.mu.Unlock()
	for _, pt := range started {
		pt.keyframeNow()
	}
	r.log.Info("recording started", "dir", dir)
	return nil
}

// Recording reports whether the room records now.
func (r *Room) Recording() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec != nil
}

// StopRecording ends the recording, closes its files (after the packets
// queued for them) and returns them, in the order they were opened; nil
// when the room did not record.
func (r *Room) StopRecording() []RecordedFile {
	r.mu.Lock()
	rec := r.rec
	r.rec = nil
	if rec == nil {
		r.mu.Unlock()
		return nil
	}
	recs := make([]*trackRecorder, 0, len(rec.tracks))
	for pt, tr := range rec.tracks {
		pt.rec.Store(nil)
		recs = append(recs, tr)
	}
	done := slices.Clone(rec.done)
	r.mu.Unlock()
	for _, tr := range recs {
		tr.close()
		done = append(done, tr.result())
	}
	sortFiles(done)
	r.log.Info("recording stopped", "files", len(done))
	return done
}

// recordLocked attaches a file writer to pt when its codec can be
// recorded; it reports whether it did.
func (r *Room) recordLocked(pt *published) bool {
	rec := r.rec
	if rec == nil || rec.tracks[pt] != nil {
		return false
	}
	codec := pt.remote.Codec()
	var ext string
	switch {
	case strings.EqualFold(codec.MimeType, webrtc.MimeTypeOpus):
		ext = ".ogg"
	case strings.EqualFold(codec.MimeType, webrtc.MimeTypeVP8):
		ext = ".ivf"
	default:
		r.log.Warn("track not recorded: codec has no writer", "codec", codec.MimeType, "track_id", pt.remote.ID())
		return false
	}
	rec.seq++
	path := filepath.Join(rec.dir, fmt.Sprintf("%s-%s-%s-%d%s", rec.prefix, safeName(pt.pub.id), safeName(pt.remote.ID()), rec.seq, ext))
	var w rtpWriter
	var err error
	if ext == ".ogg" {
		ch := codec.Channels
		if ch == 0 {
			ch = 2
		}
		w, err = oggwriter.New(path, codec.ClockRate, ch)
	} else {
		w, err = ivfwriter.New(path, ivfwriter.WithCodec(webrtc.MimeTypeVP8))
	}
	if err != nil {
		r.log.Warn("track not recorded: file not opened", "path", path, "error", err)
		return false
	}
	tr := &trackRecorder{w: w, queue: make(chan *packet, recordQueue), stop: make(chan struct{}), ended: make(chan struct{}),
		file: RecordedFile{Participant: pt.pub.id, TrackID: pt.remote.ID(), Kind: pt.remote.Kind().String(), Codec: codec.MimeType, Path: path, StartedAt: time.Now().UTC()}}
	rec.tracks[pt] = tr
	pt.rec.Store(tr)
	r.wg.Go(tr.write)
	return true
}

// unrecordLocked ends pt's file when pt stops while recording; its
// result joins the recording's files.
func (r *Room) unrecordLocked(pt *published) {
	if r.rec == nil {
		return
	}
	tr := r.rec.tracks[pt]
	if tr == nil {
		return
	}
	delete(r.rec.tracks, pt)
	pt.rec.Store(nil)
	// The writer takes no lock of the room: waiting for it here is short
	// (the queued packets and the file's close).
	tr.close()
	r.rec.done = append(r.rec.done, tr.result())
}

// push queues a copy of b for the file; a full queue drops it.
func (t *trackRecorder) push(b []byte) {
	pk := packets.Get().(*packet)
	pk.n = copy(pk.b[:], b)
	select {
	case t.queue <- pk:
	default:
		packets.Put(pk)
		t.dropped.Add(1)
	}
}

// write writes queued packets until close, then the rest, then closes
// the file.
func (t *trackRecorder) write() {
	defer close(t.ended)
	var p rtp.Packet
	one := func(pk *packet) {
		if p.Unmarshal(pk.b[:pk.n]) == nil && t.w.WriteRTP(&p) == nil {
			t.packets.Add(1)
		}
		packets.Put(pk)
	}
	for {
		select {
		case pk := <-t.queue:
			one(pk)
		case <-t.stop:
			for {
				select {
				case pk := <-t.queue:
					one(pk)
				default:
					_ = t.w.Close()
					return
				}
			}
		}
	}
}

// close stops the writer and waits for the file to be closed.
func (t *trackRecorder) close() {
	t.once.Do(func() { close(t.stop) })
	<-t.ended
}

func (t *trackRecorder) result() RecordedFile {
	f := t.file
	f.Packets, f.Dropped = t.packets.Load(), t.dropped.Load()
	return f
}

// safeName keeps letters, digits, '-' and '_' of s (others become '_'),
// so ids cannot leave the recording folder.
func safeName(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func sortFiles(fs []RecordedFile) {
	slices.SortFunc(fs, func(a, b RecordedFile) int { return strings.Compare(a.Path, b.Path) })
}
