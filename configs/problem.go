package configs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong in a config or directory file. Its Error form
// is "FILE:LINE: field.path: what is wrong (allowed: ...)"; a value that was
// not written in the file names its origin instead of a line, e.g.
// "(default): http.addr: ..." or "(env AIRBRANCH_HTTP_ADDR): http.addr: ...".
type Problem struct {
	// File is the config or directory file the value belongs to; "" for the
	// embedded defaults.
	File string
	// Line is the 1-based line where the key (or list item) was written; 0
	// when the value did not come from File.
	Line int
	// Source names where a value without a line came from: "default" or
	// "env NAME". Empty when Line is set.
	Source string
	// Field is the dotted path of the value, e.g. "http.max_body_bytes",
	// "redis.addrs[1]", "rms[3].skills.wealth". Empty for a syntax error.
	Field string
	// Message says what is wrong and what is allowed.
	Message string
	// Err is the sentinel the problem wraps: ErrSyntax, ErrUnknownKey,
	// ErrWrongType or ErrInvalid.
	Err error
}

// Where returns the location part of the problem: "FILE:LINE", "(SOURCE)",
// FILE, or "(default)".
func (p Problem) Where() string {
	switch {
	case p.Line > 0:
		file := p.File
		if file == "" {
			file = "(embedded)"
		}
		return fmt.Sprintf("%s:%d", file, p.Line)
	case p.Source != "":
		return "(" + p.Source + ")"
	case p.File != "":
		return p.File
	default:
		return "(default)"
	}
}

// Error implements error: "FILE:LINE: field.path: message".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Where())
	if p.Field != "" {
		b.WriteString(": ")
		b.WriteString(p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Unwrap returns the sentinel the problem wraps.
func (p Problem) Unwrap() error { return p.Err }

// Problems is every problem found in one check, ordered by file and line
// (problems without a line last). It is the error Load, Validate,
// LoadDirectory and Check return for a bad configuration; get the list with
// errors.As.
type Problems []Problem

// Error implements error: one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns every problem, so errors.Is(err, ErrUnknownKey) reports
// whether any problem is an unknown key.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// Err returns ps sorted as an error, or nil when there is no problem.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Problem) int {
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return out
}

// origin says where one value came from: a line of the file or an
// environment variable.
type origin struct {
	line int
	env  string
}

// origins maps field paths ("http.addr", "rms[3].skills.wealth") to where
// they were written.
type origins map[string]origin

// find returns the origin of path, or of its nearest written parent.
func (o origins) find(path string) (origin, bool) {
	for p := path; p != ""; p = parentPath(p) {
		if v, ok := o[p]; ok {
			return v, true
		}
	}
	return origin{}, false
}

// parentPath drops the last element of a field path: "a.b[2]" -> "a.b" ->
// "a" -> "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// collector gathers the problems of one file.
type collector struct {
	file  string
	where origins
	// fallback is the Source of a value with no origin ("default"), or ""
	// to print just the file.
	fallback string
	list     Problems
}

// add records a problem at field, located through the collector's origins.
func (c *collector) add(field string, sentinel error, format string, args ...any) {
	p := Problem{File: c.file, Field: field, Message: fmt.Sprintf(format, args...), Err: sentinel}
	if o, ok := c.where.find(field); ok {
		if o.env != "" {
			p.Source = "env " + o.env
		} else {
			p.Line = o.line
		}
	} else {
		p.Source = c.fallback
	}
	c.list = append(c.list, p)
}

// invalid records an ErrInvalid problem at field.
func (c *collector) invalid(field, format string, args ...any) {
	c.add(field, ErrInvalid, format, args...)
}

// lineNote returns " (line N)" for a field written in the file, or "".
func (c *collector) lineNote(field string) string {
	if o, ok := c.where.find(field); ok && o.line > 0 {
		return fmt.Sprintf(" (line %d)", o.line)
	}
	return ""
}
