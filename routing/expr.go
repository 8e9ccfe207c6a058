package routing

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/airbranch/airbranch/channels/conversation"
)

// convEnv is what a policy's When expression sees of a conversation.
type convEnv struct {
	Segment      string         `expr:"segment"`
	Channel      string         `expr:"channel"`
	Language     string         `expr:"language"`
	Intent       string         `expr:"intent"`
	Verification string         `expr:"verification"`
	AUMBand      string         `expr:"aum_band"`
	Prospect     bool           `expr:"prospect"`
	Skills       map[string]int `expr:"skills"`
}

// rmAttrs is what a step's RM expression sees of an RM, under the name rm.
type rmAttrs struct {
	ID        string         `expr:"id"`
	Team      string         `expr:"team"`
	Segment   string         `expr:"segment"`
	Group     string         `expr:"group"`
	Languages []string       `expr:"languages"`
	Skills    map[string]int `expr:"skills"`
	Capacity  int            `expr:"capacity"`
}

// rmEnv is the environment of an RM expression.
type rmEnv struct {
	RM *rmAttrs `expr:"rm"`
}

// rmExpr is a compiled RM expression. Index numbers it among the
// expressions of one Policies, so a Snapshot can cache its results per RM.
type rmExpr struct {
	index   int
	source  string
	program *vm.Program
	// team narrows the expression to one team's RMs ("" for every RM).
	team conversation.TeamID
}

// eval runs the expression for one RM; a runtime error counts as no match.
func (e *rmExpr) eval(machine *vm.VM, env *rmEnv) bool {
	out, err := machine.Run(e.program, env)
	if err != nil {
		return false
	}
	b, _ := out.(bool)
	return b
}

// newConvEnv builds the When environment of c.
func newConvEnv(c *ConversationView) *convEnv {
	env := &convEnv{
		Segment:      string(c.Segment),
		Channel:      string(c.Channel),
		Language:     c.Language,
		Intent:       c.Intent,
		Verification: string(c.Verification),
		AUMBand:      c.AUMBand,
		Prospect:     c.Prospect,
	}
	if len(c.Skills) > 0 {
		env.Skills = make(map[string]int, len(c.Skills))
		for _, s := range c.Skills {
			env.Skills[s.Skill] = s.MinLevel
		}
	}
	return env
}

// exprFacts is what expressions are checked against: the skills, teams and
// enumerated values that exist.
type exprFacts struct {
	skills map[string]bool
	teams  map[conversation.TeamID]bool
}

// compileWhen compiles a policy's When expression; it must return bool and
// may only name known skills and valid segments, channels and verification
// levels.
func compileWhen(src string, facts exprFacts) (*vm.Program, []string) {
	prog, err := expr.Compile(src, expr.Env(convEnv{}), expr.AsBool())
	if err != nil {
		return nil, []string{fmt.Sprintf("when %q does not compile: %s (the expression must return bool over segment, channel, language, intent, verification, aum_band, prospect, skills)", src, oneLine(err))}
	}
	return prog, checkLiterals(src, facts, false)
}

// compileRMExpr compiles a step's RM expression; it must return bool and
// may only name known skills and teams.
func compileRMExpr(src string, facts exprFacts) (*vm.Program, []string) {
	prog, err := expr.Compile(src, expr.Env(rmEnv{}), expr.AsBool())
	if err != nil {
		return nil, []string{fmt.Sprintf("rm expression %q does not compile: %s (the expression must return bool over rm.id, rm.team, rm.segment, rm.group, rm.languages, rm.skills, rm.capacity)", src, oneLine(err))}
	}
	return prog, checkLiterals(src, facts, true)
}

// checkLiterals walks an expression and reports every skill name, team,
// segment, channel or verification literal that cannot match anything.
// rmSide selects rm.skills / rm.team / rm.segment paths (RM expressions)
// rather than skills / segment / channel / verification (When).
func checkLiterals(src string, facts exprFacts, rmSide bool) []string {
	// The unoptimised tree: the optimiser folds `x in ["a", "b"]` into a
	// constant set that no longer shows its literals.
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	root := tree.Node
	var problems []string
	skill := func(name string) {
		if !facts.skills[name] {
			problems = append(problems, fmt.Sprintf("unknown skill %q (known skills: %s)", name, sortedKeys(facts.skills)))
		}
	}
	// field names the attribute a node reads: "skills", "team", ... or "".
	field := func(n ast.Node) string {
		if rmSide {
			m, ok := n.(*ast.MemberNode)
			if !ok {
				return ""
			}
			id, ok := m.Node.(*ast.IdentifierNode)
			prop, ok2 := m.Property.(*ast.StringNode)
			if !ok || !ok2 || id.Value != "rm" {
				return ""
			}
			return prop.Value
		}
		if id, ok := n.(*ast.IdentifierNode); ok {
			return id.Value
		}
		return ""
	}
	value := func(attr, lit string) {
		var ok bool
		var allowed any
		switch {
		case attr == "team" && rmSide:
			ok, allowed = facts.teams[conversation.TeamID(lit)], sortedKeys(facts.teams)
		case attr == "segment":
			ok, allowed = conversation.Segment(lit).Valid(), conversation.Segments
		case attr == "channel" && !rmSide:
			ok, allowed = conversation.Channel(lit).Valid(), conversation.Channels
		case attr == "verification" && !rmSide:
			ok, allowed = conversation.Verification(lit).Valid(), conversation.Verifications
		default:
			return
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s %q never matches (allowed: %v)", attr, lit, allowed))
		}
	}
	ast.Walk(&root, visitor(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.MemberNode:
			if prop, ok := n.Property.(*ast.StringNode); ok && field(n.Node) == "skills" {
				skill(prop.Value)
			}
		case *ast.BinaryNode:
			switch n.Operator {
			case "==", "!=":
				if s, ok := n.Right.(*ast.StringNode); ok {
					value(field(n.Left), s.Value)
				}
				if s, ok := n.Left.(*ast.StringNode); ok {
					value(field(n.Right), s.Value)
				}
			case "in", "not in":
				if s, ok := n.Left.(*ast.StringNode); ok && field(n.Right) == "skills" {
					skill(s.Value)
				}
				if arr, ok := n.Right.(*ast.ArrayNode); ok {
					for _, el := range arr.Nodes {
						if s, ok := el.(*ast.StringNode); ok {
							value(field(n.Left), s.Value)
						}
					}
				}
			}
		}
	}))
	return problems
}

// visitor adapts a function to ast.Visitor.
type visitor func(ast.Node)

// Visit implements ast.Visitor.
func (v visitor) Visit(n *ast.Node) { v(*n) }

// oneLine flattens expr's multi-line error (message, source, caret).
func oneLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// sortedKeys lists a set's keys sorted, comma-separated.
func sortedKeys[K ~string](m map[K]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
