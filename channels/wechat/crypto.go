package wechat

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"

	"github.com/silenceper/wechat/v2/util"
)

// errDecrypt: a safe-mode Encrypt value does not decrypt to a well-formed
// plaintext.
var errDecrypt = errors.New("wechat message does not decrypt")

// errAppID: a decrypted message names another app id than ours.
var errAppID = errors.New("wechat message is for another app id")

// decryptMessage decrypts a safe-mode Encrypt value ("Message encryption
// and decryption"): base64, AES-256-CBC with IV = key[:16], PKCS#7 padding
// to 32-byte blocks; plaintext = 16 random bytes ‖ 4-byte big-endian length
// ‖ XML ‖ app id. It returns the XML after checking the app id.
func decryptMessage(key []byte, appID, encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", errDecrypt, err)
	}
	_, msg, gotAppID, err := util.AESDecryptMsg(raw, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDecrypt, err)
	}
	if string(gotAppID) != appID {
		return nil, errAppID
	}
	return msg, nil
}

// encryptedReply is the safe-mode reply envelope.
type encryptedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata    `xml:"Encrypt"`
	MsgSignature cdata    `xml:"MsgSignature"`
	TimeStamp    int64    `xml:"TimeStamp"`
	Nonce        cdata    `xml:"Nonce"`
}

// cdata marshals as an element holding one CDATA section.
type cdata struct {
	Text string `xml:",cdata"`
}

// encryptReply wraps a passive reply for safe mode: Encrypt = base64 of the
// AES-256-CBC ciphertext of random(16) ‖ len ‖ plain ‖ app id, and
// MsgSignature = SHA-1 of the sorted token, timestamp, nonce and Encrypt.
// random must be 16 bytes.
func encryptReply(key []byte, appID, token string, random, plain []byte, timestamp int64, nonce string) ([]byte, string, error) {
	if len(random) != 16 || len(key) != 32 {
		return nil, "", fmt.Errorf("wechat: encrypt reply: random %d bytes, key %d bytes (want 16, 32)", len(random), len(key))
	}
	enc := base64.StdEncoding.EncodeToString(util.AESEncryptMsg(random, plain, appID, key))
	ts := strconv.FormatInt(timestamp, 10)
	body, err := xml.Marshal(encryptedReply{
		Encrypt:      cdata{enc},
		MsgSignature: cdata{util.Signature(token, ts, nonce, enc)},
		TimeStamp:    timestamp,
		Nonce:        cdata{nonce},
	})
	if err != nil {
		return nil, "", fmt.Errorf("wechat: encrypt reply: %w", err)
	}
	return body, enc, nil
}
