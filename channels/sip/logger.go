package sip

import (
	"context"
	"log/slog"
)

// redactHandler wraps the handler given to sipgo: sipgo logs whole SIP
// messages (caller ids, SDP) under attributes such as "data", "req" and
// "msg"; only the message, the error and the level pass, so no personal
// data reaches the logs.
type redactHandler struct{ next slog.Handler }

// Enabled implements slog.Handler.
func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler, keeping only the message, "error" and
// "caller".
func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" || a.Key == "caller" {
			out.AddAttrs(a)
		}
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler and drops the attributes, for the same
// reason as Handle.
func (h redactHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

// WithGroup implements slog.Handler; groups are dropped with their
// attributes.
func (h redactHandler) WithGroup(string) slog.Handler { return h }
