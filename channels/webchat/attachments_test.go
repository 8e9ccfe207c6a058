package webchat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// pngBytes is a 1×1 transparent PNG (made for these tests).
var pngBytes = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
	0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
	0x42, 0x60, 0x82,
}

// upload posts body as typ with token and returns the response.
func (h *harness) upload(token, typ, name string, body []byte) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+AttachmentsPath+"?name="+name, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", typ)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// TestUploadAndAttach: uploads are checked (token, type, content, size),
// stored, referenced by id in a message (the stored message carries the
// reference "webchat:<id>"), and fetched only by their owner.
func TestUploadAndAttach(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config, _ *Deps) { c.Attachments.MaxBytes = 1024 })
	tok := h.token("app-user-1", nil)
	tests := []struct {
		name, token, typ string
		body             []byte
		status           int
	}{
		{"no token", "", "image/png", pngBytes, http.StatusUnauthorized},
		{"type not allowed", tok, "text/html", []byte("<p>hi</p>"), http.StatusUnsupportedMediaType},
		{"content not of its type", tok, "image/png", []byte("<html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType},
		{"too large", tok, "application/pdf", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 2048)...), http.StatusRequestEntityTooLarge},
		{"empty", tok, "image/png", nil, http.StatusBadRequest},
		{"png", tok, "image/png", pngBytes, http.StatusCreated},
	}
	var rec Attachment
	for _, tt := range tests {
		resp := h.upload(tt.token, tt.typ, "..%2Fphoto.png", tt.body)
		if resp.StatusCode != tt.status {
			t.Fatalf("%s: HTTP %d, want %d: %s", tt.name, resp.StatusCode, tt.status, readAll(t, resp))
		}
		if tt.status == http.StatusCreated {
			decodeResp(t, resp, http.StatusCreated, &rec)
		}
	}
	if rec.ID == "" || rec.Owner != "cus-1" || rec.Type != "image/png" || rec.Size != int64(len(pngBytes)) || rec.Name != "photo.png" {
		t.Fatalf("record %+v", rec)
	}

	c, _ := h.connect(tok, -1)
	c.send(TypeMessage, "p-1", map[string]any{"text": "my payslip", "attachments": []map[string]string{{"id": rec.ID}}})
	f := c.until(TypeAck)
	var ack Ack
	c.decode(f, &ack)
	m := h.bank.message(t, ack.MessageID)
	want := conversation.Attachment{Type: "image/png", Size: int64(len(pngBytes)), Ref: "webchat:" + rec.ID, Name: "photo.png"}
	if len(m.Attachments) != 1 || m.Attachments[0] != want {
		t.Fatalf("stored attachments %+v, want %+v", m.Attachments, want)
	}
	if got, data, err := h.a.Attachment(context.Background(), rec.ID); err != nil || got.ID != rec.ID || !bytes.Equal(data, pngBytes) {
		t.Fatalf("Attachment: %+v %v", got, err)
	}

	// Another client can neither attach it nor fetch it.
	other, _ := h.connect(h.token("app-user-2", nil), -1)
	other.send(TypeMessage, "p-2", map[string]any{"text": "x", "attachments": []map[string]string{{"id": rec.ID}}})
	var e ErrorData
	other.decode(other.until(TypeError), &e)
	if e.Code != "attachment_not_found" {
		t.Fatalf("other's attachment: %+v", e)
	}
	for _, tt := range []struct {
		token  string
		status int
	}{{tok, http.StatusOK}, {h.token("app-user-2", nil), http.StatusNotFound}, {"", http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+AttachmentsPath+"/"+rec.ID, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != tt.status || tt.status == http.StatusOK && (body != string(pngBytes) || resp.Header.Get("X-Content-Type-Options") != "nosniff") {
			t.Fatalf("GET: HTTP %d %v", resp.StatusCode, resp.Header)
		}
	}
}

