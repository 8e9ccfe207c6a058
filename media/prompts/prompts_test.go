package prompts

import (
	"io/fs"
	"testing"
	"time"
)

func TestEveryPromptInEveryLanguage(t *testing.T) {
	t.Parallel()
	names := []Name{Welcome, LanguageChosen, Callback, Position1, Position2, Position3, PositionMany, WaitShort, WaitLong, Recording, Transfer}
	for _, lang := range Languages {
		for _, n := range names {
			if b, err := audio.ReadFile("audio/" + string(lang) + "_" + string(n) + ".ulaw"); err != nil || len(b) < 1600 {
				t.Errorf("%s %s: %d bytes, %v (want at least 0.2 s)", lang, n, len(b), err)
			}
		}
	}
	total := 0
	_ = fs.WalkDir(audio, ".", func(_ string, d fs.DirEntry, _ error) error {
		if info, err := d.Info(); err == nil && !d.IsDir() {
			total += int(info.Size())
		}
		return nil
	})
	if total > 512<<10 {
		t.Errorf("embedded prompts are %d bytes, keep them under 512 KiB", total)
	}
	if got := Get("fr", Welcome); len(got) == 0 {
		t.Error("unknown language does not fall back to English")
	}
}

func TestAnnouncement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		position int
		wait     time.Duration
		want     Name
	}{
		{"next", 1, 0, Position1},
		{"third", 3, time.Hour, Position3},
		{"many", 12, 0, PositionMany},
		{"short wait", 0, 90 * time.Second, WaitShort},
		{"long wait", 0, 5 * time.Minute, WaitLong},
		{"nothing known", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Announcement(Chinese, tt.position, tt.wait)
			if tt.want == "" {
				if got != nil {
					t.Errorf("got %d bytes, want nil", len(got))
				}
				return
			}
			if want := Get(Chinese, tt.want); &got[0] != &want[0] && string(got) != string(want) {
				t.Errorf("got another prompt than %s", tt.want)
			}
		})
	}
	if len(HoldMusic()) != 12*5333 {
		t.Errorf("hold music %d samples", len(HoldMusic()))
	}
}
