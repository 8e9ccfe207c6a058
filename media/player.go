package media

import (
	"context"
	"errors"
	"time"
)

// FrameWriter takes one 20 ms frame of µ-law samples; Leg implements it.
type FrameWriter interface {
	WriteAudio(ulaw []byte) error
}

var _ FrameWriter = (*Leg)(nil)

// Play sends the µ-law samples ulaw (8 kHz) to w in FrameSamples-byte (20
// ms) frames paced by a ticker, the last frame padded with µ-law silence.
// It returns nil when everything was sent, ctx's error when ctx ends first,
// or w's error. It allocates only its ticker and one frame buffer.
func Play(ctx context.Context, w FrameWriter, ulaw []byte) error {
	if len(ulaw) == 0 {
		return nil
	}
	t := time.NewTicker(FrameMillis * time.Millisecond)
	defer t.Stop()
	var frame [FrameSamples]byte
	for off := 0; off < len(ulaw); off += FrameSamples {
		n := copy(frame[:], ulaw[off:])
		for i := n; i < FrameSamples; i++ {
			frame[i] = 0xff
		}
		if err := w.WriteAudio(frame[:]); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// PlayFor loops the µ-law samples ulaw (music on hold) to w for d, or until
// ctx ends. It returns nil after d, ctx's error, or w's error.
func PlayFor(ctx context.Context, w FrameWriter, ulaw []byte, d time.Duration) error {
	if len(ulaw) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, d, errPlayedFor)
	defer cancel()
	for {
		err := Play(ctx, w, ulaw)
		switch {
		case err == nil:
			continue
		case context.Cause(ctx) == errPlayedFor:
			return nil
		default:
			return err
		}
	}
}

var errPlayedFor = errors.New("played for the duration asked")
