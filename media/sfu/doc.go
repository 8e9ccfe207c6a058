// Package sfu is a selective forwarding unit for WebRTC video rooms
// (github.com/pion/webrtc/v4): each participant of a Room has one
// PeerConnection with the server; every audio and video track a
// participant publishes is forwarded, as RTP, without decoding, to every
// other participant of the room.
//
// # Negotiation (who offers)
//
// The participant's client makes the first offer (its own tracks and its
// data channels; RFC 8829 JSEP §5.2) and the server answers. After that
// the server drives renegotiation: when it must send the participant a
// new track (another participant published one, e.g. a screen share) or
// stop one, it creates an offer itself (Participant's OnDescription) and
// the client answers (Participant.Answer). The client may still offer at
// any time (to publish or stop its own tracks, or for an ICE restart).
// On a collision (the client's offer arrives while the server's offer
// waits for its answer) the server is the polite peer of "perfect
// negotiation" (W3C WebRTC 1.0 §10.7 example): it rolls its own offer
// back, answers the client's, and offers again afterwards; the client
// ignores the server's offer that crossed its own. Descriptions and ICE
// candidates reach the client in the order it must apply them: a server
// candidate never precedes the description it belongs to.
//
// # Forwarding
//
// Every published track (a pion TrackRemote) has one reader goroutine; for
// each subscriber it has a TrackLocalStaticRTP of its own with a bounded
// queue and a writer goroutine, so a subscriber whose path is slow loses
// its own packets (and asks for them again with NACK or a key frame with
// PLI) without slowing the others. RTP header extensions are stripped on
// the way (their ids are negotiated per PeerConnection); the SSRC and
// payload type are rewritten to the subscriber's. RTCP PLI and FIR from
// subscribers are forwarded to the publisher as PLI (RFC 4585 §6.3.1), at
// most one per Config.KeyframeInterval per track. NACK, retransmission,
// RTCP reports and TWCC come from pion's default interceptor registry.
//
// # Simulcast
//
// A track published in several simulcast layers (RIDs, RFC 8853) has one
// reader goroutine per layer; each subscriber receives one layer of it at
// a time through its one sender. By default that is the highest layer
// arriving (a layer silent for a second is taken for stopped); a
// subscriber may ask for a lower one (Participant.SelectLayer). A
// subscriber changes layer only at a key frame of the new layer, which
// the SFU asks the publisher for (PLI on that layer's SSRC), and its
// writer rewrites sequence numbers and timestamps (RFC 3550 §5.1) so that
// the subscriber sees one continuous stream. Key frames are recognised
// for VP8, VP9 and H.264; other codecs switch at once. A recording takes
// the first layer received.
//
// # Network
//
// All PeerConnections share one UDP socket (ICE UDP mux,
// ice.NewUDPMuxDefault) at Config.UDPAddr, so a firewall opens one port;
// Config.PublicIP is announced in host candidates instead of the local
// address (1:1 NAT), and Config.ICEServers (STUN/TURN) are handed to
// clients for their own gathering.
package sfu
