package sip

import (
	"net/netip"
	"strings"
)

// trunkFor returns the trunk whose source list holds src, or, when none
// does, the first trunk with credentials and no source list (it must then
// authenticate); nil when the source is unknown.
func (s *Server) trunkFor(src netip.Addr) *TrunkConfig {
	src = src.Unmap()
	var credOnly *TrunkConfig
	for i := range s.cfg.Trunks {
		t := &s.cfg.Trunks[i]
		for _, p := range t.prefixes {
			if p.Contains(src) {
				return t
			}
		}
		if len(t.prefixes) == 0 && t.Username != "" && credOnly == nil {
			credOnly = t
		}
	}
	return credOnly
}

// sourceAddr returns the IP of a request's transport source ("ip:port").
func sourceAddr(src string) netip.Addr {
	if ap, err := netip.ParseAddrPort(src); err == nil {
		return ap.Addr().Unmap()
	}
	host := src
	if i := strings.LastIndex(src, ":"); i > 0 {
		host = src[:i]
	}
	a, _ := netip.ParseAddr(strings.Trim(host, "[]"))
	return a.Unmap()
}
