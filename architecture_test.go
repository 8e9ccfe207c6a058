package airbranch_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the package layering (README,
// "Architecture") true: the domain core is a leaf, routing decides without
// I/O, channels and media know nothing of routing or the gateway, and
// nothing imports the gateway but the binary.
func TestDependencyDirection(t *testing.T) {
	t.Parallel()
	const mod = "github.com/airbranch/airbranch/"
	deps := func(t *testing.T, pkg string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		var list []string
		for _, l := range strings.Fields(string(out)) {
			if l != mod+pkg {
				list = append(list, l)
			}
		}
		return list
	}
	allPkgs := func(t *testing.T) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "./...").Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		var list []string
		for _, l := range strings.Fields(string(out)) {
			list = append(list, strings.TrimPrefix(l, mod))
		}
		return list
	}
	rules := []struct {
		name    string
		applies func(pkg string) bool
		allowed func(dep string) bool
	}{
		{
			name:    "conversation imports only the standard library",
			applies: func(p string) bool { return p == "channels/conversation" },
			allowed: func(string) bool { return false },
		},
		{
			name:    "routing imports only conversation and expr",
			applies: func(p string) bool { return p == "routing" || strings.HasPrefix(p, "routing/") },
			allowed: func(d string) bool {
				return d == mod+"channels/conversation" || strings.HasPrefix(d, "github.com/expr-lang/expr") ||
					strings.HasPrefix(d, mod+"routing")
			},
		},
		{
			// A channel adapter may use media (the SIP adapter's RTP legs);
			// media never uses a channel (below).
			name:    "channels never import routing or the gateway",
			applies: func(p string) bool { return strings.HasPrefix(p, "channels/") },
			allowed: func(d string) bool {
				return !strings.HasPrefix(d, mod+"routing") && !strings.HasPrefix(d, mod+"gateway")
			},
		},
		{
			name:    "media knows nothing of channels, routing or the gateway",
			applies: func(p string) bool { return p == "media" || strings.HasPrefix(p, "media/") },
			allowed: func(d string) bool {
				return !strings.HasPrefix(d, mod+"channels") && !strings.HasPrefix(d, mod+"routing") && !strings.HasPrefix(d, mod+"gateway")
			},
		},
		{
			name:    "configs never import the gateway",
			applies: func(p string) bool { return p == "configs" || strings.HasPrefix(p, "configs/") },
			allowed: func(d string) bool { return !strings.HasPrefix(d, mod+"gateway") },
		},
		{
			name:    "only the binary imports the gateway root",
			applies: func(p string) bool { return p != "cmd/airbranch" && p != "gateway" },
			allowed: func(d string) bool { return d != mod+"gateway" },
		},
	}
	for _, pkg := range allPkgs(t) {
		if pkg == mod[:len(mod)-1] {
			continue
		}
		for _, r := range rules {
			if !r.applies(pkg) {
				continue
			}
			for _, d := range deps(t, pkg) {
				if !r.allowed(d) {
					t.Errorf("%s: %s imports %s", r.name, pkg, d)
				}
			}
		}
	}
}

// TestRoutingHasNoWallClock keeps routing decisions pure: no time.Now and
// no global random source in routing's non-test code.
func TestRoutingHasNoWallClock(t *testing.T) {
	t.Parallel()
	out, _ := exec.Command("grep", "-rnE", `time\.Now\(|math/rand"|rand\.(Int|Float|Shuffle|Perm)`, "--include=*.go", "--exclude=*_test.go", "routing").Output()
	if len(out) > 0 {
		t.Errorf("routing must take the clock and randomness as inputs:\n%s", out)
	}
}
