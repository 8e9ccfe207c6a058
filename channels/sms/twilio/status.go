package twilio

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/airbranch/airbranch/channels/conversation"
)

// deliveryStatus maps a MessageStatus of a status callback (Twilio
// "Message resource: status values") to a delivery status; ok is false
// for statuses that say nothing about an outbound message (receiving,
// received) and for unknown ones.
func deliveryStatus(s string) (st conversation.DeliveryStatus, known, ok bool) {
	switch s {
	case "accepted", "scheduled", "queued", "sending":
		return conversation.DeliveryQueued, true, true
	case "sent":
		return conversation.DeliverySent, true, true
	case "delivered":
		return conversation.DeliveryDelivered, true, true
	case "read":
		return conversation.DeliveryRead, true, true
	case "undelivered", "failed", "canceled":
		return conversation.DeliveryFailed, true, true
	case "receiving", "received":
		return "", true, false
	}
	return "", false, false
}

// serveStatus handles a status callback: verified like an inbound message,
// then given to Sink.Status. The Sink moves the status forward only, so
// callbacks arriving out of order change nothing. Answers: 204 when done
// (or when no message has the sid), 400 for a malformed callback, 503 when
// the Sink is unavailable (the provider retries).
func (p *Provider) serveStatus(w http.ResponseWriter, r *http.Request) {
	acct, form, ok := p.signed(w, r)
	if !ok {
		return
	}
	sid, raw := form.Get("MessageSid"), form.Get("MessageStatus")
	if raw == "" {
		raw = form.Get("SmsStatus")
	}
	if sid == "" || raw == "" {
		http.Error(w, "missing MessageSid or MessageStatus", http.StatusBadRequest)
		return
	}
	st, known, ok := deliveryStatus(raw)
	if !known {
		p.log.Warn("sms status callback with unknown status", "account", acct.Name, "provider_id", sid, "message_status", raw)
		http.Error(w, "unknown MessageStatus", http.StatusBadRequest)
		return
	}
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	upd := conversation.StatusUpdate{
		Channel:        conversation.ChannelSMS,
		ChannelAccount: acct.Name,
		ProviderID:     sid,
		Status:         st,
		At:             conversation.Millis(p.now()),
	}
	if st == conversation.DeliveryFailed {
		upd.ErrorCode = form.Get("ErrorCode")
	}
	ctx := r.Context()
	err := p.sink.Status(ctx, upd)
	switch {
	case err == nil:
		p.log.Debug("sms status", "account", acct.Name, "provider_id", sid, "status", st, "error_code", upd.ErrorCode)
	case errors.Is(err, conversation.ErrNotFound):
		p.log.Info("sms status for an unknown message", "account", acct.Name, "provider_id", sid, "status", st)
	default:
		status := sinkStatus(err)
		p.log.Log(ctx, levelFor(status), "sms status not stored", "account", acct.Name, "provider_id", sid, "status", status, "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// levelFor logs server-side failures as errors and refusals as warnings.
func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelWarn
}
