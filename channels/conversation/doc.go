// Package conversation is Airbranch's domain core: customers and their
// addresses, conversations with their checked status transitions, messages
// with forward-only delivery status, the append-only event timeline, and the
// RMs and teams of the directory.
//
// It imports only the standard library, so every other package (channels,
// routing, media, gateway) can depend on it and nothing here depends on them.
// Times are UTC with millisecond precision; sizes are in bytes.
package conversation
