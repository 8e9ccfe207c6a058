package sfu

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// loggerFactory hands pion's components slog loggers: pion's errors and
// warnings are logged as warnings, the rest at debug level.
type loggerFactory struct{ log *slog.Logger }

var _ logging.LoggerFactory = loggerFactory{}

// NewLogger implements logging.LoggerFactory.
func (f loggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("scope", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) at(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l pionLogger) Trace(msg string)                  {}
func (l pionLogger) Tracef(format string, args ...any) {}
func (l pionLogger) Debug(msg string)                  { l.at(slog.LevelDebug, msg) }

// Debugf drops pion's formatted debug messages: some format live objects
// that pion changes on another goroutine (webrtc v4.2.26 logs "got new
// track: %+v" while SetRemoteDescription still writes the track), a data
// race inside pion that the race detector reports in our tests.
func (l pionLogger) Debugf(format string, args ...any) {}
func (l pionLogger) Info(msg string)                   { l.at(slog.LevelDebug, msg) }
func (l pionLogger) Infof(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.at(slog.LevelDebug, fmt.Sprintf(format, args...))
	}
}
func (l pionLogger) Warn(msg string) { l.at(slog.LevelWarn, msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	l.at(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (l pionLogger) Error(msg string) { l.at(slog.LevelWarn, msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	l.at(slog.LevelWarn, fmt.Sprintf(format, args...))
}
