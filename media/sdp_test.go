package media

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func sdpLines(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func TestParseAndNegotiate(t *testing.T) {
	t.Parallel()
	head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
	tests := []struct {
		name      string
		body      []byte
		prefer    Codec
		wantParse error
		wantNeg   error
		codec     Codec
		audioPT   uint8
		eventPT   uint8
		remote    string
	}{
		{name: "pcmu first with events", body: sdpLines(append(head, "m=audio 6000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16")...),
			codec: CodecPCMU, audioPT: 0, eventPT: 101, remote: "192.0.2.1:6000"},
		{name: "pcma first", body: sdpLines(append(head, "m=audio 6002 RTP/AVP 8 0")...), codec: CodecPCMA, audioPT: 8, remote: "192.0.2.1:6002"},
		{name: "preferred codec wins", body: sdpLines(append(head, "m=audio 6002 RTP/AVP 8 0")...), prefer: CodecPCMU, codec: CodecPCMU, audioPT: 0, remote: "192.0.2.1:6002"},
		{name: "media-level connection", body: sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 7000 RTP/AVP 18 0 96", "c=IN IP4 198.51.100.7", "a=rtpmap:96 TELEPHONE-EVENT/8000", "a=sendonly"),
			codec: CodecPCMU, audioPT: 0, eventPT: 96, remote: "198.51.100.7:7000"},
		{name: "only g729", body: sdpLines(append(head, "m=audio 6000 RTP/AVP 18", "a=rtpmap:18 G729/8000")...), wantNeg: ErrNoCommonCodec},
		{name: "pcmu at 16 kHz is not g711", body: sdpLines(append(head, "m=audio 6000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000")...), wantNeg: ErrNoCommonCodec},
		{name: "srtp profile", body: sdpLines(append(head, "m=audio 6000 RTP/SAVP 0")...), wantNeg: ErrNoCommonCodec},
		{name: "rejected stream", body: sdpLines(append(head, "m=audio 0 RTP/AVP 0")...), wantNeg: ErrNoCommonCodec},
		{name: "video only", body: sdpLines(append(head, "m=video 6000 RTP/AVP 96")...), wantParse: ErrBadSDP},
		{name: "no connection", body: sdpLines("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", "m=audio 6000 RTP/AVP 0"), wantParse: ErrBadSDP},
		{name: "garbage", body: []byte("hello world\r\n"), wantParse: ErrBadSDP},
		{name: "bad port", body: sdpLines(append(head, "m=audio x RTP/AVP 0")...), wantParse: ErrBadSDP},
		{name: "bad payload type", body: sdpLines(append(head, "m=audio 6000 RTP/AVP 0 300")...), wantParse: ErrBadSDP},
		{name: "bad address", body: sdpLines("v=0", "s=-", "c=IN IP4 not-an-ip", "m=audio 6000 RTP/AVP 0"), wantParse: ErrBadSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := ParseSDP(tt.body)
			if tt.wantParse != nil || err != nil {
				if !errors.Is(err, tt.wantParse) {
					t.Fatalf("parse err = %v, want %v", err, tt.wantParse)
				}
				return
			}
			n, err := Negotiate(sd, tt.prefer)
			if tt.wantNeg != nil || err != nil {
				if !errors.Is(err, tt.wantNeg) {
					t.Fatalf("negotiate err = %v, want %v", err, tt.wantNeg)
				}
				return
			}
			if n.Codec != tt.codec || n.AudioPT != tt.audioPT || n.EventPT != tt.eventPT || n.Remote != netip.MustParseAddrPort(tt.remote) {
				t.Errorf("negotiation %+v", n)
			}
		})
	}
}

func TestBuildSDPParsesBack(t *testing.T) {
	t.Parallel()
	body := BuildSDP(SDPParams{SessionID: 7, Addr: netip.MustParseAddrPort("203.0.113.5:10000"), Codecs: []Codec{CodecPCMA, CodecPCMU}, EventPT: 101})
	sd, err := ParseSDP(body)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Negotiate(sd, CodecNone)
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec != CodecPCMA || n.EventPT != 101 || n.Remote.String() != "203.0.113.5:10000" {
		t.Errorf("round trip %+v from\n%s", n, body)
	}
	if !strings.Contains(string(body), "a=ptime:20\r\n") || !strings.Contains(string(body), "a=fmtp:101 0-16\r\n") {
		t.Errorf("missing ptime or fmtp:\n%s", body)
	}
}
