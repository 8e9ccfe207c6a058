package smsctest

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Message state values of the message_state TLV (SMPP 3.4 §5.2.28).
const (
	StateDelivered     byte = 2
	StateExpired       byte = 3
	StateUndeliverable byte = 5
	StateAccepted      byte = 6
	StateRejected      byte = 8
)

// Esm_class values (SMPP 3.4 §5.2.12).
const (
	esmUDHI    = 0x40
	esmReceipt = 0x04
)

func newDeliver(from, to string) (*pdu.DeliverSM, error) {
	d := pdu.NewDeliverSM().(*pdu.DeliverSM)
	src, err := pdu.NewAddressWithTonNpiAddr(1, 1, strings.TrimPrefix(from, "+"))
	if err != nil {
		return nil, err
	}
	dst, err := pdu.NewAddressWithTonNpiAddr(1, 1, strings.TrimPrefix(to, "+"))
	if err != nil {
		return nil, err
	}
	d.SourceAddr, d.DestAddr = src, dst
	return d, nil
}

// MO returns a deliver_sm carrying text from the handset from (E.164) to
// the bank's number to, in GSM-7 (data_coding 0, unpacked, encoded by
// gosmpp) when it can be, else UCS-2 (data_coding 8).
func MO(from, to, text string) (*pdu.DeliverSM, error) {
	d, err := newDeliver(from, to)
	if err != nil {
		return nil, err
	}
	enc := data.Encoding(data.GSM7BIT)
	if len(data.ValidateGSM7String(text)) > 0 {
		enc = data.UCS2
	}
	raw, err := enc.Encode(text)
	if err != nil {
		return nil, err
	}
	sm, err := pdu.NewBinaryShortMessageWithEncoding(raw, enc)
	if err != nil {
		return nil, err
	}
	d.Message = sm
	return d, nil
}

// ConcatUCS2 returns text from from to to as concatenated UCS-2
// deliver_sm parts of at most perPart UTF-16 units each (67 as a handset
// sends them), each with the UDH 05 00 03 ref total seq (3GPP TS 23.040
// §9.2.3.24.1) and esm_class UDHI.
func ConcatUCS2(from, to, text string, ref byte, perPart int) ([]*pdu.DeliverSM, error) {
	units := utf16.Encode([]rune(text))
	var chunks [][]uint16
	for len(units) > 0 {
		n := min(perPart, len(units))
		chunks, units = append(chunks, units[:n]), units[n:]
	}
	var out []*pdu.DeliverSM
	for i, chunk := range chunks {
		d, err := newDeliver(from, to)
		if err != nil {
			return nil, err
		}
		raw := make([]byte, 0, 2*len(chunk))
		for _, u := range chunk {
			raw = append(raw, byte(u>>8), byte(u))
		}
		sm, err := pdu.NewBinaryShortMessageWithEncoding(raw, data.UCS2)
		if err != nil {
			return nil, err
		}
		sm.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(byte(len(chunks)), byte(i+1), ref)})
		d.Message = sm
		d.EsmClass = esmUDHI
		out = append(out, d)
	}
	return out, nil
}

// Receipt returns a delivery receipt (esm_class 0x04) for the message
// with id, in the text format of SMPP 3.4 Appendix B ("id:… sub:001
// dlvrd:001 submit date:… done date:… stat:DELIVRD err:000 text:"). With
// tlv, it also carries receipted_message_id and message_state (state) and,
// when textID is false, the text's id is left empty so only the TLV names
// the message.
func Receipt(from, to, id, stat, errCode string, tlv bool, state byte, textID bool) (*pdu.DeliverSM, error) {
	d, err := newDeliver(from, to)
	if err != nil {
		return nil, err
	}
	tid := id
	if !textID {
		tid = ""
	}
	text := fmt.Sprintf("id:%s sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:%s err:%s text:", tid, stat, errCode)
	sm, err := pdu.NewBinaryShortMessageWithEncoding([]byte(text), data.ASCII)
	if err != nil {
		return nil, err
	}
	d.Message = sm
	d.EsmClass = esmReceipt
	if tlv {
		d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(id), 0)})
		d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{state}})
	}
	return d, nil
}
