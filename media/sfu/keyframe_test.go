package sfu

import "testing"

// TestKeyframeDetectors: payloads that start a key frame, and ones that
// do not, for each codec (payload layouts from RFC 7741, RFC 9628 and
// RFC 6184).
func TestKeyframeDetectors(t *testing.T) {
	for _, c := range []struct {
		name    string
		detect  keyframeDetector
		payload []byte
		want    bool
	}{
		{"vp8 key", vp8Keyframe, []byte{0x10, 0x10, 0, 0, 0x9d, 0x01, 0x2a}, true},
		{"vp8 inter", vp8Keyframe, []byte{0x10, 0x01}, false},
		{"vp8 not a frame start", vp8Keyframe, []byte{0x00, 0x10}, false},
		{"vp8 key, picture id 15 bits, tl0picidx, tid", vp8Keyframe, []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x20, 0x10}, true},
		{"vp8 inter, picture id 7 bits", vp8Keyframe, []byte{0x90, 0x80, 0x05, 0x11}, false},
		{"vp8 empty", vp8Keyframe, nil, false},
		{"vp9 key, no layers", vp9Keyframe, []byte{0x08}, true},
		{"vp9 inter", vp9Keyframe, []byte{0x48}, false},
		{"vp9 not a frame start", vp9Keyframe, []byte{0x00}, false},
		{"vp9 key, spatial layer 0", vp9Keyframe, []byte{0xa8, 0x85, 0x01, 0x00}, true},
		{"vp9 key, spatial layer 1", vp9Keyframe, []byte{0xa8, 0x05, 0x02}, false},
		{"h264 idr", h264Keyframe, []byte{0x65, 0x88}, true},
		{"h264 sps", h264Keyframe, []byte{0x67, 0x42}, true},
		{"h264 non-idr slice", h264Keyframe, []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", h264Keyframe, []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 stap-a without", h264Keyframe, []byte{0x78, 0x00, 0x02, 0x41, 0x9a}, false},
		{"h264 fu-a idr start", h264Keyframe, []byte{0x7c, 0x85, 0x88}, true},
		{"h264 fu-a idr middle", h264Keyframe, []byte{0x7c, 0x05, 0x88}, false},
	} {
		if got := c.detect(c.payload); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestLayerRank: the common RID sets order as browsers mean them.
func TestLayerRank(t *testing.T) {
	set := func(rids ...string) []*layer {
		var ls []*layer
		for i, r := range rids {
			ls = append(ls, &layer{rid: r, arrival: i})
		}
		return ls
	}
	for _, c := range []struct {
		rids []string
		want []int
	}{
		{[]string{"f", "h", "q"}, []int{2, 1, 0}},
		{[]string{"h", "m", "l"}, []int{2, 1, 0}},
		{[]string{"2", "0", "1"}, []int{2, 0, 1}},
		{[]string{"a", "b"}, []int{-1, -2}},
	} {
		ls := set(c.rids...)
		for i, l := range ls {
			if got := layerRank(l.rid, ls, l.arrival); got != c.want[i] {
				t.Errorf("%v: rank of %q = %d, want %d", c.rids, l.rid, got, c.want[i])
			}
		}
	}
}
