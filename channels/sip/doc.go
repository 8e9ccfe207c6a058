// Package sip is the voice channel adapter: a SIP user agent (RFC 3261,
// github.com/emiago/sipgo) that takes calls from the bank's trunks, keeps
// callers in queue with prompts and music on hold, takes DTMF menu choices,
// registers RM desk phones and bridges a waiting caller to an RM's phone as
// a back-to-back user agent, with media anchored in package media. On a
// bridged call it answers the RM phone's hold and resume re-INVITEs (music
// on hold to the caller), takes the RM off the call for a transfer
// (Transfer, or the phone's REFER through a TransferRequester), records
// both legs to WAV after a consent announcement (CallRecorder), and it
// calls clients back over an outbound trunk (Callback).
//
// The adapter turns a call into a conversation through a CallSink that the
// gateway implements; the gateway calls Server.Bridge when an RM accepts.
// It imports channels/conversation, media and libraries, never routing or
// the gateway.
package sip
