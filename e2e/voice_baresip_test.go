package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// voiceBaresip is one baresip (Debian's baresip-core) with one account,
// sending a sine of its tone as its voice, keeping what it hears (its
// sndfile module's dump-*-dec.wav: the decoded audio of each call), and
// driven over its ctrl_tcp module (netstring-framed JSON
// commands; its events, e.g. REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED,
// come the same way).
type voiceBaresip struct {
	t     *testing.T
	name  string
	dir   string
	cmd   *exec.Cmd
	out   *voiceOutput
	done  chan struct{}
	ctrl  net.Conn
	wmu   sync.Mutex
	mu    sync.Mutex
	resp  chan map[string]any
	evs   []string // event types, in order
	ping  chan struct{}
	quits sync.Once
}

// voiceBaresipPorts are baresip's RTP ports: outside both instances' RTP
// ranges (30000-33999).
const voiceBaresipPorts = "44000-47998"

// voiceStartBaresip runs baresip with account (a line of baresip's
// accounts file) and tone Hz as its microphone, and connects to its
// control port. When the test ends it quits (a registered phone
// unregisters) or is killed after 10 s.
func voiceStartBaresip(t *testing.T, name, account string, tone int) *voiceBaresip {
	t.Helper()
	bin := voiceNeedTool(t, "baresip", "baresip-core")
	dir := t.TempDir()
	sipPort, err := freeUDPTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	ctrlPort, err := freeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_source ausine,%d
net_interface 127.0.0.1
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
rtp_ports %s
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module sndfile.so
snd_path %s
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
`, sipPort, tone, voiceBaresipPorts, dir, ctrlPort)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &voiceBaresip{t: t, name: name, dir: dir, out: &voiceOutput{}, done: make(chan struct{}),
		resp: make(chan map[string]any, 16), ping: make(chan struct{})}
	b.cmd = exec.Command(bin, "-f", dir)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		b.quit()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", name, b.out.tail(4000))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		b.ctrl, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ctrlPort))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip %s: control port: %v\n%s", name, err, b.out.tail(2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	go b.read()
	return b
}

// read takes the control connection's netstrings: answers to commands go
// to resp, events to evs.
func (b *voiceBaresip) read() {
	r := bufio.NewReader(b.ctrl)
	for {
		n, err := r.ReadString(':')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSpace(n[:len(n)-1]))
		if err != nil || size > 1<<20 {
			return
		}
		buf := make([]byte, size+1) // the payload and its ','
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(buf[:size], &m) != nil {
			continue
		}
		if m["event"] == true {
			b.mu.Lock()
			b.evs = append(b.evs, fmt.Sprint(m["type"]))
			close(b.ping)
			b.ping = make(chan struct{})
			b.mu.Unlock()
			continue
		}
		if m["response"] == true {
			select {
			case b.resp <- m:
			default:
			}
		}
	}
}

// command runs a baresip command (as typed after "/" on its console)
// and returns its output; a command baresip refuses fails the test.
func (b *voiceBaresip) command(name, params string) string {
	b.t.Helper()
	raw, _ := json.Marshal(map[string]string{"command": name, "params": params, "token": "e2e"})
	b.wmu.Lock()
	_, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(raw), raw)
	b.wmu.Unlock()
	if err != nil {
		b.t.Fatalf("baresip %s: %s: %v", b.name, name, err)
	}
	select {
	case m := <-b.resp:
		if m["ok"] != true {
			b.t.Fatalf("baresip %s: %s %s: %v", b.name, name, params, m["data"])
		}
		s, _ := m["data"].(string)
		return s
	case <-time.After(10 * time.Second):
		b.t.Fatalf("baresip %s: no answer to %s", b.name, name)
		return ""
	}
}

// events returns the event types seen so far.
func (b *voiceBaresip) events() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.evs...)
}

// waitEvent waits up to within for an event of type typ (e.g.
// CALL_CLOSED), counting from the first, and fails the test otherwise.
func (b *voiceBaresip) waitEvent(typ string, within time.Duration) {
	b.t.Helper()
	deadline := time.After(within)
	for {
		b.mu.Lock()
		for _, e := range b.evs {
			if e == typ {
				b.mu.Unlock()
				return
			}
		}
		ch := b.ping
		b.mu.Unlock()
		select {
		case <-ch:
		case <-b.done:
			b.t.Fatalf("baresip %s exited before %s; its events: %v\n%s", b.name, typ, b.events(), b.out.tail(2000))
		case <-deadline:
			b.t.Fatalf("baresip %s: no %s within %s; its events: %v\n%s", b.name, typ, within, b.events(), b.out.tail(2000))
		}
	}
}

// heard is the WAV file of what baresip heard on its last call (decoded,
// before playing), "" when there is none.
func (b *voiceBaresip) heard() string {
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	newest, at := "", time.Time{}
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(at) {
			newest, at = f, st.ModTime()
		}
	}
	return newest
}

// quit asks baresip to quit (unregistering a registered account first)
// and kills it after 10 s.
func (b *voiceBaresip) quit() {
	b.quits.Do(func() {
		raw, _ := json.Marshal(map[string]string{"command": "quit", "token": "e2e"})
		if b.ctrl != nil {
			b.wmu.Lock()
			_, _ = fmt.Fprintf(b.ctrl, "%d:%s,", len(raw), raw)
			b.wmu.Unlock()
		}
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
		if b.ctrl != nil {
			_ = b.ctrl.Close()
		}
	})
}

// voiceStartBaresipPhone runs baresip as rm's desk phone, registered with
// the instance at gw by digest and answering every call by itself, and
// waits for the registration.
func voiceStartBaresipPhone(t *testing.T, gw, rm string, tone int) *voiceBaresip {
	t.Helper()
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;answermode=auto;regint=600;audio_codecs=PCMU,PCMA",
		rm, gw, phonePassword(rm))
	b := voiceStartBaresip(t, rm+" phone", account, tone)
	// The registration may be over before the control connection is up,
	// its event missed: reginfo says it too.
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Contains(b.events(), "REGISTER_OK") {
		info := b.command("reginfo", "")
		if strings.Contains(info, "OK") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip %s did not register within 20 s: %s\n%s", b.name, info, b.out.tail(2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return b
}

// voiceSBC is the bank's session border controller in front of a
// trunk-side SIP client that cannot add headers itself (baresip): a UDP
// relay that passes the client's requests to the gateway with a
// P-Asserted-Identity (RFC 3325) asserting the caller's number, as a
// carrier's SBC does on a trusted trunk, and passes back what the gateway
// answers to it. In-dialog requests (ACK, BYE) go between the two
// directly, to the Contact each gave.
type voiceSBC struct {
	conn *net.UDPConn
	gw   *net.UDPAddr
	pai  string
	done chan struct{}
}

// voiceStartSBC relays to the gateway at gw, asserting pai (E.164).
func voiceStartSBC(t *testing.T, gw, pai string) *voiceSBC {
	t.Helper()
	gwAddr, err := net.ResolveUDPAddr("udp", gw)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &voiceSBC{conn: conn, gw: gwAddr, pai: pai, done: make(chan struct{})}
	go s.run()
	t.Cleanup(func() { _ = conn.Close(); <-s.done })
	return s
}

// Addr is the relay's address, where the client sends its INVITE.
func (s *voiceSBC) Addr() string { return s.conn.LocalAddr().String() }

func (s *voiceSBC) run() {
	defer close(s.done)
	var client *net.UDPAddr
	buf := make([]byte, 65535)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		if from.IP.Equal(s.gw.IP) && from.Port == s.gw.Port {
			if client != nil {
				_, _ = s.conn.WriteToUDP([]byte(msg), client)
			}
			continue
		}
		client = from
		if strings.HasPrefix(msg, "INVITE ") {
			if i := strings.Index(msg, "\r\n"); i > 0 {
				msg = msg[:i+2] + "P-Asserted-Identity: <tel:" + s.pai + ">\r\n" + msg[i+2:]
			}
		}
		_, _ = s.conn.WriteToUDP([]byte(msg), s.gw)
	}
}
