package wechat

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"testing"
)

// vector is one file of testdata/vectors (published safe-mode vectors).
type vector struct {
	Token          string `json:"token"`
	EncodingAESKey string `json:"encoding_aes_key"`
	AppID          string `json:"appid"`
	Timestamp      string `json:"timestamp"`
	Nonce          string `json:"nonce"`
	MsgSignature   string `json:"msg_signature"`
	Body           string `json:"body"`
	Encrypt        string `json:"encrypt"`
	URLVerify      *struct {
		Signature, Timestamp, Nonce, Echostr string
	} `json:"url_verification_GET"`
	EncryptVector *struct {
		Random16         string `json:"random16"`
		Timestamp        string `json:"timestamp"`
		Nonce            string `json:"nonce"`
		Plaintext        string `json:"plaintext"`
		ExpectedReplyXML string `json:"expected_reply_xml"`
	} `json:"encrypt_vector"`
	Expected struct {
		DecryptedXML string `json:"decrypted_xml"`
		Random16Hex  string `json:"random16_hex"`
	} `json:"expected"`
}

var vectorFiles = []string{
	"mp-official-sample-spamtest.json",
	"wecom-official-sample-QDG6eK.json",
	"wechatpy-work-crypto.json",
}

func loadVector(t testing.TB, name string) vector {
	t.Helper()
	var v vector
	if err := json.Unmarshal(fixture(t, "vectors/"+name), &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func TestDecryptVectors(t *testing.T) {
	t.Parallel()
	for _, name := range vectorFiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := loadVector(t, name)
			if !verifySignature(v.MsgSignature, v.Token, v.Timestamp, v.Nonce, v.Encrypt) {
				t.Fatal("msg_signature of the vector does not verify")
			}
			if verifySignature(v.MsgSignature, v.Token, v.Timestamp, v.Nonce+"1", v.Encrypt) {
				t.Fatal("msg_signature verifies with another nonce")
			}
			env, err := parseEnvelope([]byte(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			if env.Encrypt != v.Encrypt {
				t.Fatalf("Encrypt from the body differs from the vector's")
			}
			key, err := parseAESKey(v.EncodingAESKey)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := decryptMessage(key, v.AppID, env.Encrypt)
			if err != nil {
				t.Fatal(err)
			}
			if string(plain) != v.Expected.DecryptedXML {
				t.Fatalf("decrypted\n%s\nwant\n%s", plain, v.Expected.DecryptedXML)
			}
			if _, err := decryptMessage(key, "wx0000000000000000", env.Encrypt); !errors.Is(err, errAppID) {
				t.Fatalf("another app id: err %v, want errAppID", err)
			}
			// The scheme has no MAC: msg_signature over the ciphertext is what
			// catches tampering.
			tampered := []byte(env.Encrypt)
			tampered[10] ^= 'A' ^ 'B'
			if verifySignature(v.MsgSignature, v.Token, v.Timestamp, v.Nonce, string(tampered)) {
				t.Fatal("msg_signature verifies a tampered ciphertext")
			}
		})
	}
}

// TestEncryptReplyVector checks the passive-reply encryption against
// wechatpy's deterministic vector (fixed 16-byte random prefix).
func TestEncryptReplyVector(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "wechatpy-work-crypto.json")
	ev := v.EncryptVector
	key, err := parseAESKey(v.EncodingAESKey)
	if err != nil {
		t.Fatal(err)
	}
	body, enc, err := encryptReply(key, v.AppID, v.Token, []byte(ev.Random16), []byte(ev.Plaintext), 1411525903, ev.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	field := func(name, s string) string {
		m := regexp.MustCompile(`<` + name + `>(?:<!\[CDATA\[)?([^<\]]*)(?:\]\]>)?</` + name + `>`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%s missing in %s", name, s)
		}
		return m[1]
	}
	for _, f := range []string{"Encrypt", "MsgSignature", "TimeStamp", "Nonce"} {
		if got, want := field(f, string(body)), field(f, ev.ExpectedReplyXML); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	// And it decrypts back with our own path.
	plain, err := decryptMessage(key, v.AppID, enc)
	if err != nil || string(plain) != ev.Plaintext {
		t.Fatalf("round trip: %q, %v", plain, err)
	}
	if _, _, err := encryptReply(key, v.AppID, v.Token, []byte("short"), []byte("x"), 1, "n"); err == nil {
		t.Fatal("a 5-byte random prefix was accepted")
	}
}

// TestVerifySignatureVector checks the URL-verification signature of
// Tencent's sample values, and that hex case is ignored.
func TestVerifySignatureVector(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "mp-official-sample-spamtest.json")
	u := v.URLVerify
	off := u.Signature[:39] + "0"
	if u.Signature[39] == '0' {
		off = u.Signature[:39] + "1"
	}
	tests := []struct {
		name string
		sig  string
		want bool
	}{
		{"vector", u.Signature, true},
		{"upper-case hex", string(upper(u.Signature)), true},
		{"last digit changed", off, false},
		{"empty", "", false},
		{"truncated", u.Signature[:20], false},
	}
	for _, tt := range tests {
		if got := verifySignature(tt.sig, v.Token, u.Timestamp, u.Nonce); got != tt.want {
			t.Errorf("%s: verify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func upper(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return b
}

func TestParseAESKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key string
		ok        bool
	}{
		{"tencent sample", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", true},
		{"42 characters", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", false},
		{"44 characters", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", false},
		{"not base64", "abcdefghijklmnopqrstuvwxyz0123456789ABCDE*G", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		key, err := parseAESKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok=%v", tt.name, err, tt.ok)
		}
		if tt.ok && len(key) != 32 {
			t.Errorf("%s: key %s is %d bytes", tt.name, hex.EncodeToString(key), len(key))
		}
	}
}
