package smpp

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/channels/sms"
)

// missingPart stands for a part that never arrived in a message delivered
// after ReassemblyTimeout.
const missingPart = "[…]"

// onDeliver handles one deliver_sm and returns the command_status of its
// deliver_sm_resp: ESME_ROK only once the Sink has stored it (or it is a
// repeat of a stored one, or a part held for reassembly);
// ESME_RX_T_APPN when the Sink or the suppression store is unavailable, so
// the SMSC delivers it again; a permanent error for input that will never
// be taken.
func (p *Provider) onDeliver(ctx context.Context, d *pdu.DeliverSM) data.CommandStatusType {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.SinkTimeout)
	defer cancel()
	switch d.EsmClass & esmTypeMask {
	case esmReceipt, esmIntermNotif:
		return p.onReceipt(ctx, d)
	}
	return p.onMessage(ctx, d)
}

// userData returns the message bytes of d after any UDH, the UDH, and the
// data_coding: from short_message, or from the message_payload TLV when
// short_message is empty (SMPP 3.4 §5.3.2.32).
func userData(d *pdu.DeliverSM) ([]byte, pdu.UDH, byte, bool) {
	enc := d.Message.Encoding()
	if enc == nil {
		return nil, nil, 0, false
	}
	raw, _ := d.Message.GetMessageData()
	udh := d.Message.UDH()
	if f, ok := d.OptionalParameters[pdu.TagMessagePayload]; ok && len(raw) == 0 && len(udh) == 0 {
		raw = f.Data
		if d.EsmClass&esmUDHI != 0 && len(raw) > 0 {
			var u pdu.UDH
			n, err := u.UnmarshalBinary(raw)
			if err != nil {
				return nil, nil, 0, false
			}
			udh, raw = u, raw[n:]
		}
	}
	return raw, udh, enc.DataCoding(), true
}

// decodeText decodes user data by its data_coding (SMPP 3.4 §5.2.19):
// 0 GSM-7 (unpacked), 1 IA5/ASCII, 3 Latin-1, 8 UCS-2; others are refused.
func decodeText(raw []byte, dc byte) (string, error) {
	switch dc {
	case data.GSM7BITCoding:
		return sms.Decode(raw, sms.GSM7)
	case data.UCS2Coding:
		return sms.Decode(raw, sms.UCS2)
	case data.ASCIICoding:
		return data.ASCII.Decode(raw)
	case data.LATIN1Coding:
		return data.LATIN1.Decode(raw)
	}
	return "", fmt.Errorf("data_coding %#02x: %w: not a text coding this gateway reads", dc, conversation.ErrInvalid)
}

// concatInfo returns the reference, total and sequence of a part: from an
// 8- or 16-bit concatenation IE of the UDH (3GPP TS 23.040 §9.2.3.24.1,
// §9.2.3.24.8) or from the sar_* TLVs (SMPP 3.4 §5.3.2.22-24).
func concatInfo(d *pdu.DeliverSM, udh pdu.UDH) (ref, total, seq int, ok bool) {
	if ie, found := udh.FindInfoElement(data.UDH_CONCAT_MSG_8_BIT_REF); found && len(ie.Data) == 3 {
		return int(ie.Data[0]), int(ie.Data[1]), int(ie.Data[2]), true
	}
	if ie, found := udh.FindInfoElement(data.UDH_CONCAT_MSG_16_BIT_REF); found && len(ie.Data) == 4 {
		return int(binary.BigEndian.Uint16(ie.Data)), int(ie.Data[2]), int(ie.Data[3]), true
	}
	r, rok := d.OptionalParameters[pdu.TagSarMsgRefNum]
	t, tok := d.OptionalParameters[pdu.TagSarTotalSegments]
	s, sok := d.OptionalParameters[pdu.TagSarSegmentSeqnum]
	if rok && tok && sok && len(r.Data) == 2 && len(t.Data) == 1 && len(s.Data) == 1 {
		return int(binary.BigEndian.Uint16(r.Data)), int(t.Data[0]), int(s.Data[0]), true
	}
	return 0, 0, 0, false
}

// sourceNumber returns a deliver_sm's source_addr as E.164: an
// international number (TON 1) gains its "+"; any other is read in
// DefaultRegion and, failing that, as international digits without their
// "+" (SMSCs that send TON 0 for every number).
func (p *Provider) sourceNumber(a pdu.Address) (string, error) {
	raw := strings.TrimSpace(a.Address())
	if a.Ton() == 1 && !strings.HasPrefix(raw, "+") {
		raw = "+" + raw
	}
	e164, err := identity.NormalisePhone(raw, p.cfg.DefaultRegion)
	if err != nil && a.Ton() == 0 && !strings.HasPrefix(raw, "+") {
		if alt, altErr := identity.NormalisePhone("+"+raw, ""); altErr == nil {
			return alt, nil
		}
	}
	return e164, err
}

