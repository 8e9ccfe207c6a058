package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// allowedTargets is the error hint for a step target.
const allowedTargets = "own_rm, deputy, last_rm, team:<id>, or an rm expression optionally with target team:<id>"

// policy compiles the i-th policy (0-based), recording its problems. It
// returns nil when the policy has no usable id.
func (c *compiler) policy(i int, pc PolicyConfig, cfg Config, exprs *exprSet) *Policy {
	where := fmt.Sprintf("policy %q", pc.ID)
	if !policyIDPattern.MatchString(pc.ID) {
		c.bad(fmt.Sprintf("policies[%d]", i), "id %q (allowed: lowercase letters, digits, - and _, starting with a letter or digit)", pc.ID)
		return nil
	}
	pc.Licences = slices.Clone(pc.Licences)
	pc.Steps = slices.Clone(pc.Steps)
	if pc.Mode == "" {
		pc.Mode = ModeCumulative
	}
	ownSelection := pc.Selection != ""
	if !ownSelection {
		pc.Selection = cfg.Selection
	}
	pol := &Policy{ID: pc.ID, mode: pc.Mode, selection: pc.Selection, licences: pc.Licences}
	if strings.TrimSpace(pc.When) == "" {
		c.bad(where+" when", "empty (an expression returning bool is required; use \"true\" for a catch-all)")
	} else {
		prog, problems := compileWhen(pc.When, c.facts)
		for _, pr := range problems {
			c.bad(where+" when", "%s", pr)
		}
		pol.when = prog
	}
	if pc.Mode != ModeCumulative && pc.Mode != ModeReplace {
		c.bad(where+" mode", "%q (allowed: %s, %s)", pc.Mode, ModeCumulative, ModeReplace)
	}
	if ownSelection && !pc.Selection.valid() {
		c.bad(where+" selection", "%q (allowed: %v)", pc.Selection, strategies)
	}
	c.knownLicences(where+" licences", pc.Licences)
	if len(pc.Steps) == 0 {
		c.bad(where, "no steps (at least one step is required)")
	}
	for j, sc := range pc.Steps {
		st, ok := c.step(fmt.Sprintf("%s step %d", where, j+1), sc, j == len(pc.Steps)-1, exprs)
		if !ok {
			continue
		}
		pol.steps = append(pol.steps, st)
		switch {
		case st.kind == targetTeam:
			pol.teams = append(pol.teams, st.team)
		case st.kind == targetExpr:
			pol.anyTeam = true
		}
	}
	c.fallback(where, pc, pol)
	pol.Config = pc
	pol.Version = versionHash(pc)
	return pol
}

// step compiles one step; last says whether it is the policy's last.
func (c *compiler) step(where string, sc StepConfig, last bool, exprs *exprSet) (step, bool) {
	st := step{expiry: sc.Expiry}
	ok := true
	switch {
	case sc.Expiry == 0 && !last:
		c.bad(where+" expiry", "zero (only the last step may have no expiry; later steps would never start)")
		ok = false
	case sc.Expiry != 0:
		if sc.Expiry < time.Second || sc.Expiry > 24*time.Hour {
			c.bad(where+" expiry", "%v (allowed: 1s..24h, or 0 on the last step for no expiry)", sc.Expiry)
			ok = false
		}
	}
	target := strings.TrimSpace(sc.Target)
	switch {
	case target == TargetOwnRM, target == TargetDeputy, target == TargetLastRM:
		st.kind = map[string]targetKind{TargetOwnRM: targetOwnRM, TargetDeputy: targetDeputy, TargetLastRM: targetLastRM}[target]
		st.label = st.kind.role()
		if sc.RM != "" {
			c.bad(where, "target %s with an rm expression (allowed: an rm expression only with target team:<id> or alone)", target)
			ok = false
		}
	case strings.HasPrefix(target, TargetTeamPrefix):
		st.kind = targetTeam
		st.team = conversation.TeamID(strings.TrimPrefix(target, TargetTeamPrefix))
		st.label = "team " + string(st.team)
		if !c.facts.teams[st.team] {
			c.knownTeam(where+" target", st.team)
			ok = false
		}
	case target == "" && sc.RM != "":
		st.kind = targetExpr
		st.label = "any RM"
	default:
		c.bad(where+" target", "%q (allowed: %s)", sc.Target, allowedTargets)
		ok = false
	}
	if sc.RM != "" {
		prog, problems := compileRMExpr(sc.RM, c.facts)
		for _, pr := range problems {
			c.bad(where, "%s", pr)
		}
		if prog == nil || len(problems) > 0 {
			ok = false
		} else {
			st.expr = &rmExpr{index: len(exprs.list), source: sc.RM, program: prog, team: st.team}
			exprs.list = append(exprs.list, st.expr)
			st.label += " where " + sc.RM
		}
	}
	return st, ok
}

// fallback checks and compiles the policy's fallback and after-hours action.
func (c *compiler) fallback(where string, pc PolicyConfig, pol *Policy) {
	lastExpires := len(pc.Steps) > 0 && pc.Steps[len(pc.Steps)-1].Expiry > 0
	switch fb := strings.TrimSpace(pc.Fallback); {
	case fb == "" && lastExpires:
		c.bad(where+" fallback", "missing although the last step expires (allowed: overflow:team:<id>, %v)", endActions)
	case fb == "":
	case !lastExpires && len(pc.Steps) > 0:
		c.bad(where+" fallback", "%q is never reached: the last step has no expiry (give it an expiry or remove the fallback)", fb)
	case strings.HasPrefix(fb, string(ActionOverflow)+":"+TargetTeamPrefix):
		pol.fallback = ActionOverflow
		pol.overflow = conversation.TeamID(strings.TrimPrefix(fb, string(ActionOverflow)+":"+TargetTeamPrefix))
		c.knownTeam(where+" fallback", pol.overflow)
		pol.teams = append(pol.teams, pol.overflow)
	default:
		a, ok := parseAction(fb)
		if !ok {
			c.bad(where+" fallback", "%q (allowed: overflow:team:<id>, %v)", fb, endActions)
		}
		pol.fallback = a
	}
	if pc.AfterHours != "" {
		a, ok := parseAction(pc.AfterHours)
		if !ok {
			c.bad(where+" after_hours", "%q (allowed: %v)", pc.AfterHours, endActions)
		}
		pol.afterHours = a
	}
}

// versionHash is the hex SHA-256 of the policy's canonical JSON form
// (encoding/json writes struct fields in declaration order and map keys
// sorted, so equal policies hash equal).
func versionHash(pc PolicyConfig) string {
	// PolicyConfig holds only strings, durations and slices of them:
	// json.Marshal cannot fail on it.
	b, _ := json.Marshal(pc)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
