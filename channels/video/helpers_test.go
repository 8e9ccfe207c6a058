package video_test

import (
	"net/http/httptest"
	"strings"
)

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
