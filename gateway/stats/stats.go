// Package stats computes the supervisor's live figures from the store:
// per team and per segment, waiting conversations and the longest wait,
// service level against the segment's wait budget, ASA, AHT,
// abandonment, RMs by state and occupancy; and a scorecard per RM
// (handled, AHT, dispositions including leads). Figures cover the
// conversations that entered the queue within a window (Since to At).
// Definitions follow the contact-centre usage (and routing/sim, which the
// simulator reports with the same formulas):
//
//   - Offered: conversations that entered the queue in the window.
//   - SLA %: 100 × answered within the segment's wait budget / offered
//     (abandoned, waiting and unanswered ones count against it).
//   - ASA: mean of answered conversations' time from queued to accepted.
//   - AHT: mean of handled (closed after an answer) conversations' time
//     from accepted to closed, wrap-up included.
//   - Abandonment %: 100 × abandoned / offered.
//   - Occupancy %: 100 × the load of the team's RMs who are not offline /
//     their capacity, now (in cost units).
package stats

import (
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Figures are one team's or one segment's service in the window.
type Figures struct {
	// Key is the team id or the segment; Group is the team's pilot or
	// control group (teams only).
	Key   string             `json:"key"`
	Group conversation.Group `json:"group,omitempty"`
	// Waiting counts conversations queued now; LongestWaitSeconds is the
	// oldest one's wait.
	Waiting            int     `json:"waiting"`
	LongestWaitSeconds float64 `json:"longest_wait_seconds"`
	// Offered, Answered, Abandoned and Handled count conversations of the
	// window (see the package doc); AnsweredInTarget those answered within
	// the wait budget (BudgetSeconds at BudgetPercent; zero when the
	// segment has none).
	Offered          int     `json:"offered"`
	Answered         int     `json:"answered"`
	AnsweredInTarget int     `json:"answered_in_target"`
	Abandoned        int     `json:"abandoned"`
	Handled          int     `json:"handled"`
	BudgetSeconds    float64 `json:"budget_seconds,omitempty"`
	BudgetPercent    int     `json:"budget_percent,omitempty"`
	// SLAPercent, ASASeconds, AHTSeconds and AbandonPercent: see the
	// package doc; 0 when there is nothing to average.
	SLAPercent     float64 `json:"sla_percent"`
	ASASeconds     float64 `json:"asa_seconds"`
	AHTSeconds     float64 `json:"aht_seconds"`
	AbandonPercent float64 `json:"abandon_percent"`
	// RMs counts the team's RMs by state now: available, busy (available
	// at full capacity), away, wrap_up, offline. Teams only.
	RMs map[string]int `json:"rms,omitempty"`
	// OccupancyPercent: see the package doc. Teams only.
	OccupancyPercent float64 `json:"occupancy_percent"`
}

// Board is the wallboard: every team and segment the caller may see.
type Board struct {
	At       time.Time `json:"at"`
	Since    time.Time `json:"since"`
	Teams    []Figures `json:"teams"`
	Segments []Figures `json:"segments"`
}

// Scorecard is one RM's work in the window.
type Scorecard struct {
	RMID   conversation.RMID   `json:"rm_id"`
	TeamID conversation.TeamID `json:"team_id"`
	Group  conversation.Group  `json:"group,omitempty"`
	Since  time.Time           `json:"since"`
	At     time.Time           `json:"at"`
	// Handled counts conversations the RM closed after answering them;
	// AHTSeconds is their mean handle time, wrap-up included.
	Handled    int     `json:"handled"`
	AHTSeconds float64 `json:"aht_seconds"`
	// Active counts conversations assigned to the RM now (active or in
	// wrap-up).
	Active int `json:"active"`
	// Dispositions counts the handled conversations by disposition; Leads
	// sums those whose disposition starts with "lead:".
	Dispositions map[string]int `json:"dispositions"`
	Leads        int            `json:"leads"`
	// Satisfaction is the mean survey score when any was recorded; no
	// channel collects one yet, so it is absent.
	Satisfaction *float64 `json:"satisfaction,omitempty"`
}
