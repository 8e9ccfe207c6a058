package wechat

import (
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// verifySignature reports whether got is the SHA-1 hex of the sorted
// concatenation of parts, compared in constant time. With (token,
// timestamp, nonce) it checks a callback's `signature` ("Access overview");
// with (token, timestamp, nonce, Encrypt) its `msg_signature` ("Message
// encryption and decryption"). Hex case is ignored.
func verifySignature(got string, parts ...string) bool {
	want := util.Signature(parts...)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// checkTimestamp parses a callback's timestamp (Unix seconds) and refuses
// one further than skew from now. Errors wrap ErrStale.
func checkTimestamp(ts string, now time.Time, skew time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, ErrStale)
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > skew || d < -skew {
		return fmt.Errorf("timestamp %d is %s from now (allowed %s): %w", sec, d.Round(time.Second), skew, ErrStale)
	}
	return nil
}
