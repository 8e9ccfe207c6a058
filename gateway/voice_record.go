package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/media"
)

// voiceOptions is what the voice channel's glue takes from the sip
// section beyond the adapter's own configuration: which calls are
// recorded, and whether callbacks can be dialled.
type voiceOptions struct {
	recording configs.SIPRecording
	callbacks bool
}

func newVoiceOptions(cfg *configs.Config) voiceOptions {
	return voiceOptions{recording: cfg.SIP.Recording, callbacks: cfg.SIP.Outbound.Addr != ""}
}

var _ sip.CallRecorder = (*voice)(nil)

// Event names of the voice channel's recording events on a timeline.
const (
	// eventCallRecorded: a call's WAV file is complete; Detail "file" is
	// its base name under sip.recording.dir, "duration_ms" and "bytes" its
	// length and size.
	eventCallRecorded = "call_recorded"
)

// RecordCall implements sip.CallRecorder: a call is recorded when its
// conversation's segment is one of sip.recording.segments. Errors: the
// store's.
func (v *voice) RecordCall(ctx context.Context, id conversation.ConversationID) (bool, error) {
	if len(v.opts.recording.Segments) == 0 {
		return false, nil
	}
	c, err := v.store.Conversation(ctx, id)
	if err != nil {
		return false, fmt.Errorf("voice: record call: %w", err)
	}
	return v.opts.recording.Records(c.Segment), nil
}

// CallRecorded implements sip.CallRecorder: the recording is referenced on
// the conversation's timeline by a channel event "call_recorded" with the
// file's base name (the folder is sip.recording.dir), its duration in
// milliseconds and its size in bytes. Errors: the store's.
func (v *voice) CallRecorded(ctx context.Context, id conversation.ConversationID, rec media.Recording) error {
	ctx, cancel := opCtx(ctx)
	defer cancel()
	ev := conversation.NewEvent(id, conversation.EventChannel, "system", time.Now())
	ev.Channel = conversation.ChannelVoice
	ev.Detail = map[string]string{
		"event": eventCallRecorded, "file": filepath.Base(rec.Path),
		"duration_ms": strconv.FormatInt(rec.Duration.Milliseconds(), 10), "bytes": strconv.FormatInt(rec.Bytes, 10),
	}
	if err := v.store.AppendEvent(ctx, ev); err != nil {
		return fmt.Errorf("voice: call recorded: %w", err)
	}
	v.log.Info("call recorded", "conversation_id", id, "file", ev.Detail["file"], "duration_ms", ev.Detail["duration_ms"])
	return nil
}
