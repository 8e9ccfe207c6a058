package smpp

import (
	"strings"

	"github.com/linxGnu/gosmpp/pdu"

	"github.com/airbranch/airbranch/channels/conversation"
)

// receipt is what a delivery receipt says about one submitted part.
type receipt struct {
	id    string
	stat  string // DELIVRD, UNDELIV, ... (from the text or message_state)
	err   string // the text's err: field, "" when absent
	state conversation.DeliveryStatus
}

// messageStates maps the message_state TLV (SMPP 3.4 §5.2.28) to the
// stat names of the receipt text (SMPP 3.4 Appendix B).
var messageStates = map[byte]string{
	1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED",
	5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD",
}

// statStatus maps a receipt stat to a delivery status.
func statStatus(stat string) (conversation.DeliveryStatus, bool) {
	switch stat {
	case "DELIVRD":
		return conversation.DeliveryDelivered, true
	case "ENROUTE", "ACCEPTD":
		return conversation.DeliverySent, true
	case "EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN":
		return conversation.DeliveryFailed, true
	}
	return "", false
}

// parseReceipt reads a delivery receipt: the receipted_message_id and
// message_state TLVs when present (SMPP 3.4 §5.3.2.12, §5.3.2.35), else
// the "id:… stat:… err:…" text of SMPP 3.4 Appendix B (in short_message
// or message_payload). ok is false when no message id or no known state
// can be found.
func parseReceipt(d *pdu.DeliverSM, text string) (receipt, bool) {
	fields := receiptFields(text)
	r := receipt{id: fields["id"], stat: strings.ToUpper(fields["stat"]), err: fields["err"]}
	if f, ok := d.OptionalParameters[pdu.TagReceiptedMessageID]; ok {
		if id := strings.TrimSpace(f.String()); id != "" {
			r.id = id
		}
	}
	if f, ok := d.OptionalParameters[pdu.TagMessageStateOption]; ok && len(f.Data) == 1 {
		if stat, known := messageStates[f.Data[0]]; known {
			r.stat = stat
		}
	}
	st, known := statStatus(r.stat)
	r.state = st
	return r, r.id != "" && known
}

// errorCode is the code a failed receipt leaves on the message: its err
// field when not all zeros, else its stat ("UNDELIV").
func (r receipt) errorCode() string {
	if strings.Trim(r.err, "0") != "" {
		return r.err
	}
	return r.stat
}

// receiptFields splits "id:123 sub:001 dlvrd:001 submit date:2501011200
// done date:... stat:DELIVRD err:000 text:..." into its fields; the text
// field (free text) ends the parse.
func receiptFields(s string) map[string]string {
	out := map[string]string{}
	lower := strings.ToLower(s)
	for _, key := range []string{"id", "sub", "dlvrd", "submit date", "done date", "stat", "err"} {
		i := strings.Index(lower, key+":")
		for i > 0 && lower[i-1] != ' ' { // "id:" inside another word
			j := strings.Index(lower[i+1:], key+":")
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			continue
		}
		v := s[i+len(key)+1:]
		if end := strings.IndexByte(v, ' '); end >= 0 {
			v = v[:end]
		}
		out[key] = v
	}
	return out
}
