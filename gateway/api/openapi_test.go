package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/airbranch/airbranch/gateway/auth"
)

// TestOpenAPIMatchesRoutes keeps openapi.yaml true: every route New
// registers is described, every described operation is registered, and
// every $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: []byte("openapi-test-secret-of-32-bytes-or-more")})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(Deps{Verifier: v})

	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal([]byte(openAPIDoc), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi: %q, want 3.0.x", doc.OpenAPI)
	}
	var described []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
	slices.Sort(described)
	registered := slices.Clone(srv.patterns)
	slices.Sort(registered)
	if !slices.Equal(described, registered) {
		t.Fatalf("openapi.yaml describes\n  %v\nNew registers\n  %v", described, registered)
	}

	var whole any
	if err := yaml.Unmarshal([]byte(openAPIDoc), &whole); err != nil {
		t.Fatal(err)
	}
	walkRefs(t, whole, whole)
}

// walkRefs checks that every "$ref" in node points at an existing
// "#/components/..." entry of root.
func walkRefs(t *testing.T, root, node any) {
	t.Helper()
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if k == "$ref" {
				ref, _ := v.(string)
				if !resolves(root, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
				continue
			}
			walkRefs(t, root, v)
		}
	case []any:
		for _, v := range n {
			walkRefs(t, root, v)
		}
	}
}

func resolves(root any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := root
	for part := range strings.SplitSeq(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestOpenAPIServedWithoutToken(t *testing.T) {
	t.Parallel()
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: []byte("openapi-test-secret-of-32-bytes-or-more")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Deps{Verifier: v}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/api/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/yaml" || string(body) != openAPIDoc {
		t.Fatalf("status %d, type %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}
