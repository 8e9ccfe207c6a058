package sip

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// CallRecorder is implemented by a CallSink whose calls may be recorded
// (Config.RecordingDir set). The adapter asks RecordCall once per call,
// when the call is first to be bridged; for a recorded call it plays the
// consent announcement (prompts.Recording) to the caller before the
// bridge, records both legs from the bridge to the end of the call into
// one WAV file (media.WAVRecorder: the client's leg on the left channel,
// the RM's on the right), and reports the file with CallRecorded once
// the call has ended.
type CallRecorder interface {
	// RecordCall reports whether the call of conversation id is to be
	// recorded (e.g. by the conversation's segment). An error is logged
	// and the call is not recorded.
	RecordCall(ctx context.Context, id conversation.ConversationID) (bool, error)
	// CallRecorded reports the finished recording of the call of
	// conversation id: the file, its duration and size.
	CallRecorded(ctx context.Context, id conversation.ConversationID, rec media.Recording) error
}

// decideRecording asks the sink, once per call, whether c is recorded;
// for a recorded call it replaces the queue audio by the consent
// announcement followed by music on hold with announcements, and returns
// a channel closed once the announcement has played (or the playback
// stopped). It returns nil when the call is not recorded or the
// announcement was played before.
func (c *call) decideRecording() chan struct{} {
	rec, ok := c.s.sink.(CallRecorder)
	if !ok || c.s.cfg.RecordingDir == "" {
		return nil
	}
	c.mu.Lock()
	decided, record := c.recordDecided, c.record
	c.recordDecided = true
	c.mu.Unlock()
	if !decided {
		ctx, cancel := c.s.sinkCtx()
		var err error
		record, err = rec.RecordCall(ctx, c.conversationID())
		cancel()
		if err != nil {
			c.log.Warn("recording decision failed; call not recorded", "error", err)
			record = false
		}
		c.mu.Lock()
		c.record = record
		c.mu.Unlock()
	}
	if !record || decided {
		return nil
	}
	played := make(chan struct{})
	c.startPlayback(c.queueAudioAfter(prompts.Recording, played))
	return played
}

// waitConsent waits until the consent announcement has played: played is
// closed, the call or ctx ended (false).
func (c *call) waitConsent(ctx context.Context, played chan struct{}) bool {
	if played == nil {
		return true
	}
	select {
	case <-played:
		return c.ctx.Err() == nil
	case <-c.ctx.Done():
		return false
	case <-ctx.Done():
		return false
	}
}

// startRecording opens the call's WAV file when the call is recorded and
// has none yet, and makes the client's leg write to its left channel and
// leg (the RM's) to its right one. A file that cannot be created is
// logged and the call goes on unrecorded.
func (c *call) startRecording(rmLeg *media.Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.record {
		return
	}
	if c.recorder == nil {
		name := safeFileName(string(c.id)) + "-" + c.s.now().UTC().Format("20060102T150405.000Z") + ".wav"
		r, err := media.CreateWAV(filepath.Join(c.s.cfg.RecordingDir, name), time.Now())
		if err != nil {
			c.log.Error("recording not started", "error", err)
			c.record = false
			return
		}
		c.recorder = r
		c.leg.Record(r, media.ChannelLeft)
		c.log.Info("call recording", "file", name)
	}
	rmLeg.Record(c.recorder, media.ChannelRight)
}

// finishRecording closes the call's WAV file, if any, and reports it to
// the sink.
func (c *call) finishRecording(ctx context.Context) {
	c.mu.Lock()
	r, id := c.recorder, c.id
	c.mu.Unlock()
	if r == nil {
		return
	}
	rec, err := r.Close()
	if err != nil {
		c.log.Error("recording incomplete", "error", err)
	}
	c.log.Info("call recorded", "file", filepath.Base(rec.Path), "duration_ms", rec.Duration.Milliseconds(),
		"client_packets", rec.Packets[media.ChannelLeft], "rm_packets", rec.Packets[media.ChannelRight])
	if cr, ok := c.s.sink.(CallRecorder); ok && id != "" {
		if err := cr.CallRecorded(ctx, id, rec); err != nil {
			c.log.Warn("recording not reported", "error", err)
		}
	}
}

// safeFileName keeps letters, digits, "-" and "_" of s (a conversation
// id), so that it cannot name another folder.
func safeFileName(s string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if out == "" {
		return "call"
	}
	return out
}
