package smpp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

// Defaults applied by Config.withDefaults (durations in seconds unless
// said).
const (
	DefaultEnquireLink           = 30 * time.Second
	DefaultWriteTimeout          = 10 * time.Second
	DefaultBindTimeout           = 10 * time.Second
	DefaultRebindMin             = 1 * time.Second
	DefaultRebindMax             = 60 * time.Second
	DefaultWindow                = 10
	DefaultThroughput            = 100 // submit_sm per second
	DefaultSubmitTimeout         = 30 * time.Second
	DefaultSinkTimeout           = 10 * time.Second
	DefaultMaxParts              = 10
	DefaultMaxInboundParts       = 32
	DefaultReassemblyTimeout     = 5 * time.Minute
	DefaultReassemblyMaxMessages = 1000
	DefaultDedupWindow           = 10 * time.Minute
	DefaultDedupMaxEntries       = 10000
)

// Config configures the SMPP 3.4 provider: one transceiver bind to one
// SMSC for one channel account. Password comes from the environment (the
// gateway reads it, e.g. AIRBRANCH_SMPP_PASSWORD), never from YAML.
type Config struct {
	// Addr is the SMSC's host:port, e.g. "smsc.carrier.example:2775".
	// Required.
	Addr string
	// SystemID and Password are the bind credentials (SMPP 3.4 §4.1.5,
	// at most 15 and 8 characters). SystemID is required.
	SystemID string
	Password string
	// SystemType is the bind's system_type (at most 12 characters);
	// empty by default.
	SystemType string
	// Account is the channel account this bind serves: the bank's number
	// in E.164 ("+85230001234") or a short code ("95566"). It names the
	// account in Incoming.ChannelAccount, StatusUpdate.ChannelAccount and
	// the suppression list, and sms.Outbound.Account must equal it.
	// Required.
	Account string
	// SourceAddr is the source_addr of submit_sm with SourceTON and
	// SourceNPI (SMPP 3.4 §5.2.5-§5.2.8). Default: Account without its
	// "+", with TON 1 (international) and NPI 1 (E.164) when Account is
	// E.164; a short code or alphanumeric sender must be given with its
	// TON/NPI (e.g. 3/0 or 5/0).
	SourceAddr string
	SourceTON  byte
	SourceNPI  byte
	// DefaultRegion (ISO 3166-1 alpha-2, e.g. "HK") reads deliver_sm
	// source addresses that are not international (TON other than 1).
	// Empty: such messages are refused with ESME_RINVSRCADR.
	DefaultRegion string
	// EnquireLink is the interval of enquire_link keep-alives (SMPP 3.4
	// §4.11). Default 30 s.
	EnquireLink time.Duration
	// ReadTimeout: the link is dropped and rebound when nothing arrives
	// for this long. Must exceed EnquireLink; default 3 × EnquireLink.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one PDU. Default 10 s.
	WriteTimeout time.Duration
	// BindTimeout bounds connecting and the bind exchange. Default 10 s.
	BindTimeout time.Duration
	// RebindMin and RebindMax bound the exponential backoff between bind
	// attempts after a refused bind or a lost link: the wait doubles from
	// RebindMin up to RebindMax (each wait drawn between half and all of
	// it) and starts again from RebindMin after a link that stayed up at
	// least RebindMax. Defaults 1 s and 60 s.
	RebindMin time.Duration
	RebindMax time.Duration
	// Window is the most submit_sm awaiting their submit_sm_resp at once
	// (1 to 255). Default 10.
	Window int
	// Throughput is the most submit_sm sent per second (each part of a long
	// message counts), the SMSC contract's TPS. Default 100.
	Throughput float64
	// SubmitTimeout bounds waiting for one submit_sm_resp, and how long
	// Send waits for a bound link when there is none. Default 30 s.
	SubmitTimeout time.Duration
	// SinkTimeout bounds one Sink call for a deliver_sm. Default 10 s.
	SinkTimeout time.Duration
	// NoReceipts stops asking for delivery receipts (registered_delivery
	// 0 instead of 1). Default false: receipts requested.
	NoReceipts bool
	// MaxParts is the most parts an outbound message may take (1 to 255).
	// Default 10 (1,530 GSM-7 or 670 UCS-2 characters).
	MaxParts int
	// MaxInboundParts is the most parts an incoming concatenated message
	// may announce (1 to 255); more is refused with ESME_RINVMSGLEN.
	// Default 32.
	MaxInboundParts int
	// ReassemblyTimeout is how long the parts of an incoming concatenated
	// message wait for the rest; then what arrived is delivered with
	// "[…]" for each missing part. Default 5 min.
	ReassemblyTimeout time.Duration
	// ReassemblyMaxMessages bounds the incoming messages being reassembled
	// at once; a first part beyond it is answered ESME_RMSGQFUL so the
	// SMSC retries later. Default 1000.
	ReassemblyMaxMessages int
	// DedupWindow is how long a stored incoming message is remembered to
	// recognise the SMSC delivering it again (its deliver_sm_resp lost):
	// the same sender, text and concatenation reference within the window
	// is acknowledged without storing it twice. A repeat that reaches
	// another instance carries the same provider id when it falls in the
	// same slot of the window (time truncated to it), and the shared store
	// keeps one copy. Default 10 min.
	DedupWindow time.Duration
	// DedupMaxEntries bounds that memory. Default 10,000.
	DedupMaxEntries int
}

