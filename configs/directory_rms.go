package configs

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Skill proficiency bounds.
const (
	MinProficiency = 1
	MaxProficiency = 5
)

// checkRMs checks every RM against the team index and returns the index of
// each RM id.
func checkRMs(rms []conversation.RM, teams map[string]int, v *collector) map[string]int {
	seen := map[string]int{}
	for i, r := range rms {
		p := fmt.Sprintf("rms[%d]", i)
		checkID(v, p, "rm", string(r.ID), i, seen)
		if strings.TrimSpace(r.Name) == "" {
			v.invalid(p+".name", "rm %s has no name (allowed: a display name)", r.ID)
		}
		if _, ok := teams[string(r.TeamID)]; !ok {
			v.invalid(p+".team", "rm %s is in unknown team %q (allowed: %s)", r.ID, r.TeamID, knownList(teams))
		}
		for _, skill := range slices.Sorted(maps.Keys(r.Skills)) {
			f := p + ".skills." + skill
			if !validName(skill) {
				v.invalid(f, "rm %s skill name %q is not allowed (allowed: lower_snake_case such as wealth, mortgage, fx, cards, sme_lending, investment)", r.ID, skill)
			}
			if lvl := r.Skills[skill]; lvl < MinProficiency || lvl > MaxProficiency {
				v.invalid(f, "rm %s skill %s has proficiency %d (allowed: %d to %d)", r.ID, skill, lvl, MinProficiency, MaxProficiency)
			}
		}
		checkLanguages(v, p, r)
		for k, l := range r.Licences {
			if !validName(l.Name) {
				v.invalid(fmt.Sprintf("%s.licences[%d].name", p, k), "rm %s licence name %q is not allowed (allowed: lower_snake_case such as investment_advice)", r.ID, l.Name)
			}
		}
		if r.Capacity < 0 || r.Capacity > DefaultCapacity {
			v.invalid(p+".capacity", "rm %s has capacity %d (allowed: 1 to %d cost units; 0 or absent means %d)", r.ID, r.Capacity, DefaultCapacity, DefaultCapacity)
		}
		checkGroup(v, p+".group", "rm "+string(r.ID), r.Group)
	}
	checkDeputies(rms, seen, v)
	return seen
}

// checkLanguages checks that an RM speaks at least one allowed language,
// each once.
func checkLanguages(v *collector, p string, r conversation.RM) {
	allowed := strings.Join(Languages(), ", ")
	if len(r.Languages) == 0 {
		v.invalid(p+".languages", "rm %s speaks no language (allowed: a list of %s)", r.ID, allowed)
	}
	seen := map[string]bool{}
	for k, lang := range r.Languages {
		f := fmt.Sprintf("%s.languages[%d]", p, k)
		switch {
		case !slices.Contains(Languages(), lang):
			v.invalid(f, "rm %s language %q is not known (allowed: %s)", r.ID, lang, allowed)
		case seen[lang]:
			v.invalid(f, "rm %s language %q is listed twice (allowed: each language once)", r.ID, lang)
		}
		seen[lang] = true
	}
}

// checkDeputies checks that every deputy is a known RM other than the RM
// itself and that no chain of deputies comes back to where it started.
// Each cycle is reported once, at the deputy of its first RM in the file.
func checkDeputies(rms []conversation.RM, index map[string]int, v *collector) {
	next := map[string]string{}
	for i, r := range rms {
		if r.Deputy == "" || index[string(r.ID)] != i {
			continue
		}
		f := fmt.Sprintf("rms[%d].deputy", i)
		switch _, known := index[string(r.Deputy)]; {
		case r.Deputy == r.ID:
			v.invalid(f, "rm %s is its own deputy (allowed: another rm, or empty)", r.ID)
		case !known:
			v.invalid(f, "rm %s has unknown deputy %q (allowed: %s)", r.ID, r.Deputy, knownList(index))
		default:
			next[string(r.ID)] = string(r.Deputy)
		}
	}
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	for _, r := range rms {
		start := string(r.ID)
		if state[start] != unvisited {
			continue
		}
		var path []string
		id := start
		for id != "" && state[id] == unvisited {
			state[id] = onPath
			path = append(path, id)
			id = next[id]
		}
		if id != "" && state[id] == onPath {
			cycle := path[slices.Index(path, id):]
			first := slices.MinFunc(cycle, func(a, b string) int { return index[a] - index[b] })
			at := slices.Index(cycle, first)
			ordered := append(slices.Clone(cycle[at:]), cycle[:at]...)
			ordered = append(ordered, first)
			v.invalid(fmt.Sprintf("rms[%d].deputy", index[first]), "deputies form a cycle %s (allowed: a deputy chain that ends at an rm without a deputy)", strings.Join(ordered, " → "))
		}
		for _, p := range path {
			state[p] = done
		}
	}
}
