package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bankDay is the shipped example arrivals file.
var bankDay = filepath.Join("..", "..", "configs", "demo", "arrivals-bank-day.jsonl")

// simRun runs `airbranch simulate args...` in process.
func simRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"simulate"}, args...), func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestSimulateBankDay replays the shipped day with the embedded config and
// demo directory: a table with every segment, a total and the teams, and
// the same output on a second run.
func TestSimulateBankDay(t *testing.T) {
	t.Parallel()
	code, out, errOut := simRun(t, "-arrivals", bankDay, "-miss-rate", "0.05", "-seed", "9")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"2270 arrivals on 2026-06-02", "miss rate 0.05 (seed 9)",
		"mass ", "mass_affluent ", "affluent ", "private ", "small_business ", "retail_lending ", "total ",
		"SLA", "ASA (s)", "AHT (s)", "abandon", "occupancy", "overflow ", "80% in 20s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr not empty without a terminal or -progress: %q", errOut)
	}
	_, again, _ := simRun(t, "-arrivals", bankDay, "-miss-rate", "0.05", "-seed", "9")
	if again != out {
		t.Errorf("second run differs:\n%s\n---\n%s", out, again)
	}
	_, other, _ := simRun(t, "-arrivals", bankDay, "-miss-rate", "0.05", "-seed", "10")
	if other == out {
		t.Error("another seed gives the same output: missed offers are not drawn from the seed")
	}
}

// TestSimulateBinary runs the real binary twice with a progress bar: same
// stdout both times, the bar on stderr only.
func TestSimulateBinary(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	runBin := func() (string, string) {
		cmd := exec.Command(bin, "simulate", "-arrivals", bankDay, "-progress", "-miss-rate", "0.1", "-seed", "3")
		cmd.Env = envWithout()
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	out1, err1 := runBin()
	out2, _ := runBin()
	if out1 != out2 {
		t.Errorf("two runs of the binary differ:\n%s\n---\n%s", out1, out2)
	}
	if !strings.Contains(err1, "\rsimulating [") || !strings.Contains(err1, "100% 2270/2270") || strings.Contains(out1, "simulating [") {
		t.Errorf("progress bar: stderr %q", err1)
	}
}

func TestSimulateSmallDay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := filepath.Join(dir, "day.jsonl")
	// cus-pb-0001's own RM answers at once; a mass call at 03:00 meets
	// closed teams and gets the after-hours callback.
	lines := `{"at":"10:00:00","customer":"cus-pb-0001","channel":"voice","handle_time":300,"patience":60}
{"at":"03:00:00","segment":"mass","channel":"voice","handle_time":120,"patience":60}
`
	if err := os.WriteFile(day, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := simRun(t, "-arrivals", day, "-answer-delay", "0s", "-acw", "0s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Columns: offered answered abandoned fallback waiting SLA target ASA
	// AHT abandonment.
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"answer delay 0s", "wrap-up 0s",
		"mass 1 0 0 1 0 0.0% 80% in 1m 0.0 0.0 0.0%",
		"private 1 1 0 0 0 100.0% 80% in 20s 0.0 300.0 0.0%",
		"total 2 1 0 1 0 50.0% - 0.0 300.0 0.0%",
		"private_bank 3 1 0.08",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSimulateBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.jsonl", `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":60}`+"\n")
	bad := write("bad.jsonl", `{"at":"10:00:00","segment":"mass","channel":"voice","handle_time":60}`+"\n"+`{"at":"10:00:01","segment":"mass","channel":"voice","handle_time":"long"}`+"\n")
	stranger := write("stranger.jsonl", "\n"+`{"at":"10:00:00","customer":"cus-nobody","channel":"voice","handle_time":60}`+"\n")
	badConfig := write("airbranch.yaml", "routing:\n  costs:\n    voice: 150\n  policies:\n    - {id: x, when: \"true\", steps: [{target: \"team:nowhere\"}]}\n")
	tests := []struct {
		name   string
		args   []string
		stderr []string
	}{
		{name: "no arrivals flag", stderr: []string{"-arrivals FILE is required"}},
		{name: "missing file", args: []string{"-arrivals", filepath.Join(dir, "absent.jsonl")}, stderr: []string{"absent.jsonl", "no such file"}},
		{name: "bad line", args: []string{"-arrivals", bad}, stderr: []string{bad + ":2: handle_time: got string (allowed: a number of seconds)"}},
		{name: "unknown customer", args: []string{"-arrivals", stranger}, stderr: []string{stranger + `:2: customer: "cus-nobody" is not in the directory`}},
		{name: "bad config: every problem with its line", args: []string{"-config", badConfig, "-arrivals", good}, stderr: []string{
			badConfig + ":3: routing.costs.voice: 150 cost units (allowed: 1..100)",
			badConfig + `:5: routing.policies[0].steps[0].target: unknown team "nowhere"`,
		}},
		{name: "miss rate out of range", args: []string{"-arrivals", good, "-miss-rate", "2"}, stderr: []string{"-miss-rate from 0 to 1"}},
		{name: "bad day", args: []string{"-arrivals", good, "-day", "tuesday"}, stderr: []string{`-day "tuesday" is not a date`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := simRun(t, tt.args...)
			if code != 2 || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout\nstderr: %s", code, out, errOut)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
}