// TestAttachmentStoreContract runs one body on memory, miniredis and the
// real Redis of AIRBRANCH_TEST_REDIS_URL (skipped when unset).
func TestAttachmentStoreContract(t *testing.T) {
	t.Parallel()
	clk := newClock()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		attachmentContract(t, NewMemoryAttachments(1<<20, clk.Now), clk, func(d time.Duration) { clk.Add(d) })
	})
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		m := miniredis.RunT(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		now := time.Now()
		m.SetTime(now)
		own := &clock{t: now}
		attachmentContract(t, NewRedisAttachments(c, testPrefix()), own, func(d time.Duration) { own.Add(d); m.SetTime(own.Now()); m.FastForward(d) })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		c, prefix := realRedis(t)
		// A real Redis keeps its own time: only the first part applies.
		attachmentContract(t, NewRedisAttachments(c, prefix), newClock(), nil)
	})
}

func attachmentContract(t *testing.T, s AttachmentStore, clk *clock, advance func(time.Duration)) {
	ctx := context.Background()
	now := clk.Now()
	rec := Attachment{ID: conversation.NewUUIDv7(now), Owner: "cus-1", Type: "image/png", Name: "p.png", Size: int64(len(pngBytes)),
		CreatedAt: conversation.Millis(now), ExpiresAt: conversation.Millis(now.Add(time.Hour))}
	if _, _, err := s.Get(ctx, rec.ID); !errors.Is(err, ErrAttachmentNotFound) || !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("get before put: %v", err)
	}
	if err := s.Put(ctx, rec, pngBytes); err != nil {
		t.Fatal(err)
	}
	got, data, err := s.Get(ctx, rec.ID)
	if err != nil || !got.CreatedAt.Equal(rec.CreatedAt) || !got.ExpiresAt.Equal(rec.ExpiresAt) || !bytes.Equal(data, pngBytes) {
		t.Fatalf("get: %+v %v", got, err)
	}
	got.CreatedAt, got.ExpiresAt = rec.CreatedAt, rec.ExpiresAt
	if got != rec {
		t.Fatalf("record %+v, want %+v", got, rec)
	}
	if st, err := s.Stat(ctx, rec.ID); err != nil || st.Owner != "cus-1" || st.Size != rec.Size {
		t.Fatalf("stat: %+v %v", st, err)
	}
	if advance == nil {
		return
	}
	advance(2 * time.Hour)
	if _, err := s.Stat(ctx, rec.ID); !errors.Is(err, ErrAttachmentNotFound) {
		t.Fatalf("after expiry: %v", err)
	}
}

// TestMemoryAttachmentsFull: the memory store refuses what would pass its
// bound, and frees expired uploads first.
func TestMemoryAttachmentsFull(t *testing.T) {
	t.Parallel()
	clk := newClock()
	m := NewMemoryAttachments(100, clk.Now)
	ctx := context.Background()
	put := func(id string, n int) error {
		return m.Put(ctx, Attachment{ID: id, ExpiresAt: clk.Now().Add(time.Minute)}, make([]byte, n))
	}
	if err := put("a", 60); err != nil {
		t.Fatal(err)
	}
	if err := put("b", 60); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("over the bound: %v", err)
	}
	clk.Add(2 * time.Minute)
	if err := put("b", 60); err != nil {
		t.Fatalf("after a's expiry: %v", err)
	}
}

func testPrefix() string { return fmt.Sprintf("{webchat-test-%d}", time.Now().UnixNano()) }

const testRedisEnv = "AIRBRANCH_TEST_REDIS_URL"

// realRedis connects to AIRBRANCH_TEST_REDIS_URL (skipping without it)
// and deletes the test's keys at the end.
func realRedis(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	u := os.Getenv(testRedisEnv)
	if u == "" {
		t.Skip(testRedisEnv + " not set")
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", testRedisEnv, err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", u, err)
	}
	prefix := testPrefix()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			_ = c.Del(ctx, iter.Val()).Err()
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup of %s: %v", prefix, err)
		}
		_ = c.Close()
	})
	return c, prefix
}
