package sms

import "testing"

func TestDetectKeyword(t *testing.T) {
	tests := []struct {
		text string
		want Keyword
	}{
		{"STOP", KeywordOptOut},
		{"stop", KeywordOptOut},
		{"  Stop \n", KeywordOptOut},
		{"\tUNSUBSCRIBE", KeywordOptOut},
		{"cancel", KeywordOptOut},
		{"End", KeywordOptOut},
		{"quit", KeywordOptOut},
		{"TD", KeywordOptOut},
		{"td", KeywordOptOut},
		{"退订", KeywordOptOut},
		{"\u3000退订\u3000", KeywordOptOut},
		{"ＳＴＯＰ", KeywordOptOut},
		{"ｔｄ", KeywordOptOut},
		{"START", KeywordOptIn},
		{" start ", KeywordOptIn},
		{"", KeywordNone},
		{"   ", KeywordNone},
		{"please stop", KeywordNone},
		{"stop it", KeywordNone},
		{"STOPP", KeywordNone},
		{"S TOP", KeywordNone},
		{"STOP.", KeywordNone},
		{"我要退订", KeywordNone},
		{"starts", KeywordNone},
		{"balance", KeywordNone},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := DetectKeyword(tt.text); got != tt.want {
				t.Fatalf("DetectKeyword(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestKeywordEvent(t *testing.T) {
	for k, want := range map[Keyword]string{KeywordNone: "", KeywordOptOut: "opt_out", KeywordOptIn: "opt_in"} {
		if got := k.Event(); got != want {
			t.Errorf("%d.Event() = %q, want %q", k, got, want)
		}
	}
}
