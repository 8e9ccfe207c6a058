// Package media moves the audio of voice calls: it negotiates G.711 audio
// in SDP offers and answers (RFC 3264, RFC 4566), allocates RTP sockets in a
// configured port range, plays 8 kHz prompts and music on hold in 20 ms
// frames, detects DTMF sent as RFC 4733 telephone-events, and relays RTP
// between two legs of a bridged call with symmetric RTP (latching to where
// the peer's packets come from) and µ-law/A-law transcoding (ITU-T G.711),
// and records two legs into one stereo 16-bit PCM WAV file (WAVRecorder).
//
// media knows nothing of SIP dialogs, channels, routing or the gateway: a
// signalling layer gives it SDP bodies and sockets and gets back SDP bodies
// and DTMF digits. The per-packet paths (Leg reading, relaying, playing) do
// not allocate and do not log.
package media
