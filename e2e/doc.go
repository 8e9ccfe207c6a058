// Package e2e holds Airbranch's end-to-end suite: it builds the airbranch
// binary, starts a Redis of its own (append-only, so that a restart keeps
// what was acknowledged) and two gateway instances on it behind an HTTP
// load balancer, and drives real clients against them: sipp and baresip
// over SIP, headless Chromium on the desk, web chat and video pages,
// WeChat callbacks built from the platform's documented samples, signed
// Twilio webhooks and an SMPP SMSC. It checks that every conversation
// reached the team and RM the demo directory and routing policies call
// for, that replies left on the conversation's own channel, and that
// nothing acknowledged was lost or doubled, also while an instance is
// killed and while Redis restarts; a bounded soak reports memory and
// goroutines.
//
// The tests run only when AIRBRANCH_E2E=1 (`make e2e`); otherwise they
// skip. AIRBRANCH_E2E_SOAK sets the soak's length (default 10m; 0 skips
// it). The package has no code outside its tests.
package e2e
