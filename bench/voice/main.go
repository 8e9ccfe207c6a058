// Command voice is the voice benchmark of BENCHMARKS.md ("Voice"): sipp
// drives calls from a trunk into Airbranch (answered, queued with prompts
// and music, routed, ringing the chosen RM's registered phone, which
// answers, and bridged with the RTP relay) and, in the same run with the
// same sipp scenarios, into Debian's kamailio (stateful proxy with an
// in-memory registrar; alone for the rate test, relaying media through
// Debian's rtpengine in user space for the concurrent-calls test),
// interleaving ours and the peer step by step. It measures
//
//   - calls per second: for each rate of -cps, -cps-seconds of calls that
//     stay -hold after the answer, counted as failed when sipp's caller
//     fails them or the phone sipp did not answer and complete each one;
//     the highest rate with zero failed calls, and CPU milliseconds of
//     signalling per call (kamailio's processes; Airbranch's process);
//   - concurrent bridged G.711 calls: for each count of -conc, that many
//     calls ramped at -conc-rate, each caller playing 50 packets/s of PCMU
//     from a pcap and the phone side echoing (so media flows both ways
//     through the relay); over a -window with every call up: packet loss
//     and delay variation of the relayed stream at the phone side, failed
//     calls, and CPU of the relay process (Airbranch's; rtpengine's) per
//     call in percent of one core.
//
// Run from the repository root (needs sipp, kamailio, rtpengine):
//
//	go run ./bench/voice -runs 2
//
// It prints one JSON line per step and a summary of medians; -out keeps
// the working folder (logs, sipp statistics).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchDir is this folder, relative to the repository root.
const benchDir = "bench/voice"

// syscallZero is signal 0: a liveness probe.
var syscallZero = syscall.Signal(0)

// target is one system under test, as the steps see it.
type target struct {
	name      string
	sipAddr   string
	service   string // the dialled user
	uasPort   int    // where its registered phone(s) point
	sigPids   []int  // signalling processes (CPU per call)
	mediaPids []int  // relay processes (CPU per relayed call)
	settle    time.Duration
	failedAt  int // the run's first failing rate or count; 0 while none failed
	readyAt   time.Time
}

type cpsResult struct {
	Kind         string    `json:"kind"`
	Target       string    `json:"target"`
	Run          int       `json:"run"`
	Rate         int       `json:"rate"`
	Calls        int       `json:"calls"`
	Caller       sippStats `json:"caller"`
	Phone        sippStats `json:"phone"`
	AchievedCPS  float64   `json:"achieved_cps"`
	CPUmsPerCall float64   `json:"cpu_ms_per_call"`
	ZeroFailed   bool      `json:"zero_failed"`
	Load         string    `json:"load"`
	Error        string    `json:"error,omitempty"`
}

type concResult struct {
	Kind        string      `json:"kind"`
	Target      string      `json:"target"`
	Run         int         `json:"run"`
	Calls       int         `json:"calls"`
	Caller      sippStats   `json:"caller"`
	Phone       sippStats   `json:"phone"`
	FailedCalls int         `json:"failed_calls"`
	Media       mediaResult `json:"media"`
	RelayCPUPct float64     `json:"relay_cpu_pct_per_call"`
	SigCPUPct   float64     `json:"sig_cpu_pct_per_call"`
	Pass        bool        `json:"pass"`
	Load        string      `json:"load"`
	Error       string      `json:"error,omitempty"`
}

