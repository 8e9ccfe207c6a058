package sip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTortureMessages sends RFC 4475 torture messages to the UDP listener:
// valid requests are handled, invalid ones get the 4xx/5xx RFC 4475 names,
// messages sipgo cannot parse are dropped (allowed for UDP), responses
// with no transaction are ignored, and after each the listener still
// answers OPTIONS. None creates a conversation.
func TestTortureMessages(t *testing.T) {
	sink := newFakeSink()
	s := startServer(t, testConfig(), sink, nil)
	addr := s.Addr("udp")
	tests := []struct {
		file string
		want string // status code expected; "" none; "400|" 400 or none
	}{
		{"lwsdisp", "200"}, {"semiuri", "200"}, {"transports", "200"}, {"badbranch", "200"},
		{"zeromf", "200"}, {"intmeth", "405"}, {"esc02", "405"},
		{"insuf", "400"}, {"mcl01", "400"}, {"multi01", "400"}, {"mismatch02", "400"}, {"inv2543", "400"},
		{"unkscm", "416"}, {"bext01", "420"}, {"invut", "415"}, {"badvers", "505"}, {"sdp01", "406"},
		{"clerr", "400|"}, {"ncl", "400|"}, {"scalar02", "400|"}, {"quotbal", "400|"}, {"ltgtruri", "400|"},
		{"lwsruri", "400|"}, {"lwsstart", "400|"}, {"trws", "400|"}, {"badinv01", "400|"}, {"badaspec", "400|"},
		{"baddn", "400|"}, {"mismatch01", "400|"}, {"novelsc", "400|416|"},
		{"noreason", ""}, {"unreason", ""}, {"bigcode", ""}, {"scalarlg", ""}, {"bcast", ""},
	}
	options := []byte("OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-alive-%d\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: alive-%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			msg, err := os.ReadFile(filepath.Join("testdata", "rfc4475", tt.file+".dat"))
			if err != nil {
				t.Fatal(err)
			}
			wait := 2 * time.Second
			if tt.want == "" || strings.HasSuffix(tt.want, "|") {
				wait = 300 * time.Millisecond // expecting silence: do not wait long
			}
			line, _ := rawExchange(t, addr, msg, wait)
			code := ""
			if f := strings.Fields(line); len(f) > 1 {
				code = f[1]
			}
			allowed := strings.Split(tt.want, "|")
			ok := false
			for _, a := range allowed {
				ok = ok || a == code
			}
			if !ok {
				t.Errorf("answered %q, want status %q", line, tt.want)
			}
			probe := strings.ReplaceAll(string(options), "%d", string(rune('a'+i%26))+tt.file)
			if line, _ := rawExchange(t, addr, []byte(probe), 5*time.Second); !strings.HasPrefix(line, "SIP/2.0 200") {
				t.Fatalf("listener dead after %s: OPTIONS got %q", tt.file, line)
			}
		})
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.incoming) != 0 {
		t.Errorf("torture messages created %d conversations", len(sink.incoming))
	}
}
