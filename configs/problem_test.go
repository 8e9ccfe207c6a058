package configs

import (
	"errors"
	"testing"
)

func TestProblemError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"file and line", Problem{File: "a.yaml", Line: 7, Field: "http.addr", Message: "bad"}, "a.yaml:7: http.addr: bad"},
		{"from environment", Problem{File: "a.yaml", Source: "env AIRBRANCH_HTTP_ADDR", Field: "http.addr", Message: "bad"}, "(env AIRBRANCH_HTTP_ADDR): http.addr: bad"},
		{"from defaults", Problem{Source: "default", Field: "log.level", Message: "bad"}, "(default): log.level: bad"},
		{"file without line", Problem{File: "d.yaml", Field: "rms", Message: "bad"}, "d.yaml: rms: bad"},
		{"no file no source", Problem{Field: "log.level", Message: "bad"}, "(default): log.level: bad"},
		{"syntax without field", Problem{File: "a.yaml", Line: 3, Message: "yaml syntax: oops"}, "a.yaml:3: yaml syntax: oops"},
		{"embedded with line", Problem{Line: 2, Field: "x", Message: "bad"}, "(embedded):2: x: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemsSortedOnePerLine(t *testing.T) {
	t.Parallel()
	ps := Problems{
		{File: "b.yaml", Line: 2, Field: "z", Message: "m", Err: ErrInvalid},
		{File: "a.yaml", Source: "env X", Field: "y", Message: "m", Err: ErrInvalid},
		{File: "a.yaml", Line: 9, Field: "x", Message: "m", Err: ErrUnknownKey},
		{File: "a.yaml", Line: 1, Field: "w", Message: "m", Err: ErrWrongType},
	}
	err := ps.Err()
	want := "a.yaml:1: w: m\na.yaml:9: x: m\n(env X): y: m\nb.yaml:2: z: m"
	if err.Error() != want {
		t.Fatalf("Error() =\n%s\nwant\n%s", err, want)
	}
	var got Problems
	if !errors.As(err, &got) || len(got) != 4 {
		t.Fatalf("errors.As gave %v", got)
	}
	for _, sentinel := range []error{ErrInvalid, ErrUnknownKey, ErrWrongType} {
		if !errors.Is(err, sentinel) {
			t.Errorf("errors.Is(err, %v) = false", sentinel)
		}
	}
	if errors.Is(err, ErrSyntax) {
		t.Error("errors.Is(err, ErrSyntax) = true for no syntax problem")
	}
	if ps[0].File != "b.yaml" {
		t.Error("Err sorted the receiver in place")
	}
	if (Problems{}).Err() != nil {
		t.Error("empty Problems.Err() != nil")
	}
}

func TestParentPathAndFind(t *testing.T) {
	t.Parallel()
	o := origins{"rms[3]": {line: 10}, "rms[3].skills": {line: 12}, "http.addr": {env: "AIRBRANCH_HTTP_ADDR"}}
	tests := []struct {
		path     string
		wantLine int
		wantEnv  string
		found    bool
	}{
		{"rms[3].skills.wealth", 12, "", true},
		{"rms[3].deputy", 10, "", true},
		{"rms[4].deputy", 0, "", false},
		{"http.addr", 0, "AIRBRANCH_HTTP_ADDR", true},
		{"http.max_body_bytes", 0, "", false},
	}
	for _, tt := range tests {
		got, ok := o.find(tt.path)
		if ok != tt.found || got.line != tt.wantLine || got.env != tt.wantEnv {
			t.Errorf("find(%q) = %+v, %v; want line %d env %q found %v", tt.path, got, ok, tt.wantLine, tt.wantEnv, tt.found)
		}
	}
}
