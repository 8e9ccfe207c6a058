package conversation

import (
	"slices"
	"time"
)

// TeamKind says whether a team serves a client segment or is a pool of
// middle-office specialists invited into conversations.
type TeamKind string

// Team kinds.
const (
	TeamSegment    TeamKind = "segment"
	TeamSpecialist TeamKind = "specialist"
)

// Group tags a team or RM for a routing pilot: "pilot", "control", or ""
// for neither. Supervisors see pilot and control side by side.
type Group string

// Pilot groups.
const (
	GroupNone    Group = ""
	GroupPilot   Group = "pilot"
	GroupControl Group = "control"
)

// WorkingHours is one opening window of a team, in the team's time zone:
// on each of Days (e.g. "mon"), from Open to Close ("09:00", "18:00", 24-hour
// clock; Close after Open).
type WorkingHours struct {
	Days  []string `json:"days" yaml:"days"`
	Open  string   `json:"open" yaml:"open"`
	Close string   `json:"close" yaml:"close"`
}

// Team is a group of RMs serving one segment, or a specialist pool (wealth
// advisers, portfolio managers).
type Team struct {
	ID      TeamID   `json:"id" yaml:"id"`
	Name    string   `json:"name" yaml:"name"`
	Kind    TeamKind `json:"kind" yaml:"kind"`
	Segment Segment  `json:"segment,omitempty" yaml:"segment"`
	// TimeZone is an IANA zone name such as "Asia/Hong_Kong".
	TimeZone string         `json:"time_zone" yaml:"time_zone"`
	Hours    []WorkingHours `json:"hours,omitempty" yaml:"hours"`
	// Holidays are dates ("2026-12-25") in TimeZone when the team is closed.
	Holidays []string `json:"holidays,omitempty" yaml:"holidays"`
	Group    Group    `json:"group,omitempty" yaml:"group"`
}

// Licence is a regulatory licence an RM holds, e.g. "investment_advice",
// valid until Expires (exclusive; zero means no expiry).
type Licence struct {
	Name    string    `json:"name" yaml:"name"`
	Expires time.Time `json:"expires,omitzero" yaml:"expires"`
}

// ValidAt reports whether the licence is in force at t.
func (l Licence) ValidAt(t time.Time) bool { return l.Expires.IsZero() || t.Before(l.Expires) }

// RM is a relationship manager (or a specialist) of a team.
type RM struct {
	ID     RMID   `json:"id" yaml:"id"`
	Name   string `json:"name" yaml:"name"`
	TeamID TeamID `json:"team_id" yaml:"team"`
	// Skills maps a skill (e.g. "wealth", "mortgage", "fx") to a
	// proficiency from 1 to 5.
	Skills    map[string]int `json:"skills,omitempty" yaml:"skills"`
	Languages []string       `json:"languages" yaml:"languages"`
	Licences  []Licence      `json:"licences,omitempty" yaml:"licences"`
	Deputy    RMID           `json:"deputy,omitempty" yaml:"deputy"`
	// Capacity in cost units; 100 unless configured (one call, or four
	// chats at 25 each).
	Capacity int   `json:"capacity" yaml:"capacity"`
	Group    Group `json:"group,omitempty" yaml:"group"`
}

// Speaks reports whether the RM speaks language lang (e.g. "yue").
func (r RM) Speaks(lang string) bool { return slices.Contains(r.Languages, lang) }

// HasLicence reports whether the RM holds licence name, in force at t.
func (r RM) HasLicence(name string, t time.Time) bool {
	return slices.ContainsFunc(r.Licences, func(l Licence) bool { return l.Name == name && l.ValidAt(t) })
}
