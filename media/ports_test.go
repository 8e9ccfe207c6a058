package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestPortRange(t *testing.T) {
	t.Parallel()
	lo := netip.MustParseAddr("127.0.0.1")
	// Find a free block: bind an ephemeral port, then use a range near it.
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	base := uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	probe.Close()
	base &^= 1
	if base > 65000 {
		base = 40000
	}
	r := &PortRange{Min: base + 1, Max: base + 5} // even ports base+2, base+4
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 2 {
		c, err := r.Listen(lo)
		if err != nil {
			t.Skipf("port near %d busy: %v", base, err)
		}
		conns = append(conns, c)
		if p := c.LocalAddr().(*net.UDPAddr).Port; p%2 != 0 || p < int(r.Min) || p > int(r.Max) {
			t.Errorf("port %d outside even ports of %d-%d", p, r.Min, r.Max)
		}
	}
	if _, err := r.Listen(lo); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("third listen err = %v, want ErrNoPorts", err)
	}
	conns[0].Close()
	c, err := r.Listen(lo)
	if err != nil {
		t.Fatalf("listen after a port was freed: %v", err)
	}
	conns = append(conns, c)
}