// onMessage handles an incoming message or one part of it.
func (p *Provider) onMessage(ctx context.Context, d *pdu.DeliverSM) data.CommandStatusType {
	from, err := p.sourceNumber(d.SourceAddr)
	if err != nil {
		p.log.Warn("smpp deliver_sm refused: source is not a phone number", "source", conversation.MaskPhone(d.SourceAddr.Address()), "ton", d.SourceAddr.Ton(), "err", err)
		return data.ESME_RINVSRCADR
	}
	raw, udh, dc, ok := userData(d)
	if !ok {
		p.log.Warn("smpp deliver_sm refused: unreadable user data", "from", conversation.MaskPhone(from))
		return data.ESME_RX_P_APPN
	}
	to := d.DestAddr.Address()
	now := time.Now()
	key := ""
	if ref, total, seq, concat := concatInfo(d, udh); concat && total > 1 {
		key = fmt.Sprintf("%s|%s|%d|%d", from, to, ref, total)
		joined, res := p.reasm.add(key, total, seq, raw, dc, from, to, now)
		switch res {
		case partHeld:
			return data.ESME_ROK
		case partFull:
			p.log.Warn("smpp reassembly full, part refused for now", "from", conversation.MaskPhone(from), "limit", p.cfg.ReassemblyMaxMessages)
			return data.ESME_RMSGQFUL
		case partInvalid:
			p.log.Warn("smpp deliver_sm refused: part out of range", "from", conversation.MaskPhone(from), "part", seq, "total", total, "max_parts", p.cfg.MaxInboundParts)
			return data.ESME_RINVMSGLEN
		}
		raw = joined
	}
	text, err := decodeText(raw, dc)
	if err != nil {
		p.log.Warn("smpp deliver_sm refused", "from", conversation.MaskPhone(from), "err", err)
		if key != "" {
			p.reasm.done(key)
		}
		return data.ESME_RX_P_APPN
	}
	fp := fingerprint(from, to, key, dc, raw, d)
	if p.dedup.seen(fp, now) {
		p.log.Info("smpp deliver_sm repeated, acknowledged again", "from", conversation.MaskPhone(from))
		if key != "" {
			p.reasm.done(key)
		}
		return data.ESME_ROK
	}
	st := p.store(ctx, from, text, fp, now)
	if st == data.ESME_ROK {
		p.dedup.add(fp, now)
		if key != "" {
			p.reasm.done(key)
		}
	}
	return st
}

// store applies the opt-out rules and gives the message to the Sink.
func (p *Provider) store(ctx context.Context, from, text, fp string, now time.Time) data.CommandStatusType {
	in := conversation.Incoming{
		Kind:           conversation.IncomingMessage,
		Channel:        conversation.ChannelSMS,
		ChannelAccount: p.cfg.Account,
		From:           conversation.Address{Kind: conversation.AddressPhone, Value: from},
		// The same on every instance for an SMSC's repeat within the
		// dedup window's time slot, so that the store keeps one copy even
		// when the repeat reaches another instance (the first one died
		// before its deliver_sm_resp).
		ProviderID:   "mo-" + fp[:20] + "-" + strconv.FormatInt(now.Truncate(p.cfg.DedupWindow).UnixMilli(), 10),
		Text:         text,
		Verification: conversation.VerificationBasic,
		ReceivedAt:   conversation.Millis(now),
	}
	if _, err := sms.ApplyKeyword(ctx, p.sup, &in); err != nil {
		p.log.Error("smpp opt-out not recorded, SMSC will deliver again", "incoming", in, "err", err)
		return data.ESME_RX_T_APPN
	}
	receipt, err := p.sink.Receive(ctx, in)
	switch {
	case err == nil:
		p.log.Info("sms received", "incoming", in, "message_id", receipt.MessageID, "conversation_id", receipt.ConversationID, "duplicate", receipt.Duplicate)
		return data.ESME_ROK
	case errors.Is(err, conversation.ErrInvalid):
		p.log.Warn("smpp deliver_sm refused by the sink", "incoming", in, "err", err)
		return data.ESME_RX_P_APPN
	default:
		p.log.Error("smpp deliver_sm not stored, SMSC will deliver again", "incoming", in, "err", err)
		return data.ESME_RX_T_APPN
	}
}

