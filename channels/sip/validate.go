package sip

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// supportedExtensions are the option tags of Require (RFC 3261 §20.32) the
// gateway supports; others get 420 Bad Extension.
var supportedExtensions = map[string]bool{"timer": true}

// validateRequest returns the status and reason to answer a request that
// sipgo parsed but RFC 3261 says to refuse, or 0 when it may be handled.
// It follows RFC 3261 §8.2 (UAS behaviour) and the torture cases of RFC
// 4475 §3.1.2 and §3.3.
func validateRequest(req *sip.Request) (int, string) {
	for _, name := range []string{"To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length"} {
		if len(req.GetHeaders(name)) > 1 {
			return 400, "Multiple " + name + " Values"
		}
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return 400, "Missing Required Header"
	}
	if req.SipVersion != "SIP/2.0" {
		return 505, "Version Not Supported"
	}
	// sipgo upper-cases one side of extension methods; compare folded.
	if cseq := req.CSeq(); !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return 400, "CSeq Method Does Not Match"
	}
	// Max-Forwards 0 is processed normally by an endpoint (RFC 4475 §3.3.11).
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "":
	default:
		return 416, "Unsupported URI Scheme"
	}
	if req.Method == sip.ACK || req.Method == sip.CANCEL {
		return 0, ""
	}
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.ToLower(strings.TrimSpace(tag)); tag != "" && !supportedExtensions[tag] {
				return 420, "Bad Extension"
			}
		}
	}
	if req.Method == sip.INVITE && !acceptsSDP(req) {
		return 406, "Not Acceptable"
	}
	if req.Method == sip.INVITE && len(req.Body()) > 0 {
		if ct := req.ContentType(); ct != nil && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp") {
			return 415, "Unsupported Media Type"
		}
	}
	return 0, ""
}

// unsupportedRequire lists the Require option tags not supported, for the
// Unsupported header of a 420.
func unsupportedRequire(req *sip.Request) string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !supportedExtensions[strings.ToLower(tag)] {
				out = append(out, tag)
			}
		}
	}
	return strings.Join(out, ", ")
}

// acceptsSDP reports whether an INVITE's Accept headers, if any, allow
// application/sdp answers (RFC 3261 §20.1, RFC 4475 §3.3.15).
func acceptsSDP(req *sip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			v = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
			if v == "" || v == "application/sdp" || v == "application/*" || v == "*/*" {
				return true
			}
		}
	}
	return false
}
