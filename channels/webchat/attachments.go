package webchat

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Attachment is the record of one upload: its id (a UUIDv7), the customer
// who uploaded it (only they may fetch it over the chat's HTTP endpoint),
// its MIME type, file name (may be empty), size in bytes, and when it was
// stored and expires.
type Attachment struct {
	ID        string                  `json:"id"`
	Owner     conversation.CustomerID `json:"owner"`
	Type      string                  `json:"type"`
	Name      string                  `json:"name,omitempty"`
	Size      int64                   `json:"size"`
	CreatedAt time.Time               `json:"created_at"`
	ExpiresAt time.Time               `json:"expires_at"`
}

// AttachmentStore holds uploads until they expire. Implementations:
// MemoryAttachments (one instance) and RedisAttachments (shared by every
// instance; small files only). A bank that keeps attachments longer plugs
// its object store in here.
type AttachmentStore interface {
	// Put stores data under a.ID until a.ExpiresAt. Errors: ErrStoreFull
	// (memory), errors wrapping conversation.ErrUnavailable.
	Put(ctx context.Context, a Attachment, data []byte) error
	// Get returns the record and the bytes; ErrAttachmentNotFound when
	// unknown or expired.
	Get(ctx context.Context, id string) (Attachment, []byte, error)
	// Stat returns the record without the bytes; ErrAttachmentNotFound
	// when unknown or expired.
	Stat(ctx context.Context, id string) (Attachment, error)
}

// MemoryAttachments is an AttachmentStore in this process's memory,
// bounded in total bytes; expired uploads are dropped as new ones arrive.
type MemoryAttachments struct {
	max int64
	now func() time.Time

	mu    sync.Mutex
	items map[string]memAttachment
	total int64
}

type memAttachment struct {
	rec  Attachment
	data []byte
}

var _ AttachmentStore = (*MemoryAttachments)(nil)

// NewMemoryAttachments returns a memory store holding at most maxBytes
// (DefaultMemoryAttachmentBytes when <= 0); now is the clock (time.Now
// when nil).
func NewMemoryAttachments(maxBytes int64, now func() time.Time) *MemoryAttachments {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryAttachmentBytes
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryAttachments{max: maxBytes, now: now, items: map[string]memAttachment{}}
}

// Put implements AttachmentStore.
func (m *MemoryAttachments) Put(_ context.Context, a Attachment, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for id, it := range m.items {
		if !now.Before(it.rec.ExpiresAt) {
			m.total -= int64(len(it.data))
			delete(m.items, id)
		}
	}
	if old, ok := m.items[a.ID]; ok {
		m.total -= int64(len(old.data))
	}
	if m.total+int64(len(data)) > m.max {
		return fmt.Errorf("%w: %d of %d bytes used", ErrStoreFull, m.total, m.max)
	}
	m.items[a.ID] = memAttachment{rec: a, data: slices.Clone(data)}
	m.total += int64(len(data))
	return nil
}

// Get implements AttachmentStore.
func (m *MemoryAttachments) Get(_ context.Context, id string) (Attachment, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	if !ok || !m.now().Before(it.rec.ExpiresAt) {
		return Attachment{}, nil, ErrAttachmentNotFound
	}
	return it.rec, slices.Clone(it.data), nil
}

// Stat implements AttachmentStore.
func (m *MemoryAttachments) Stat(ctx context.Context, id string) (Attachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	if !ok || !m.now().Before(it.rec.ExpiresAt) {
		return Attachment{}, ErrAttachmentNotFound
	}
	return it.rec, nil
}