// fingerprint identifies an incoming message for de-duplication: sender,
// recipient, concatenation key, data_coding, user data and, when the
// handset set one, its user_message_reference (SMPP 3.4 §5.3.2.17).
func fingerprint(from, to, key string, dc byte, raw []byte, d *pdu.DeliverSM) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00", from, to, key, dc)
	if f, ok := d.OptionalParameters[pdu.TagUserMessageReference]; ok {
		h.Write(f.Data)
	}
	h.Write([]byte{0})
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))
}

// onReceipt gives a delivery receipt to Sink.Status for its part's id.
func (p *Provider) onReceipt(ctx context.Context, d *pdu.DeliverSM) data.CommandStatusType {
	raw, _, dc, ok := userData(d)
	text := ""
	if ok {
		text, _ = decodeText(raw, dc)
	}
	r, ok := parseReceipt(d, text)
	if !ok {
		p.log.Warn("smpp receipt without a message id or a known state, acknowledged and ignored", "stat", r.stat)
		return data.ESME_ROK
	}
	upd := conversation.StatusUpdate{
		Channel: conversation.ChannelSMS, ChannelAccount: p.cfg.Account,
		ProviderID: r.id, Status: r.state, At: conversation.Millis(time.Now()),
	}
	if r.state == conversation.DeliveryFailed {
		upd.ErrorCode = r.errorCode()
	}
	err := p.sink.Status(ctx, upd)
	switch {
	case err == nil:
		p.log.Debug("sms status", "provider_id", r.id, "stat", r.stat, "status", r.state, "error_code", upd.ErrorCode)
		return data.ESME_ROK
	case errors.Is(err, conversation.ErrNotFound):
		p.log.Info("smpp receipt for an unknown message", "provider_id", r.id, "stat", r.stat)
		return data.ESME_ROK
	case errors.Is(err, conversation.ErrInvalid):
		p.log.Warn("smpp receipt refused by the sink", "provider_id", r.id, "err", err)
		return data.ESME_RX_P_APPN
	default:
		p.log.Error("smpp receipt not stored, SMSC will deliver again", "provider_id", r.id, "err", err)
		return data.ESME_RX_T_APPN
	}
}

// sweep delivers, every quarter of ReassemblyTimeout (10 ms to 30 s), the
// concatenated messages whose parts stopped arriving, with
// missingPart in place of each missing part; one the Sink cannot take now
// is tried again on the next round, and dropped with an error log after
// 3 × ReassemblyTimeout.
func (p *Provider) sweep(ctx context.Context) {
	every := min(max(p.cfg.ReassemblyTimeout/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for key, m := range p.reasm.expired(now, p.cfg.ReassemblyTimeout) {
				p.flush(ctx, key, m, now)
			}
		}
	}
}

// flush delivers what arrived of an expired message.
func (p *Provider) flush(ctx context.Context, key string, m *partial, now time.Time) {
	var b strings.Builder
	missing := 0
	var all []byte
	for _, part := range m.parts {
		if part == nil {
			missing++
			continue
		}
		all = append(all, part...)
	}
	// Decode part by part so a missing part leaves a visible gap.
	for _, part := range m.parts {
		if part == nil {
			b.WriteString(missingPart)
			continue
		}
		s, err := decodeText(part, m.dataCoding)
		if err != nil {
			p.log.Error("smpp incomplete message dropped: undecodable part", "from", conversation.MaskPhone(m.from), "err", err)
			p.reasm.done(key)
			return
		}
		b.WriteString(s)
	}
	fp := fingerprint(m.from, m.to, key, m.dataCoding, all, &pdu.DeliverSM{})
	sctx, cancel := context.WithTimeout(ctx, p.cfg.SinkTimeout)
	defer cancel()
	st := p.store(sctx, m.from, b.String(), fp, now)
	switch {
	case st == data.ESME_ROK:
		p.log.Warn("smpp incomplete message delivered after reassembly timeout", "from", conversation.MaskPhone(m.from), "parts", len(m.parts), "missing", missing)
		p.reasm.done(key)
	case now.Sub(m.first) > 3*p.cfg.ReassemblyTimeout:
		p.log.Error("smpp incomplete message dropped: sink unavailable", "from", conversation.MaskPhone(m.from), "parts", len(m.parts), "missing", missing)
		p.reasm.done(key)
	}
}
