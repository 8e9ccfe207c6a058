package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// durationType and timeType are the two struct types decoded from scalars.
func durationType() reflect.Type { return reflect.TypeFor[time.Duration]() }
func timeType() reflect.Type     { return reflect.TypeFor[time.Time]() }

// decodeStrict decodes the single YAML document in data into out (a pointer
// to a struct), strictly: unknown keys, duplicate keys, values of the wrong
// type and syntax errors are returned as Problems, each with its line in
// file. Fields the document does not write keep their values in out, so out
// may hold defaults. A date written quoted ("2027-06-30") is accepted for a
// time.Time field. It returns the line of every field path written.
//
// The document is first checked node by node against out's type (which
// gives every problem with its field path and line), then decoded by
// go.yaml.in/yaml/v3 with KnownFields(true). When the check finds problems
// the document is still decoded leniently (unknown keys and badly typed
// values skipped) so that the caller can validate the rest and report
// everything at once; decoded is false only when the YAML did not parse and
// out is untouched.
func decodeStrict(file string, data []byte, out any) (lines origins, problems Problems, decoded bool) {
	lines = origins{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return lines, nil, true // an empty file writes nothing
		}
		return lines, Problems{syntaxProblem(file, err)}, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p := Problem{File: file, Line: extra.Line, Message: "more than one YAML document (allowed: one; remove the extra \"---\")", Err: ErrSyntax}
		if err != nil {
			p = syntaxProblem(file, err)
		}
		return lines, Problems{p}, false
	}
	w := &walker{file: file, lines: lines}
	w.walk(&doc, reflect.TypeOf(out).Elem(), "")
	if len(w.problems) > 0 {
		_ = doc.Decode(out) // lenient: the problems are already reported
		return lines, w.problems, true
	}
	// Decode the checked (and date-normalised) tree with the strict decoder.
	text, err := yaml.Marshal(&doc)
	if err != nil {
		return lines, Problems{{File: file, Message: "re-encoding the document: " + err.Error(), Err: ErrSyntax}}, false
	}
	strict := yaml.NewDecoder(bytes.NewReader(text))
	strict.KnownFields(true)
	if err := strict.Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return lines, Problems{{File: file, Message: err.Error(), Err: ErrWrongType}}, true
	}
	return lines, nil, true
}

// mergeProblems returns the structural problems (unknown keys, wrong
// types) followed by the value problems that are not about a field already
// reported as structurally wrong, or inside one.
func mergeProblems(structural, values Problems) Problems {
	out := slices.Clone(structural)
	for _, p := range values {
		if !slices.ContainsFunc(structural, func(s Problem) bool { return s.Field != "" && within(p.Field, s.Field) }) {
			out = append(out, p)
		}
	}
	return out
}

// within reports whether field is path or inside it.
func within(field, path string) bool {
	return field == path || strings.HasPrefix(field, path+".") || strings.HasPrefix(field, path+"[")
}

// syntaxProblem turns a go.yaml.in/yaml/v3 parse error into a Problem with
// its line when the message has one.
func syntaxProblem(file string, err error) Problem {
	p := Problem{File: file, Message: strings.TrimPrefix(err.Error(), "yaml: "), Err: ErrSyntax}
	if rest, ok := strings.CutPrefix(p.Message, "line "); ok {
		if num, msg, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				p.Line, p.Message = line, msg
			}
		}
	}
	p.Message = "yaml syntax: " + p.Message
	return p
}

// walker checks a YAML node tree against a Go type, recording the line of
// every field path and the problems it finds.
type walker struct {
	file     string
	lines    origins
	problems Problems
}

func (w *walker) problem(n *yaml.Node, path string, sentinel error, format string, args ...any) {
	w.problems = append(w.problems, Problem{File: w.file, Line: n.Line, Field: path, Message: fmt.Sprintf(format, args...), Err: sentinel})
}

