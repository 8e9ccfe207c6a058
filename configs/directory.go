package configs

import (
	"fmt"
	"os"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
)

// DirectoryFile is the directory YAML format (configs/demo/directory.yaml is
// the documented example): three lists, decoded strictly into the domain
// types by their yaml tags.
//
//	teams:      conversation.Team: id, name, kind, segment, time_zone, hours, holidays, group
//	rms:        conversation.RM: id, name, team, skills, languages, licences, deputy, capacity, group
//	customers:  conversation.Customer: id, display_name, segment, own_rm, deputy_rm, aum_band,
//	            preferred_language, verification, consent, addresses, prospect
//
// A licence's expires is a date such as 2027-06-30 (quoted or not) or an RFC
// 3339 time; the licence is valid before it. See ParseDirectory for the rules.
type DirectoryFile struct {
	Teams     []conversation.Team     `yaml:"teams"`
	RMs       []conversation.RM       `yaml:"rms"`
	Customers []conversation.Customer `yaml:"customers"`
}

// LoadDirectory reads the directory cfg.Directory.File names (already
// resolved against the config file's folder by Load), or the embedded demo
// directory when it is "" or cfg is nil, and returns it checked and indexed
// (see ParseDirectory). A file that cannot be read gives an error wrapping
// the os error; a bad directory gives Problems.
func LoadDirectory(cfg *Config) (*directory.Static, error) {
	name, data := embeddedDirectoryName, []byte(demoDirectoryYAML)
	if cfg != nil && cfg.Directory.File != "" {
		var err error
		name = cfg.Directory.File
		if data, err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("configs: read directory: %w", err)
		}
	}
	return ParseDirectory(name, data)
}

// ParseDirectory decodes a directory YAML document (DirectoryFile; file
// names it in problems), checks it and indexes it with directory.NewStatic.
// Every problem is returned at once as Problems, each with file, line and
// field path such as "rms[3].deputy". The rules:
//
//   - team, RM and customer ids are unique, 1 to 64 letters, digits, ".",
//     "_" or "-";
//   - teams have a name; kind is segment (with a valid segment) or
//     specialist (without one); time_zone is an IANA zone ("Asia/Hong_Kong");
//     hours name days mon..sun with open and close as "HH:MM", close after
//     open ("24:00" closes at midnight); holidays are dates ("2026-12-25");
//     group is "", pilot or control;
//   - RMs have a name and a known team; skill names are lower_snake_case
//     with proficiency 1 to 5; languages are a non-empty list of Languages();
//     licences have a lower_snake_case name; capacity is 1 to 100 cost units
//     (0 or absent means 100); deputy is a known RM other than the RM itself,
//     and deputies never form a cycle (a -> b -> a); group is "", pilot or
//     control;
//   - customers have a valid segment; verification is none, basic or strong
//     (absent means basic); preferred_language is one of Languages() when
//     set; addresses pass conversation.Address.Validate (phones E.164);
//     own_rm and deputy_rm are known RMs and differ; no address belongs to
//     two customers or appears twice.
func ParseDirectory(file string, data []byte) (*directory.Static, error) {
	var f DirectoryFile
	lines, structural, decoded := decodeStrict(file, data, &f)
	if !decoded {
		return nil, structural.Err()
	}
	v := &collector{file: file, where: lines}
	checkDirectory(&f, v)
	if err := mergeProblems(structural, v.list).Err(); err != nil {
		return nil, err
	}
	applyDirectoryDefaults(&f)
	s, err := directory.NewStatic(f.Teams, f.RMs, f.Customers)
	if err != nil {
		return nil, fmt.Errorf("configs: directory %s: %w", file, err)
	}
	return s, nil
}

// DefaultCapacity is an RM's capacity in cost units when the directory
// gives none: one call, or four chats at 25 each.
const DefaultCapacity = 100

// applyDirectoryDefaults fills what the directory may leave out: capacity
// 100 and verification basic.
func applyDirectoryDefaults(f *DirectoryFile) {
	for i := range f.RMs {
		if f.RMs[i].Capacity == 0 {
			f.RMs[i].Capacity = DefaultCapacity
		}
	}
	for i := range f.Customers {
		if f.Customers[i].Verification == "" {
			f.Customers[i].Verification = conversation.VerificationBasic
		}
	}
}
