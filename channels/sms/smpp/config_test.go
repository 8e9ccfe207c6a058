package smpp

import (
	"slices"
	"testing"
	"time"
)

// TestConfigProblems: Problems applies the defaults and names the field of
// each problem, as the gateway's configuration reports them.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	got := Config{Addr: "nohostport", SystemID: "bank", Password: "123456789", Account: "95566",
		EnquireLink: time.Minute, ReadTimeout: time.Second, Window: 300}.Problems()
	var fields []string
	for _, p := range got {
		fields = append(fields, p.Field)
	}
	want := []string{"addr", "password", "source_addr", "read_timeout", "window"}
	if !slices.Equal(fields, want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
	if ps := (Config{Addr: "127.0.0.1:2775", SystemID: "bank", Account: testAcct}).Problems(); ps != nil {
		t.Fatalf("good config: %v", ps)
	}
}
