package e2e

import (
	"fmt"
	"os"
	"testing"
)

// the cluster every test of the run shares; nil unless AIRBRANCH_E2E=1.
var (
	shared   *cluster
	startErr error
)

func TestMain(m *testing.M) {
	if os.Getenv("AIRBRANCH_E2E") != "1" {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "airbranch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "e2e: working directory %s (logs, configuration, Redis files)\n", dir)
	shared, startErr = startCluster(dir)
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	if code == 0 && os.Getenv("AIRBRANCH_E2E_KEEP") != "1" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// need returns the running cluster, skipping the test when the suite is
// not asked for (AIRBRANCH_E2E=1) and failing it when the cluster did not
// start.
func need(t *testing.T) *cluster {
	t.Helper()
	if os.Getenv("AIRBRANCH_E2E") != "1" {
		t.Skip("end-to-end suite: set AIRBRANCH_E2E=1 (make e2e)")
	}
	if startErr != nil {
		t.Fatalf("cluster did not start: %v", startErr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, in := range shared.instances() {
				t.Logf("instance %s log (last 6000 bytes, full log %s):\n%s", in.name, in.logPath, in.LogTail(6000))
			}
		}
	})
	return shared
}

// TestClusterUp: both instances serve behind the balancer on one Redis.
func TestClusterUp(t *testing.T) {
	c := need(t)
	for _, in := range c.instances() {
		if !in.Ready() {
			t.Fatalf("instance %s not ready", in.name)
		}
	}
}
