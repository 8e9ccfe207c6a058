package sip

import (
	"bytes"

	"github.com/emiago/sipgo/sip"
)

// forceRport is a sipgo read filter for UDP that adds an empty rport
// parameter to the top Via of every request that lacks one (RFC 3581 §4
// symmetric response routing, "force_rport" in SIP proxies), so responses
// go back to the packet's source address and port even when the sender's
// Via names a private or wrong address (trunks and phones behind NAT). It
// touches only an unfolded first Via line; responses and other messages
// pass unchanged.
func forceRport(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if info.Transport != "UDP" && info.Transport != "udp" {
		return data, nil
	}
	if bytes.HasPrefix(data, []byte("SIP/")) {
		return data, nil
	}
	start := 0
	for start < len(data) {
		end := bytes.Index(data[start:], []byte("\r\n"))
		if end <= 0 { // end of headers or no line end
			return data, nil
		}
		end += start
		line := data[start:end]
		if isViaLine(line) {
			next := end + 2
			if next < len(data) && (data[next] == ' ' || data[next] == '\t') {
				return data, nil // folded Via: leave it
			}
			if bytes.Contains(bytes.ToLower(line), []byte("rport")) {
				return data, nil
			}
			at := end
			if c := bytes.IndexByte(line, ','); c >= 0 {
				at = start + c
			}
			for at > start && (data[at-1] == ' ' || data[at-1] == '\t') {
				at--
			}
			out := make([]byte, 0, len(data)+6)
			out = append(out, data[:at]...)
			out = append(out, ";rport"...)
			return append(out, data[at:]...), nil
		}
		start = end + 2
	}
	return data, nil
}

func isViaLine(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return false
	}
	name = bytes.TrimRight(name, " \t")
	return bytes.EqualFold(name, []byte("via")) || bytes.EqualFold(name, []byte("v"))
}
