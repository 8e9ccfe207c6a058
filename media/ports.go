package media

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// PortRange allocates RTP sockets on even ports between Min and Max
// inclusive (RFC 3550 §11: RTP on an even port, RTCP on the next odd one,
// which the gateway leaves free and does not use). Min 0 lets the kernel
// choose any free port. It is safe for concurrent use.
type PortRange struct {
	// Min and Max bound the ports; both 0 means any port.
	Min, Max uint16

	mu   sync.Mutex
	next uint16
}

// Listen binds a UDP socket on ip (the unspecified address listens on all
// interfaces) at the next free even port of the range, trying each port of
// the range at most once. Errors wrap ErrNoPorts when all are taken.
func (r *PortRange) Listen(ip netip.Addr) (*net.UDPConn, error) {
	if r.Min == 0 && r.Max == 0 {
		return net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	}
	lo, hi := r.Min+r.Min%2, r.Max
	if lo > hi {
		return nil, fmt.Errorf("rtp port range %d-%d: %w", r.Min, r.Max, ErrNoPorts)
	}
	count := int(hi-lo)/2 + 1
	r.mu.Lock()
	start := r.next
	if start < lo || start > hi {
		start = lo
	}
	r.mu.Unlock()
	var lastErr error
	port := start
	for range count {
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
		nextPort := port + 2
		if nextPort > hi || nextPort < port {
			nextPort = lo
		}
		if err == nil {
			r.mu.Lock()
			r.next = nextPort
			r.mu.Unlock()
			return conn, nil
		}
		lastErr = err
		port = nextPort
	}
	return nil, fmt.Errorf("rtp port range %d-%d: %w (last: %v)", lo, hi, ErrNoPorts, lastErr)
}
