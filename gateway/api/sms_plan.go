package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/gateway/outbox"
)

// smsPlanRequest is the body of POST /api/v1/sms/segments.
type smsPlanRequest struct {
	Text string `json:"text"`
}

// smsPlan serves POST /api/v1/sms/segments: how a text would go out as
// SMS before it is sent — the encoding (GSM-7, or UCS-2 as soon as one
// character is outside GSM-7), its length in units (septets, extension
// characters counting two; or UTF-16 code units), the number of segments
// (160/153 GSM-7, 70/67 UCS-2 per part, 3GPP TS 23.040 concatenation) and
// the units left before another segment. For the desk's send box.
func (s *server) smsPlan(w http.ResponseWriter, r *http.Request) {
	var req smsPlanRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(req.Text) > outbox.MaxTextBytes || !utf8.ValidString(req.Text) {
		s.fail(w, r, badRequest("text: UTF-8, at most %d bytes", outbox.MaxTextBytes))
		return
	}
	s.writeJSON(w, r, http.StatusOK, sms.Count(req.Text))
}
