package media

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLoggers hands the pion components of softphone legs slog loggers
// (as media/sfu does): pion's errors and warnings are logged as warnings,
// the rest at debug level.
type pionLoggers struct{ log *slog.Logger }

var _ logging.LoggerFactory = pionLoggers{}

// NewLogger implements logging.LoggerFactory.
func (f pionLoggers) NewLogger(scope string) logging.LeveledLogger {
	return pionLeveled{log: f.log.With("scope", scope)}
}

type pionLeveled struct{ log *slog.Logger }

func (l pionLeveled) at(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

func (l pionLeveled) Trace(msg string)                  {}
func (l pionLeveled) Tracef(format string, args ...any) {}
func (l pionLeveled) Debug(msg string)                  { l.at(slog.LevelDebug, msg) }

// Debugf drops pion's formatted debug messages: some format live objects
// that pion changes on another goroutine (webrtc v4.2.26 logs "got new
// track: %+v" while SetRemoteDescription still writes the track), a data
// race inside pion.
func (l pionLeveled) Debugf(format string, args ...any) {}
func (l pionLeveled) Info(msg string)                   { l.at(slog.LevelDebug, msg) }
func (l pionLeveled) Infof(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.at(slog.LevelDebug, fmt.Sprintf(format, args...))
	}
}
func (l pionLeveled) Warn(msg string) { l.at(slog.LevelWarn, msg) }
func (l pionLeveled) Warnf(format string, args ...any) {
	l.at(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (l pionLeveled) Error(msg string) { l.at(slog.LevelWarn, msg) }
func (l pionLeveled) Errorf(format string, args ...any) {
	l.at(slog.LevelWarn, fmt.Sprintf(format, args...))
}
