package wechat

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// errMalformed: a callback body is not the XML WeChat documents.
var errMalformed = errors.New("malformed wechat callback")

// callback is one server callback body, message or event ("Receiving
// standard messages", "Receiving event pushes"). Only the fields the
// adapter maps are declared; silenceper's message.MixMessage is the full
// set (compared in tests).
type callback struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	// MsgID is MsgId of messages; TemplateMsgID is the MsgID of the
	// TEMPLATESENDJOBFINISH event (XML names are case-sensitive).
	MsgID         string `xml:"MsgId"`
	TemplateMsgID string `xml:"MsgID"`

	Content      string `xml:"Content"`
	PicURL       string `xml:"PicUrl"`
	MediaID      string `xml:"MediaId"`
	Format       string `xml:"Format"`
	Recognition  string `xml:"Recognition"`
	ThumbMediaID string `xml:"ThumbMediaId"`
	LocationX    string `xml:"Location_X"`
	LocationY    string `xml:"Location_Y"`
	Scale        string `xml:"Scale"`
	Label        string `xml:"Label"`
	Title        string `xml:"Title"`
	Description  string `xml:"Description"`
	URL          string `xml:"Url"`

	Event     string `xml:"Event"`
	EventKey  string `xml:"EventKey"`
	Ticket    string `xml:"Ticket"`
	Latitude  string `xml:"Latitude"`
	Longitude string `xml:"Longitude"`
	Precision string `xml:"Precision"`
	Status    string `xml:"Status"`
}

// envelope is the safe-mode body: the recipient and the ciphertext (in
// compatible mode the plain fields sit beside them and are ignored).
type envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
}

// decodeXML decodes one <xml> document into v and refuses trailing
// content other than white space. Errors wrap errMalformed.
func decodeXML(body []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if rest := bytes.TrimSpace(body[d.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("%w: content after </xml>", errMalformed)
	}
	return nil
}

// parseCallback decodes a plaintext callback and checks the fields every
// callback carries. Errors wrap errMalformed.
func parseCallback(body []byte) (callback, error) {
	var cb callback
	if err := decodeXML(body, &cb); err != nil {
		return cb, err
	}
	cb.MsgType = strings.TrimSpace(cb.MsgType)
	switch {
	case cb.ToUserName == "" || cb.FromUserName == "":
		return cb, fmt.Errorf("%w: ToUserName or FromUserName missing", errMalformed)
	case cb.MsgType == "":
		return cb, fmt.Errorf("%w: MsgType missing", errMalformed)
	case cb.CreateTime <= 0:
		return cb, fmt.Errorf("%w: CreateTime missing", errMalformed)
	case cb.MsgType == "event" && cb.Event == "":
		return cb, fmt.Errorf("%w: event without Event", errMalformed)
	}
	return cb, nil
}

// parseEnvelope decodes a safe-mode body. Errors wrap errMalformed.
func parseEnvelope(body []byte) (envelope, error) {
	var env envelope
	if err := decodeXML(body, &env); err != nil {
		return env, err
	}
	if env.Encrypt == "" {
		return env, fmt.Errorf("%w: Encrypt missing", errMalformed)
	}
	return env, nil
}
