package media

import (
	"errors"
	"testing"
)

func TestParseRTPHeader(t *testing.T) {
	t.Parallel()
	plain := make([]byte, 12+160)
	PutRTPHeader(plain, true, 8, 65535, 4000000000, 0xdeadbeef)
	withCSRC := append([]byte{0x82, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1, 1, 1, 2, 2, 2, 2}, 9, 9)
	withExt := append([]byte{0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 1, 7, 7, 7, 7}, 5, 5, 5)
	withPad := append([]byte{0xa0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}, 1, 2, 3, 0, 0, 3)
	tests := []struct {
		name        string
		pkt         []byte
		wantErr     bool
		off, end    int
		pt          uint8
		seq         uint16
		marker      bool
		ts, ssrc    uint32
		checkFields bool
	}{
		{name: "plain", pkt: plain, off: 12, end: 172, pt: 8, seq: 65535, marker: true, ts: 4000000000, ssrc: 0xdeadbeef, checkFields: true},
		{name: "two csrc", pkt: withCSRC, off: 20, end: 22},
		{name: "extension", pkt: withExt, off: 20, end: 23},
		{name: "padding", pkt: withPad, off: 12, end: 15},
		{name: "short", pkt: plain[:11], wantErr: true},
		{name: "version 1", pkt: append([]byte{0x40}, plain[1:]...), wantErr: true},
		{name: "extension past end", pkt: []byte{0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0}, wantErr: true},
		{name: "padding longer than packet", pkt: []byte{0xa0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 200}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseRTPHeader(tt.pkt)
			if tt.wantErr {
				if !errors.Is(err, ErrBadRTP) {
					t.Fatalf("err = %v, want ErrBadRTP", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.PayloadOffset != tt.off || h.PayloadEnd != tt.end {
				t.Errorf("payload [%d:%d], want [%d:%d]", h.PayloadOffset, h.PayloadEnd, tt.off, tt.end)
			}
			if tt.checkFields && (h.PayloadType != tt.pt || h.SequenceNumber != tt.seq || h.Marker != tt.marker || h.Timestamp != tt.ts || h.SSRC != tt.ssrc) {
				t.Errorf("header %v", h)
			}
		})
	}
}

func TestTranscodeRoundTrip(t *testing.T) {
	// Every A-law code maps to µ-law and back to itself except the few
	// codes G.711 folds together; check the table against the library.
	p := make([]byte, 256)
	for i := range p {
		p[i] = byte(i)
	}
	Transcode(p, CodecPCMU, CodecPCMU)
	for i := range p {
		if p[i] != byte(i) {
			t.Fatalf("same codec changed byte %d", i)
		}
	}
	Transcode(p, CodecPCMU, CodecPCMA)
	for i := range p {
		if p[i] != ulawToAlaw[i] {
			t.Fatalf("byte %d: %#x, want %#x", i, p[i], ulawToAlaw[i])
		}
	}
	if got := testing.AllocsPerRun(100, func() { Transcode(p, CodecPCMA, CodecPCMU) }); got != 0 {
		t.Errorf("Transcode allocates %v times", got)
	}
}
