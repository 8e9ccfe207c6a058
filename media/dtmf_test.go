package media

import "testing"

func TestDTMFDetector(t *testing.T) {
	t.Parallel()
	ev := func(code uint8, end bool, dur uint16) []byte {
		b := []byte{code, 10, byte(dur >> 8), byte(dur)}
		if end {
			b[1] |= 0x80
		}
		return b
	}
	type pkt struct {
		ts      uint32
		payload []byte
	}
	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{name: "one press with updates and three ends", pkts: []pkt{{100, ev(1, false, 160)}, {100, ev(1, false, 320)}, {100, ev(1, true, 480)}, {100, ev(1, true, 480)}, {100, ev(1, true, 480)}}, want: "1"},
		{name: "first packet lost", pkts: []pkt{{100, ev(2, false, 320)}, {100, ev(2, true, 480)}}, want: "2"},
		{name: "same digit twice", pkts: []pkt{{100, ev(5, true, 480)}, {100, ev(5, true, 480)}, {900, ev(5, false, 160)}, {900, ev(5, true, 480)}}, want: "55"},
		{name: "star hash and letters", pkts: []pkt{{1, ev(10, true, 1)}, {2, ev(11, true, 1)}, {3, ev(15, true, 1)}}, want: "*#D"},
		{name: "flash and short payloads ignored", pkts: []pkt{{1, ev(16, true, 1)}, {2, []byte{1, 2}}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d DTMFDetector
			var got []byte
			for _, p := range tt.pkts {
				if c := d.Packet(p.ts, p.payload); c != 0 {
					got = append(got, c)
				}
			}
			if string(got) != tt.want {
				t.Errorf("digits %q, want %q", got, tt.want)
			}
		})
	}
}
