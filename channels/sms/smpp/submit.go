package smpp

import (
	"context"
	"fmt"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
)

// esm_class bits (SMPP 3.4 §5.2.12).
const (
	esmUDHI        = 0x40 // short_message starts with a user data header
	esmTypeMask    = 0x3C // message type bits
	esmReceipt     = 0x04 // SMSC delivery receipt
	esmIntermNotif = 0x20 // intermediate delivery notification
)

// Send implements sms.Sender: one submit_sm per part (SMPP 3.4 §4.4), the
// text split by sms.Split into GSM-7 (data_coding 0, unpacked septets) or
// UCS-2 (data_coding 8) parts, each part of a long message carrying the
// 8-bit-reference concatenation UDH 05 00 03 ref total seq (3GPP TS 23.040
// §9.2.3.24.1) with esm_class 0x40. Parts go out within the window and the
// throughput limit; delivery receipts are requested unless NoReceipts.
//
// It returns the SMSC message id of every part, in part order, with
// status sent. Before any SMSC call it refuses another account
// (ErrUnknownAccount), attachments, an invalid message or more than
// MaxParts parts (sms.ErrInvalidMessage, sms.ErrTooLong) and a suppressed
// recipient (sms.ErrSuppressed, so conversation.ErrOptedOut). With no bind
// up it waits up to SubmitTimeout for one, then returns ErrNotBound. A
// part refused by the SMSC gives a wrapped *conversation.ProviderError
// with its command_status ("0x00000058"), also wrapping
// conversation.ErrUnavailable when retrying may help (throttled, queue
// full); a link lost or a resp missing gives ErrLinkLost or
// ErrSubmitTimeout. On error, the returned Sent still lists the ids of the
// parts the SMSC accepted.
func (p *Provider) Send(ctx context.Context, m sms.Outbound) (conversation.Sent, error) {
	if m.Account != p.cfg.Account {
		return conversation.Sent{}, fmt.Errorf("smpp: send from %q: %w (this bind serves %q)", m.Account, ErrUnknownAccount, p.cfg.Account)
	}
	if len(m.Attachments) > 0 {
		return conversation.Sent{}, fmt.Errorf("smpp: send to %s: %w: SMPP carries no media", conversation.MaskPhone(m.To), sms.ErrInvalidMessage)
	}
	if err := sms.CheckSendable(ctx, p.sup, m); err != nil {
		return conversation.Sent{}, fmt.Errorf("smpp: %w", err)
	}
	enc, parts, err := sms.Split(m.Text)
	if err != nil {
		return conversation.Sent{}, fmt.Errorf("smpp: send to %s: %w", conversation.MaskPhone(m.To), err)
	}
	if len(parts) > p.cfg.MaxParts {
		return conversation.Sent{}, fmt.Errorf("smpp: send to %s: %d parts: %w (at most %d)", conversation.MaskPhone(m.To), len(parts), sms.ErrTooLong, p.cfg.MaxParts)
	}
	pdus, err := p.submitPDUs(m.To, enc, parts)
	if err != nil {
		return conversation.Sent{}, err
	}
	l, err := p.boundLink(ctx)
	if err != nil {
		return conversation.Sent{}, err
	}

	answers := make([]chan submitResult, 0, len(pdus))
	var firstErr error
	for _, sm := range pdus {
		ch, err := l.submit(ctx, sm)
		if err != nil {
			firstErr = err
			break
		}
		answers = append(answers, ch)
	}
	ids := make([]string, len(pdus))
	wctx, cancel := context.WithTimeout(ctx, p.cfg.SubmitTimeout)
	defer cancel()
	for i, ch := range answers {
		var res submitResult
		select {
		case res = <-ch:
		case <-wctx.Done():
			res.err = ErrSubmitTimeout
			if ctx.Err() != nil {
				res.err = wrapCtx(ErrSubmitTimeout, ctx.Err())
			}
		}
		if res.err != nil {
			l.resolve(pdus[i].GetSequenceNumber(), submitResult{err: res.err}) // free its window slot
		} else if res.status != data.ESME_ROK {
			res.err = p.refused(res.status)
		}
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
			}
			continue
		}
		ids[i] = res.id
	}
	accepted := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			accepted = append(accepted, id)
		}
	}
	sent := conversation.Sent{ProviderIDs: accepted, Status: conversation.DeliverySent}
	if firstErr != nil {
		p.log.Warn("smpp send failed", "outbound", m, "parts", len(pdus), "accepted", len(accepted), "err", firstErr)
		return sent, fmt.Errorf("smpp: send to %s: %w", conversation.MaskPhone(m.To), firstErr)
	}
	p.log.Info("sms sent", "outbound", m, "encoding", string(enc), "parts", len(pdus), "provider_ids", accepted)
	return sent, nil
}

// refused turns a submit_sm_resp error status into a ProviderError.
func (p *Provider) refused(st data.CommandStatusType) error {
	perr := &conversation.ProviderError{
		Channel: conversation.ChannelSMS, Code: statusCode(st), Message: st.String() + ": " + st.Desc(), Retryable: retryable(st),
	}
	if perr.Retryable {
		return fmt.Errorf("%w: %w", perr, conversation.ErrUnavailable)
	}
	return perr
}

// submitPDUs builds the submit_sm of each part.
func (p *Provider) submitPDUs(to string, enc sms.Encoding, parts []string) ([]*pdu.SubmitSM, error) {
	coding := data.FromDataCoding(enc.DataCoding())
	ref := byte(p.ref.Add(1))
	out := make([]*pdu.SubmitSM, 0, len(parts))
	for i, part := range parts {
		raw, err := sms.Encode(part, enc)
		if err != nil {
			return nil, fmt.Errorf("smpp: send to %s: %w", conversation.MaskPhone(to), err)
		}
		msg, err := pdu.NewBinaryShortMessageWithEncoding(raw, coding)
		if err != nil {
			return nil, fmt.Errorf("smpp: send to %s: part %d: %w: %v", conversation.MaskPhone(to), i+1, sms.ErrInvalidMessage, err)
		}
		sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
		if len(parts) > 1 {
			msg.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(byte(len(parts)), byte(i+1), ref)})
			sm.EsmClass |= esmUDHI
		}
		sm.Message = msg
		sm.SourceAddr = pdu.NewAddressWithTonNpi(p.cfg.SourceTON, p.cfg.SourceNPI)
		sm.DestAddr = pdu.NewAddressWithTonNpi(1, 1) // international, E.164
		if err := sm.SourceAddr.SetAddress(p.cfg.SourceAddr); err != nil {
			return nil, fmt.Errorf("smpp: source_addr: %w: %v", ErrConfig, err)
		}
		if err := sm.DestAddr.SetAddress(to[1:]); err != nil {
			return nil, fmt.Errorf("smpp: send to %s: %w: %v", conversation.MaskPhone(to), sms.ErrInvalidMessage, err)
		}
		if !p.cfg.NoReceipts {
			sm.RegisteredDelivery = 1 // SMSC delivery receipt on success or failure, SMPP 3.4 §5.2.17
		}
		out = append(out, sm)
	}
	return out, nil
}