// wrongType reports n and replaces it by a null, so that the lenient
// decode after a failed check leaves the field as it was instead of
// dropping the surrounding value.
func (w *walker) wrongType(n *yaml.Node, t reflect.Type, path string) {
	w.problem(n, path, ErrWrongType, "wrong type: got %s (allowed: %s)", describeNode(n), describeType(t))
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// walk checks n against t at path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			w.walk(n.Content[0], t, path)
		}
		return
	case yaml.AliasNode:
		if n.Alias != nil {
			w.walk(n.Alias, t, path)
		}
		return
	}
	if isNull(n) {
		return // null leaves the value as it was
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType():
		w.walkTime(n, path)
		return
	case t == durationType():
		w.walkLeaf(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := yamlFields(t)
		w.walkMapping(n, t, path, func(key *yaml.Node) (reflect.Type, bool) {
			ft, ok := fields[key.Value]
			if !ok {
				msg := fmt.Sprintf("unknown key %q (allowed: %s)", key.Value, strings.Join(fieldNames(t), ", "))
				if s := closest(key.Value, fieldNames(t)); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				w.problem(key, joinPath(path, key.Value), ErrUnknownKey, "%s", msg)
			}
			return ft, ok
		})
	case reflect.Map:
		w.walkMapping(n, t, path, func(key *yaml.Node) (reflect.Type, bool) {
			if err := key.Decode(reflect.New(t.Key()).Interface()); err != nil || key.Kind != yaml.ScalarNode {
				w.wrongType(key, t.Key(), joinPath(path, key.Value))
				return nil, false
			}
			return t.Elem(), true
		})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.wrongType(n, t, path)
			return
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			w.lines[p] = origin{line: item.Line}
			w.walk(item, t.Elem(), p)
		}
	default:
		w.walkLeaf(n, t, path)
	}
}

// walkMapping checks the keys of a mapping node; elem returns the type of a
// key's value, or false for a key that is not allowed (already reported).
// Merge keys ("<<: *anchor") are followed; keys written explicitly win.
func (w *walker) walkMapping(n *yaml.Node, t reflect.Type, path string, elem func(key *yaml.Node) (reflect.Type, bool)) {
	if n.Kind != yaml.MappingNode {
		w.wrongType(n, t, path)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if key := n.Content[i]; key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
			w.walkMerge(n.Content[i+1], t, path)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.ScalarNode && key.ShortTag() == "!!merge" {
			continue
		}
		p := joinPath(path, key.Value)
		if first, dup := seen[key.Value]; dup {
			w.problem(key, p, ErrSyntax, "key %q written twice (first at line %d; allowed: once)", key.Value, first)
			continue
		}
		seen[key.Value] = key.Line
		vt, ok := elem(key)
		if !ok {
			continue
		}
		w.lines[p] = origin{line: key.Line}
		w.walk(value, vt, p)
	}
}

// walkMerge checks the value of a merge key: a mapping or a list of them.
func (w *walker) walkMerge(v *yaml.Node, t reflect.Type, path string) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			w.walkMerge(item, t, path)
		}
		return
	}
	w.walk(v, t, path)
}

// walkLeaf checks a scalar against a scalar type by decoding it alone.
func (w *walker) walkLeaf(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.ScalarNode {
		w.wrongType(n, t, path)
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		w.wrongType(n, t, path)
	}
}

// walkTime accepts a YAML timestamp, or a string holding a date
// ("2027-06-30", which it retags as a timestamp so the decoder reads it) or
// an RFC 3339 time.
func (w *walker) walkTime(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		w.wrongType(n, timeType(), path)
		return
	}
	if n.ShortTag() == "!!str" {
		if _, err := time.Parse(time.DateOnly, n.Value); err == nil {
			n.Tag, n.Style = "!!timestamp", 0
			return
		}
	}
	var t time.Time
	if err := n.Decode(&t); err != nil {
		w.wrongType(n, timeType(), path)
	}
}

// yamlFields maps the YAML keys of struct type t to their field types,
// following go.yaml.in/yaml/v3's rules: the tag name, else the lowercased
// field name; "-" and unexported fields are skipped; ",inline" structs are
// flattened.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || len(f.Index) > 1 {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// fieldNames lists the YAML keys of struct type t in declaration order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || len(f.Index) > 1 {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
			names = append(names, fieldNames(f.Type)...)
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
	}
	return names
}