var (
	flagRuns      = flag.Int("runs", 2, "runs of every ladder (ours and the peer interleaved step by step)")
	flagCPS       = flag.String("cps", "50,100,150,200,250,300,400,500,700,1000", "call rates to try, calls/s, ascending")
	flagCPSSecs   = flag.Int("cps-seconds", 8, "seconds of calls at each rate")
	flagHold      = flag.Duration("hold", 4*time.Second, "how long each call of the rate test stays up after the answer")
	flagConc      = flag.String("conc", "100,200,300,400,500,600", "concurrent call counts to try, ascending")
	flagConcRate  = flag.Int("conc-rate", 25, "calls/s ramping up the concurrent calls")
	flagWindow    = flag.Duration("window", 15*time.Second, "measurement window with every concurrent call up")
	flagRMs       = flag.Int("rms", 3000, "RMs (each with a phone) in the benchmark directory")
	flagOut       = flag.String("out", "", "working folder (kept); default a temporary one, removed")
	flagSkipCPS   = flag.Bool("skip-cps", false, "skip the calls-per-second test")
	flagSkipConc  = flag.Bool("skip-conc", false, "skip the concurrent-calls test")
	flagSummarize = flag.String("summarize", "", "print the summary of a previous run's output (JSON lines) and exit")
	flagBin       = flag.String("bin", "", "prebuilt airbranch binary; default: go build ./cmd/airbranch")
	flagOnly      = flag.String("only", "", "airbranch or peer: measure one side only")
)

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *flagSummarize != "" {
		if err := summarizeFile(os.Stdout, *flagSummarize); err != nil {
			log.Fatal(err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	for _, tool := range []string{"sipp", "kamailio", "rtpengine"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not installed (apt-get install --no-install-recommends sip-tester kamailio rtpengine-daemon)", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(benchDir, "kamailio.cfg")); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	work := *flagOut
	if work == "" {
		d, err := os.MkdirTemp("", "voice-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	work, _ = filepath.Abs(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if err := writeTalkPcap(filepath.Join(work, "talk.pcap"), 120); err != nil {
		return err
	}
	// Each call comes from a number of its own (E.164, Hong Kong mobile
	// length), as a trunk's callers would.
	var callers strings.Builder
	callers.WriteString("SEQUENTIAL\n")
	for i := range 60000 {
		fmt.Fprintf(&callers, "+8525%07d\n", i+1)
	}
	if err := os.WriteFile(filepath.Join(work, "callers.csv"), []byte(callers.String()), 0o644); err != nil {
		return err
	}
	bin := *flagBin
	if bin == "" {
		bin = filepath.Join(work, "airbranch-bin")
		log.Printf("building ./cmd/airbranch")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/airbranch").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}

	var ours, peerCPS, peerConc *target
	if *flagOnly != "peer" {
		log.Printf("starting airbranch with %d RMs", *flagRMs)
		g, err := startAirbranch(ctx, bin, work, *flagRMs)
		if err != nil {
			return err
		}
		defer g.stop()
		uas := uasPortAirbranch
		if err := g.makeAvailable(); err != nil {
			return fmt.Errorf("presence: %w", err)
		}
		log.Printf("registering %d phones", *flagRMs)
		if err := g.registerPhones(work, uas); err != nil {
			return err
		}
		ours = &target{name: "airbranch", sipAddr: g.sipAddr, service: benchNumber, uasPort: uas,
			sigPids: []int{g.pid()}, mediaPids: []int{g.pid()}, settle: 13 * time.Second}
	}
	if *flagOnly != "airbranch" {
		log.Printf("starting kamailio and rtpengine")
		p, err := startPeer(work)
		if err != nil {
			return err
		}
		defer p.stop()
		if err := p.registerPhone(work, p.sipAddr, uasPortKamailio); err != nil {
			return err
		}
		if err := p.registerPhone(work, p.sipAddrRTP, uasPortKamailioRTP); err != nil {
			return err
		}
		peerCPS = &target{name: "kamailio", sipAddr: p.sipAddr, service: "bench-rm", uasPort: uasPortKamailio,
			sigPids: []int{p.kamailio.Process.Pid}, settle: 2 * time.Second}
		peerConc = &target{name: "kamailio+rtpengine", sipAddr: p.sipAddrRTP, service: "bench-rm", uasPort: uasPortKamailioRTP,
			sigPids: []int{p.kamailioRTP.Process.Pid}, mediaPids: []int{p.rtpengine.Process.Pid}, settle: 2 * time.Second}
	}

	cpsTargets, concTargets := nonNil(ours, peerCPS), nonNil(ours, peerConc)
	enc := json.NewEncoder(os.Stdout)
	var cpsAll []cpsResult
	var concAll []concResult
	for r := 1; r <= *flagRuns; r++ {
		if !*flagSkipCPS {
			for _, t := range cpsTargets {
				t.failedAt = 0
			}
			for _, rate := range ints(*flagCPS) {
				for _, t := range cpsTargets {
					if t.failedAt != 0 || ctx.Err() != nil {
						continue
					}
					res := cpsStep(work, t, r, rate)
					_ = enc.Encode(res)
					cpsAll = append(cpsAll, res)
					if !res.ZeroFailed {
						t.failedAt = rate
					}
				}
			}
		}
		if !*flagSkipConc {
			for _, t := range concTargets {
				t.failedAt = 0
			}
			for _, n := range ints(*flagConc) {
				for _, t := range concTargets {
					if t.failedAt != 0 || ctx.Err() != nil {
						continue
					}
					res := concStep(work, t, r, n)
					_ = enc.Encode(res)
					concAll = append(concAll, res)
					if !res.Pass {
						t.failedAt = n
					}
				}
			}
		}
	}
	summarize(os.Stdout, nonNil(ours, peerCPS, peerConc), cpsAll, concAll)
	return nil
}

// The phone sipp of each target listens on a fixed port below the
// kernel's ephemeral range (32768-60999) and outside the relays' RTP ranges
// (Airbranch 20000-29999, rtpengine 10000-19999), so that nothing takes it
// between two steps.
const (
	uasPortAirbranch   = 31070
	uasPortKamailio    = 31080
	uasPortKamailioRTP = 31090
)

func nonNil(ts ...*target) []*target {
	var out []*target
	for _, t := range ts {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// waitReady waits until the target's previous step has settled (for
// Airbranch: the 10 s wrap-up holding each RM's capacity has ended).
func (t *target) waitReady() {
	if d := time.Until(t.readyAt); d > 0 {
		time.Sleep(d)
	}
}

// cpsStep offers rate calls/s for -cps-seconds (at most -rms calls, so
// every call may find an RM whose capacity is free).
func cpsStep(work string, t *target, run, rate int) cpsResult {
	t.waitReady()
	calls := min(rate**flagCPSSecs, *flagRMs)
	res := cpsResult{Kind: "cps", Target: t.name, Run: run, Rate: rate, Calls: calls, Load: loadAverage()}
	defer func() { t.readyAt = time.Now().Add(t.settle) }()
	pr, err := newProbe()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer pr.close()
	phone, err := startSipp(work, t.name+"-phone", "phone.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(t.uasPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort("udp")), "-set", "rtp_port", strconv.Itoa(pr.port()))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	time.Sleep(500 * time.Millisecond)
	cpu0 := cpuSeconds(t.sigPids...)
	caller, err := startSipp(work, t.name+"-caller", "caller.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort("udp")),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort("udp")), "-s", t.service,
		"-r", strconv.Itoa(rate), "-rp", "1000", "-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls),
		"-inf", filepath.Join(work, "callers.csv"),
		"-d", strconv.Itoa(int(flagHold.Milliseconds())), "-recv_timeout", "20000", t.sipAddr)
	if err != nil {
		phone.stop()
		res.Error = err.Error()
		return res
	}
	err = caller.wait(time.Duration(calls/rate)*time.Second + *flagHold + 90*time.Second)
	time.Sleep(2 * time.Second)
	phone.stop()
	cpu1 := cpuSeconds(t.sigPids...)
	res.Caller, _ = caller.stats()
	res.Phone, _ = phone.stats()
	if res.Caller.Seconds > 0 {
		res.AchievedCPS = float64(res.Caller.Created) / res.Caller.Seconds
	}
	res.CPUmsPerCall = 1000 * (cpu1 - cpu0) / float64(calls)
	res.ZeroFailed = err == nil && res.Caller.Successful == calls && res.Caller.Failed == 0 &&
		res.Phone.Successful == calls && res.Phone.Failed == 0
	if !res.ZeroFailed {
		res.Error = strings.TrimSpace(fmt.Sprint(err, " ", lastLines(caller.errors(), 3), " | phone: ", lastLines(phone.errors(), 3)))
	}
	log.Printf("cps %s run %d rate %d: caller %d/%d ok, %d failed; phone %d ok, %d failed; %.2f ms CPU/call; load %s",
		t.name, run, rate, res.Caller.Successful, calls, res.Caller.Failed, res.Phone.Successful, res.Phone.Failed, res.CPUmsPerCall, res.Load)
	return res
}

// concStep holds n calls with media both ways and measures a window.
func concStep(work string, t *target, run, n int) concResult {
	t.waitReady()
	res := concResult{Kind: "concurrent", Target: t.name, Run: run, Calls: n, Load: loadAverage()}
	defer func() { t.readyAt = time.Now().Add(t.settle) }()
	pr, err := newProbe()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer pr.close()
	phone, err := startSipp(work, t.name+"-phone", "phone.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(t.uasPort),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort("udp")), "-set", "rtp_port", strconv.Itoa(pr.port()))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	time.Sleep(500 * time.Millisecond)
	ramp := time.Duration(float64(n) / float64(*flagConcRate) * float64(time.Second))
	settle := 8 * time.Second
	hold := ramp + settle + *flagWindow + 3*time.Second
	caller, err := startSipp(work, t.name+"-rtp-caller", "caller_rtp.xml", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort("udp")),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort("udp")), "-s", t.service,
		"-r", strconv.Itoa(*flagConcRate), "-rp", "1000", "-m", strconv.Itoa(n), "-l", strconv.Itoa(n),
		"-inf", filepath.Join(work, "callers.csv"),
		"-d", strconv.Itoa(int(hold.Milliseconds())), "-recv_timeout", "20000", t.sipAddr)
	if err != nil {
		phone.stop()
		res.Error = err.Error()
		return res
	}
	time.Sleep(ramp + settle)
	m0, s0 := cpuSeconds(t.mediaPids...), cpuSeconds(t.sigPids...)
	pr.start()
	time.Sleep(*flagWindow)
	res.Media = pr.stop(n, *flagWindow)
	m1, s1 := cpuSeconds(t.mediaPids...), cpuSeconds(t.sigPids...)
	err = caller.wait(hold + 90*time.Second)
	time.Sleep(2 * time.Second)
	phone.stop()
	res.Caller, _ = caller.stats()
	res.Phone, _ = phone.stats()
	res.RelayCPUPct = 100 * (m1 - m0) / flagWindow.Seconds() / float64(n)
	res.SigCPUPct = 100 * (s1 - s0) / flagWindow.Seconds() / float64(n)
	res.FailedCalls = n - min(n, res.Caller.Successful)
	if bridged := min(n, res.Phone.Successful); n-bridged > res.FailedCalls {
		res.FailedCalls = n - bridged
	}
	res.Pass = res.Media.LossPct < 1 && float64(res.FailedCalls) < 0.01*float64(n)
	if err != nil || res.FailedCalls > 0 {
		res.Error = strings.TrimSpace(fmt.Sprint(err, " ", lastLines(caller.errors(), 3), " | phone: ", lastLines(phone.errors(), 3)))
	}
	log.Printf("concurrent %s run %d calls %d: failed %d; loss %.3f%% over %d streams; DV p50 %.2f p99 %.2f ms; relay CPU %.3f%%/call; load %s",
		t.name, run, n, res.FailedCalls, res.Media.LossPct, res.Media.Streams, res.Media.P50DVms, res.Media.P99DVms, res.RelayCPUPct, res.Load)
	return res
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && v > 0 {
			out = append(out, v)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
