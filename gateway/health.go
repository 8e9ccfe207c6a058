package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// healthz answers 200 while the process serves HTTP (liveness).
func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "instance_id": g.instance})
}

// readyz answers 200 when the instance takes new work: listeners up and the
// store reachable (checked within 1 s); 503 while starting, draining or when
// the store is unreachable.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	body := map[string]string{"instance_id": g.instance}
	switch {
	case g.draining.Load():
		body["status"] = "draining"
	case !g.ready.Load():
		body["status"] = "starting"
	default:
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := g.store.Ping(ctx); err != nil {
			body["status"] = "store_unreachable"
			g.log.Warn("readiness: store unreachable", "error", err)
		} else {
			body["status"] = "ready"
			writeJSON(w, http.StatusOK, body)
			return
		}
	}
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, body)
}

// refuseWhileDraining lets reads through during a drain and answers 503
// with Retry-After to requests that would start new work, so clients and
// providers retry on another instance.
func (g *Gateway) refuseWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.draining.Load() && r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{
				"error": map[string]string{"code": "draining", "message": "this instance is shutting down; retry"},
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a logged error and a 500
// with a generic body: no stack trace reaches the caller.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "route", r.Pattern, "method", r.Method, "panic", v)
				writeJSON(w, http.StatusInternalServerError, map[string]any{
					"error": map[string]string{"code": "internal", "message": "internal error"},
				})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
