package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Wallboard stream timing: a board every statsEvery; a stream ends after
// statsStreamFor (the client reconnects, as EventSource does by itself),
// so a draining instance is not held by wallboards.
const (
	statsEvery     = 5 * time.Second
	statsStreamFor = 5 * time.Minute
)

// streamBoard serves GET /api/v1/stats/stream: the wallboard as
// server-sent events (text/event-stream, WHATWG HTML §9.2): an event
// "board" with the same JSON as GET /api/v1/stats, at once and then every
// 5 s, for up to 5 minutes. Scoped like getBoard.
func (s *server) streamBoard(w http.ResponseWriter, r *http.Request) {
	q, err := s.readBoardQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	window := q.now.Sub(q.since)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(statsEvery)
	defer tick.Stop()
	end := time.NewTimer(statsStreamFor)
	defer end.Stop()
	for {
		now := s.now()
		b, err := s.stats.Board(r.Context(), now.Add(-window), now, q.only)
		if err != nil {
			logger(r.Context(), s.log).Warn("wallboard figures failed", "error", err)
			fmt.Fprintf(w, "event: error\ndata: {\"code\":\"unavailable\"}\n\n")
		} else {
			data, _ := json.Marshal(b)
			fmt.Fprintf(w, "event: board\ndata: %s\n\n", data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}
