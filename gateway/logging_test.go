package gateway

import (
	"bytes"
	"strings"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestLoggerMasksBodiesOnce: a body logged in clear becomes its length;
// one masked already (a message's own log value) keeps its length instead
// of becoming the length of the mask.
func TestLoggerMasksBodiesOnce(t *testing.T) {
	var b bytes.Buffer
	log := NewLogger(&b, "info", "json")
	log.Info("clear", "text", "Please call me about my time deposit")
	log.Info("masked", "text", conversation.MaskText("Please call me"))
	out := b.String()
	if strings.Contains(out, "time deposit") || !strings.Contains(out, `"text":"[text 36 runes]"`) {
		t.Errorf("clear body: %s", out)
	}
	if !strings.Contains(out, `"text":"[text 14 runes]"`) {
		t.Errorf("masked body masked again: %s", out)
	}
}
