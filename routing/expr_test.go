package routing

import (
	"testing"

	"github.com/expr-lang/expr/vm"
)

func TestRMExpressionOnAnEmptyRM(t *testing.T) {
	t.Parallel()
	prog, problems := compileRMExpr(`"yue" in rm.languages || rm.skills.wealth >= 1 || rm.capacity > 100`, exprFacts{skills: map[string]bool{"wealth": true}})
	if prog == nil || len(problems) > 0 {
		t.Fatalf("compile: %v", problems)
	}
	var machine vm.VM
	x := &rmExpr{program: prog}
	if x.eval(&machine, &rmEnv{RM: &rmAttrs{ID: "rm-empty"}}) {
		t.Error("an RM with no languages and no skills matched")
	}
	if !x.eval(&machine, &rmEnv{RM: &rmAttrs{Skills: map[string]int{"wealth": 1}}}) {
		t.Error("an RM with wealth 1 did not match")
	}
}

func TestWhenOnAConversationWithoutSkills(t *testing.T) {
	t.Parallel()
	prog, problems := compileWhen(`skills.wealth >= 3 || segment in ["private", "affluent"]`, exprFacts{skills: map[string]bool{"wealth": true}})
	if prog == nil || len(problems) > 0 {
		t.Fatalf("compile: %v", problems)
	}
	var machine vm.VM
	for _, tt := range []struct {
		conv ConversationView
		want bool
	}{
		{ConversationView{Segment: "mass"}, false},
		{ConversationView{Segment: "affluent"}, true},
	} {
		out, err := machine.Run(prog, newConvEnv(&tt.conv))
		if err != nil || out != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.conv.Segment, out, err, tt.want)
		}
	}
}
