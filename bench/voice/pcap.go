package main

import (
	"encoding/binary"
	"os"
)

// writeTalkPcap writes a pcap (libpcap format, Ethernet link type) of
// seconds of one G.711 µ-law RTP stream, 50 packets of 20 ms (160 bytes)
// a second, that sipp's play_pcap_audio replays from each caller's media
// socket with the capture's timing. The payload is µ-law silence with a
// slow ramp, so no relay may suppress it.
func writeTalkPcap(path string, seconds int) error {
	const payloadLen = 160
	buf := make([]byte, 0, 24+seconds*50*(16+14+20+8+12+payloadLen))
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	buf = append(buf, hdr...)
	for i := range seconds * 50 {
		usec := int64(i) * 20000
		frame := make([]byte, 14+20+8+12+payloadLen)
		frame[12], frame[13] = 0x08, 0x00 // IPv4
		ip := frame[14:34]
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+12+payloadLen))
		ip[8], ip[9] = 64, 17 // TTL, UDP
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		udp := frame[34:42]
		binary.BigEndian.PutUint16(udp[0:], 40000)
		binary.BigEndian.PutUint16(udp[2:], 40002)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+12+payloadLen))
		rtp := frame[42:]
		rtp[0] = 0x80
		rtp[1] = 0 // PCMU
		if i == 0 {
			rtp[1] |= 0x80
		}
		binary.BigEndian.PutUint16(rtp[2:], uint16(i))
		binary.BigEndian.PutUint32(rtp[4:], uint32(i*160))
		binary.BigEndian.PutUint32(rtp[8:], 0x0b0e0c01)
		for j := range payloadLen {
			rtp[12+j] = 0xff - byte((i+j)%16)
		}
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(usec/1e6))
		le.PutUint32(rec[4:], uint32(usec%1e6))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		buf = append(buf, rec...)
		buf = append(buf, frame...)
	}
	return os.WriteFile(path, buf, 0o644)
}
