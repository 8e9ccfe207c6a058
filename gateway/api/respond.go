package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/airbranch/airbranch/channels/conversation"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v as JSON with status. API answers hold personal data,
// so they are marked not to be stored by caches (RFC 9111 §5.2.2.5).
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		logger(r.Context(), s.log).LogAttrs(r.Context(), slog.LevelDebug, "write response", slog.String("error", err.Error()))
	}
}

// fail answers err (see classify) as {"error":{"code","message"}}. A 500
// is logged at error level with the detail and answered with only the
// request id; 503 is logged at warn and carries Retry-After; other answers
// are logged at debug.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := classify(err)
	log := logger(r.Context(), s.log)
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", e.status)}
	switch {
	case internal:
		log.LogAttrs(r.Context(), slog.LevelError, "request failed", append(attrs, slog.String("error", err.Error()))...)
		e = errorf(e.status, e.code, "internal error; quote request id %s to the operators", w.Header().Get(requestIDHeader))
	case e.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
		log.LogAttrs(r.Context(), slog.LevelWarn, "request failed", append(attrs, slog.String("error", err.Error()))...)
	default:
		log.LogAttrs(r.Context(), slog.LevelDebug, "request refused", append(attrs, slog.String("reason", e.message))...)
	}
	s.writeJSON(w, r, e.status, errorBody{Error: errorDetail{Code: e.code, Message: e.message}})
}

// requireJSON checks that a request body is declared as JSON:
// "application/json", optionally with charset=utf-8 (RFC 8259 §8.1).
func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "missing Content-Type; send application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "Content-Type %q is not supported; send application/json", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "charset %q is not supported; JSON is UTF-8 (RFC 8259 §8.1)", cs)
	}
	return nil
}

// readJSON is requireJSON then decodeJSON: a JSON body of one object into
// dst, or the 415/400/413 answer to send.
func (s *server) readJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	return s.decodeJSON(w, r, dst)
}

// decodeJSON reads exactly one JSON object from the body into dst, which
// must be a pointer to a struct: unknown fields, trailing data and a body
// over s.maxBody bytes are refused (400, 400, 413) with a message that says
// where the problem is when the decoder tells.
func (s *server) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return s.bodyError(err, dst)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return badRequest("the body holds more than one JSON value; send one object")
	default:
		if e := s.bodyError(err, dst); e.status == http.StatusRequestEntityTooLarge {
			return e
		}
		return badRequest("the body holds data after the JSON object; send one object")
	}
}

// unknownField matches encoding/json's error for a field the target does
// not have (it has no typed error for it).
var unknownField = regexp.MustCompile(`^json: unknown field "(.*)"$`)

// bodyError explains a JSON decoding error.
func (s *server) bodyError(err error, dst any) *httpError {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "the body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return badRequest("empty body; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends inside a value")
	case errors.As(err, &syntax):
		return badRequest("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		where := "the body"
		if typ.Field != "" {
			where = fmt.Sprintf("field %q", typ.Field)
		}
		return badRequest("%s at byte %d: expected %s, got %s", where, typ.Offset, jsonKind(typ.Type), typ.Value)
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return badRequest("unknown field %q (allowed: %s)", m[1], strings.Join(jsonFields(reflect.TypeOf(dst)), ", "))
	}
	return badRequest("malformed JSON: %s", err.Error())
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// jsonFields lists the JSON field names of a struct type (through
// pointers), with those of nested object fields as "parent.child".
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
		for _, sub := range jsonFields(f.Type) {
			out = append(out, name+"."+sub)
		}
	}
	return out
}

// requestIDHeader carries the request id to and from callers.
const requestIDHeader = "X-Request-ID"

// requestIDPattern is what a caller-sent request id must look like to be
// kept (at most 64 URL-safe characters).
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

type loggerKey struct{}

// requestID gives every request an id (the caller's X-Request-ID when it is
// sane, else a new UUIDv7), echoes it in the answer and adds it to the
// request's logger.
func (s *server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !requestIDPattern.MatchString(id) {
			id = conversation.NewUUIDv7(s.now())
		}
		w.Header().Set(requestIDHeader, id)
		ctx := context.WithValue(r.Context(), loggerKey{}, s.log.With(slog.String("request_id", id)))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// logger returns the request's logger, or base.
func logger(ctx context.Context, base *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return base
}

// recordingWriter remembers whether the header was sent.
type recordingWriter struct {
	http.ResponseWriter
	wrote bool
}

// WriteHeader records that the header was sent and sends it.
func (w *recordingWriter) WriteHeader(status int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

// Write records that the header was sent and writes b.
func (w *recordingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanics turns a panic in a handler into a 500 with a generic
// message; the panic value and stack go to the log only. http.ErrAbortHandler
// is re-raised, as net/http expects.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recordingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			logger(r.Context(), s.log).LogAttrs(r.Context(), slog.LevelError, "panic in API handler",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
			if rw.wrote {
				return
			}
			s.writeJSON(rw, r, http.StatusInternalServerError, errorBody{Error: errorDetail{
				Code:    codeInternal,
				Message: "internal error; quote request id " + rw.Header().Get(requestIDHeader) + " to the operators",
			}})
		}()
		next.ServeHTTP(rw, r)
	})
}
