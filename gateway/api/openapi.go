package api

import (
	_ "embed"
	"io"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.0 description of this API.
//
//go:embed openapi.yaml
var openAPIDoc string

// openAPI serves GET /api/v1/openapi.yaml as application/yaml (RFC 9512).
func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.WriteString(w, openAPIDoc)
}
