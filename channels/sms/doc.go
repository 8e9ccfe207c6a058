// Package sms holds what the SMS channel adapters share, whatever the
// provider (a Twilio-compatible HTTP API in package twilio, an SMSC over
// SMPP 3.4 in package smpp):
//
//   - the choice of encoding and the segment count a desk shows before
//     sending (Count) and the split into parts (Split), following 3GPP TS
//     23.038 §6.2.1 (GSM 7-bit default alphabet and its extension table)
//     and 3GPP TS 23.040 §9.2.3.24.1 (concatenation: 160 septets or 70
//     UCS-2 characters in one SMS, 153 or 67 per part once a 6-octet user
//     data header is needed);
//   - opt-out keywords (STOP, UNSUBSCRIBE, CANCEL, END, QUIT, TD, 退订) and
//     START (DetectKeyword), the suppression list they feed (Suppressions,
//     with a memory and a Redis implementation), and the two rules that use
//     them (ApplyKeyword on inbound, CheckSendable before any provider call);
//   - the Sink the adapters deliver to and the Sender interface both
//     providers implement.
package sms