// withDefaults returns c with the defaults applied.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	def(&c.EnquireLink, DefaultEnquireLink)
	def(&c.ReadTimeout, 3*c.EnquireLink)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.BindTimeout, DefaultBindTimeout)
	def(&c.RebindMin, DefaultRebindMin)
	def(&c.RebindMax, DefaultRebindMax)
	def(&c.SubmitTimeout, DefaultSubmitTimeout)
	def(&c.SinkTimeout, DefaultSinkTimeout)
	def(&c.ReassemblyTimeout, DefaultReassemblyTimeout)
	def(&c.DedupWindow, DefaultDedupWindow)
	defInt(&c.Window, DefaultWindow)
	defInt(&c.MaxParts, DefaultMaxParts)
	defInt(&c.MaxInboundParts, DefaultMaxInboundParts)
	defInt(&c.ReassemblyMaxMessages, DefaultReassemblyMaxMessages)
	defInt(&c.DedupMaxEntries, DefaultDedupMaxEntries)
	if c.Throughput == 0 {
		c.Throughput = DefaultThroughput
	}
	if c.SourceAddr == "" && conversation.IsE164(c.Account) {
		c.SourceAddr, c.SourceTON, c.SourceNPI = c.Account[1:], 1, 1
	}
	return c
}

// FieldProblem is one problem of a Config: Field is the key path of the
// value in the snake_case names the gateway's YAML uses ("addr",
// "source_addr", "window"), Message says what is wrong and what is allowed.
type FieldProblem struct {
	Field   string
	Message string
}

// Problems applies the defaults New applies and returns every problem of
// the result, each with its field, in a stable order; nil when New would
// accept c. Validate reports the same problems as errors.
func (c Config) Problems() []FieldProblem { return c.withDefaults().problems() }

// Validate reports every problem of c (after defaults) at once, each
// wrapping ErrConfig as "smpp config: field: message".
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("smpp config: %s: %s: %w", p.Field, p.Message, ErrConfig))
	}
	return errors.Join(errs...)
}

// problems lists every problem of c as it is (defaults not applied).
func (c Config) problems() []FieldProblem {
	var out []FieldProblem
	bad := func(field, format string, args ...any) {
		out = append(out, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not host:port", c.Addr)
	}
	if c.SystemID == "" || len(c.SystemID) > 15 {
		bad("system_id", "must have 1 to 15 characters (SMPP 3.4 §5.2.1)")
	}
	if len(c.Password) > 8 {
		bad("password", "has more than 8 characters (SMPP 3.4 §5.2.2)")
	}
	if len(c.SystemType) > 12 {
		bad("system_type", "has more than 12 characters")
	}
	if strings.TrimSpace(c.Account) == "" {
		bad("account", "is empty")
	}
	if c.SourceAddr == "" || len(c.SourceAddr) > 20 {
		bad("source_addr", "must have 1 to 20 characters (default: the account when it is E.164)")
	}
	if c.DefaultRegion != "" && !phonenumbers.GetSupportedRegions()[strings.ToUpper(c.DefaultRegion)] {
		bad("default_region", "%q is not an ISO 3166-1 alpha-2 region with a numbering plan", c.DefaultRegion)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"enquire_link", c.EnquireLink}, {"write_timeout", c.WriteTimeout}, {"bind_timeout", c.BindTimeout},
		{"rebind_min", c.RebindMin}, {"submit_timeout", c.SubmitTimeout}, {"sink_timeout", c.SinkTimeout},
		{"reassembly_timeout", c.ReassemblyTimeout}, {"dedup_window", c.DedupWindow}} {
		if d.d < 0 {
			bad(d.name, "%s is negative", d.d)
		}
	}
	if c.ReadTimeout <= c.EnquireLink {
		bad("read_timeout", "%s must exceed enquire_link %s", c.ReadTimeout, c.EnquireLink)
	}
	if c.RebindMax < c.RebindMin {
		bad("rebind_max", "%s is below rebind_min %s", c.RebindMax, c.RebindMin)
	}
	if c.Window < 1 || c.Window > 255 {
		bad("window", "%d is not 1 to 255", c.Window)
	}
	if c.Throughput <= 0 {
		bad("throughput", "%g is not positive (submit_sm per second)", c.Throughput)
	}
	if c.MaxParts < 1 || c.MaxParts > sms.MaxParts {
		bad("max_parts", "%d is not 1 to 255", c.MaxParts)
	}
	if c.MaxInboundParts < 1 || c.MaxInboundParts > 255 {
		bad("max_inbound_parts", "%d is not 1 to 255", c.MaxInboundParts)
	}
	if c.ReassemblyMaxMessages < 1 {
		bad("reassembly_max_messages", "%d is below 1", c.ReassemblyMaxMessages)
	}
	if c.DedupMaxEntries < 1 {
		bad("dedup_max_entries", "%d is below 1", c.DedupMaxEntries)
	}
	return out
}
