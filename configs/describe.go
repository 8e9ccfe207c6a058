package configs

import (
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// closest returns the name within edit distance 2 of s, if exactly one
// name is nearest.
func closest(s string, names []string) string {
	best, bestD, ties := "", 3, 0
	for _, n := range names {
		switch d := editDistance(s, n); {
		case d < bestD:
			best, bestD, ties = n, d, 0
		case d == bestD:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describeNode names what a node holds, for wrong-type messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.Quote(v)
}

// describeType names what a Go type accepts in YAML.
func describeType(t reflect.Type) string {
	switch t {
	case durationType():
		return `a duration such as "20s" or "1m30s"; units ms, s, m, h`
	case timeType():
		return "a date such as 2027-06-30 or an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(fieldNames(t), ", ")
	case reflect.Map:
		return "a mapping of " + describeType(t.Key()) + " to " + describeType(t.Elem())
	case reflect.Slice, reflect.Array:
		return "a list of " + describeType(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
