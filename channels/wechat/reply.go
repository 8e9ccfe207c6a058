package wechat

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
)

// textReply is a passive text reply ("Passive user reply message": the
// answer body of a callback, sent to the user at once).
type textReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Content      cdata    `xml:"Content"`
}

// passiveText builds a passive text reply from the account to openid,
// encrypted for safe mode with a fresh timestamp and nonce.
func (a *Adapter) passiveText(acct *account, openid, text string, safe bool) ([]byte, error) {
	now := a.now().Unix()
	plain, err := xml.Marshal(textReply{
		ToUserName:   cdata{openid},
		FromUserName: cdata{acct.cfg.OriginalID},
		CreateTime:   now,
		MsgType:      cdata{"text"},
		Content:      cdata{text},
	})
	if err != nil {
		return nil, fmt.Errorf("wechat: passive reply: %w", err)
	}
	if !safe {
		return plain, nil
	}
	var buf [16 + 8]byte
	if _, err := io.ReadFull(a.rand, buf[:]); err != nil {
		return nil, fmt.Errorf("wechat: passive reply: random: %w", err)
	}
	body, _, err := encryptReply(acct.aesKey, acct.cfg.Credentials.AppID, acct.cfg.Credentials.Token,
		buf[:16], plain, now, hex.EncodeToString(buf[16:]))
	return body, err
}

// randomHex returns n random bytes in hex, for lock values.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
