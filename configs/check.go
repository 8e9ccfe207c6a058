package configs

import (
	"errors"
	"slices"

	"github.com/airbranch/airbranch/channels/directory"
)

// Check loads the configuration at path as Load does (path "" means the
// embedded defaults; getenv as for Load) and the directory it names as
// LoadDirectory does, compiles the routing section against the directory
// as CompileRouting does, checks that every sip.rm_phones rm is one of the
// directory's RMs, and returns every problem of the three at once as
// Problems: what `airbranch check-config` prints, one per line. The config
// and directory are returned only when there is no problem. A config file
// that cannot be read gives an error wrapping the os error.
func Check(path string, getenv func(string) string) (*Config, *directory.Static, error) {
	cfg, problems, err := load(path, getenv)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil {
		return nil, nil, problems.Err()
	}
	var dir *directory.Static
	if !slices.ContainsFunc(problems, func(p Problem) bool { return within(p.Field, "directory") }) {
		d, err := LoadDirectory(cfg)
		var dirProblems Problems
		switch {
		case errors.As(err, &dirProblems):
			problems = append(problems, dirProblems...)
		case err != nil:
			v := &collector{file: cfg.File, where: cfg.origins, fallback: "default"}
			v.invalid("directory.file", "%v", err)
			problems = append(problems, v.list...)
		}
		dir = d
		if d != nil {
			problems = mergeProblems(problems, checkRouting(cfg, d))
			problems = append(problems, checkSIPPhones(cfg, d)...)
		}
	}
	if err := problems.Err(); err != nil {
		return nil, nil, err
	}
	return cfg, dir, nil
}
