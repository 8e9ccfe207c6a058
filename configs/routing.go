package configs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/routing"
)

// CompileRouting compiles cfg.Routing against the teams and RMs of dir with
// routing.Compile and returns the Policies the gateway routes with. Every
// problem is returned at once as Problems, each with the config file and the
// line of the offending key when the value was written in the file (else
// "(default)"), and the field path, e.g. "routing.costs.voice" or
// "routing.policies[0].steps[2].target". A problem about the directory
// itself (a team calendar, an RM's skills or capacity, a cycle of deputies)
// names the directory file and "teams" or "rms". A directory that cannot be
// listed gives its error, wrapped.
func CompileRouting(cfg *Config, dir *directory.Static) (*routing.Policies, error) {
	ctx := context.Background()
	teams, err := dir.Teams(ctx)
	if err != nil {
		return nil, fmt.Errorf("configs: routing: list teams: %w", err)
	}
	rms, err := dir.RMs(ctx)
	if err != nil {
		return nil, fmt.Errorf("configs: routing: list rms: %w", err)
	}
	p, err := routing.Compile(cfg.Routing, teams, rms)
	if err != nil {
		if ps := routingProblems(cfg, err); len(ps) > 0 {
			return nil, ps.Err()
		}
		return nil, fmt.Errorf("configs: routing: %w", err)
	}
	return p, nil
}

// routingProblems turns the joined errors of routing.Compile into Problems
// located in cfg's file (or its directory file).
func routingProblems(cfg *Config, err error) Problems {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	policies := cfg.Routing.Policies
	if policies == nil {
		policies = routing.DefaultConfig().Policies
	}
	v := &collector{file: cfg.File, where: cfg.origins, fallback: "default"}
	dirFile := cfg.Directory.File
	if dirFile == "" {
		dirFile = embeddedDirectoryName
	}
	var out Problems
	for _, e := range list {
		where, msg := splitRoutingError(e)
		field, inDirectory := routingField(where, msg, policies)
		if inDirectory {
			out = append(out, Problem{File: dirFile, Field: field, Message: where + ": " + msg, Err: ErrInvalid})
			continue
		}
		v.invalid(field, "%s", msg)
	}
	return append(out, v.list...)
}

// splitRoutingError splits one routing.Compile problem, written
// "WHERE: MESSAGE: invalid routing config", into its place and message.
func splitRoutingError(e error) (where, msg string) {
	text := strings.TrimSuffix(e.Error(), ": "+routing.ErrInvalidConfig.Error())
	where, msg, ok := strings.Cut(text, ": ")
	if !ok {
		return "", text
	}
	return where, msg
}

var (
	// policyPlace matches `policy "ID"` with an optional ` step N` and key.
	policyPlace = regexp.MustCompile(`^policy "([^"]*)"(?: step (\d+))?(?: (\w+))?$`)
	// indexedPolicy matches "policies[I]", the place of a policy without a
	// usable id.
	indexedPolicy = regexp.MustCompile(`^policies\[(\d+)\]$`)
	// unknownMapKey finds the key routing names in "unknown channel "voise"".
	unknownMapKey = regexp.MustCompile(`^unknown (?:channel|key|segment) "([^"]*)"`)
)

// routingField maps a routing.Compile place to a config field path, and
// reports whether the place is in the directory rather than the config:
//
//	costs.voice                    routing.costs.voice
//	costs + unknown channel "x"    routing.costs.x
//	policies[2]                    routing.policies[2].id
//	policy "mass"                  routing.policies[I] (I: the policy's index)
//	policy "mass" when             routing.policies[I].when
//	policy "mass" step 3 target    routing.policies[I].steps[2].target
//	policy "mass" step 3           routing.policies[I].steps[2].rm (or the step)
//	team x, rm x                   teams, rms (in the directory)
func routingField(where, msg string, policies []routing.PolicyConfig) (string, bool) {
	switch {
	case where == "":
		return "routing", false
	case strings.HasPrefix(where, "team "):
		return "teams", true
	case strings.HasPrefix(where, "rm "):
		return "rms", true
	}
	if m := indexedPolicy.FindStringSubmatch(where); m != nil {
		return "routing." + where + ".id", false
	}
	m := policyPlace.FindStringSubmatch(where)
	if m == nil {
		field := "routing." + where
		if k := unknownMapKey.FindStringSubmatch(msg); k != nil && !strings.Contains(where, ".") {
			field += "." + k[1]
		}
		return field, false
	}
	id, stepNo, key := m[1], m[2], m[3]
	var idx []int
	for i, pc := range policies {
		if pc.ID == id {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return "routing.policies", false
	}
	i := idx[0]
	if strings.HasPrefix(msg, "defined twice") && len(idx) > 1 {
		i = idx[1]
	}
	field := fmt.Sprintf("routing.policies[%d]", i)
	switch {
	case stepNo != "":
		n, _ := strconv.Atoi(stepNo) // the pattern admits digits only
		field += fmt.Sprintf(".steps[%d]", n-1)
		switch {
		case key != "":
			field += "." + key
		case !strings.HasPrefix(msg, "target "):
			field += ".rm"
		}
	case key != "":
		field += "." + key
	case strings.HasPrefix(msg, "no steps"):
		field += ".steps"
	}
	return field, false
}

// checkRouting compiles the routing section against dir for Check and
// returns its problems; none when it compiles.
func checkRouting(cfg *Config, dir *directory.Static) Problems {
	_, err := CompileRouting(cfg, dir)
	var ps Problems
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ps):
		return slices.Clone(ps)
	}
	v := &collector{file: cfg.File, where: cfg.origins, fallback: "default"}
	v.invalid("routing", "%v", err)
	return v.list
}
