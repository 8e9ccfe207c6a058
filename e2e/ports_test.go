package e2e

import (
	"fmt"
	"net"
)

// freeTCPPort returns a loopback TCP port that was free a moment ago.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPTCPPort returns a loopback port free for both UDP and TCP a
// moment ago, with the next port free for TCP too (baresip binds TLS
// there).
func freeUDPTCPPort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		if next, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1)); err == nil {
			next.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no loopback port free for both udp and tcp")
}
