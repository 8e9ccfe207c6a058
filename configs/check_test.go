package configs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCheckDefaults(t *testing.T) {
	t.Parallel()
	cfg, dir, err := Check("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg == nil || dir == nil {
		t.Fatal("Check returned no config or directory")
	}
	if _, err := dir.Customer(context.Background(), "cus-pb-0001"); err != nil {
		t.Errorf("demo directory: %v", err)
	}
}

func TestCheckReportsConfigAndDirectoryProblems(t *testing.T) {
	t.Parallel()
	folder := t.TempDir()
	dirDocText := dirDoc("", baseRMs+"  - {id: rm-c, name: C, team: alpha, languages: [en], capacity: 500} "+marker+"\n", "")
	if err := os.WriteFile(filepath.Join(folder, "directory.yaml"), []byte(dirDocText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(folder, "airbranch.yaml")
	if err := os.WriteFile(cfgPath, []byte("log:\n  format: xml\ndirectory:\n  file: directory.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, dir, err := Check(cfgPath, env(map[string]string{EnvHTTPAddr: "nowhere"}))
	if cfg != nil || dir != nil {
		t.Error("Check returned a config or directory along with problems")
	}
	ps := problemsOf(t, err)
	want := []string{
		cfgPath + ":2: log.format:",
		"(env AIRBRANCH_HTTP_ADDR): http.addr:",
		filepath.Join(folder, "directory.yaml") + ":" + strconv.Itoa(markedLine(dirDocText)) + ": rms[2].capacity:",
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("no problem starting %q in:\n%v", w, err)
		}
	}
}

func TestCheckMissingDirectoryFile(t *testing.T) {
	t.Parallel()
	cfgPath := writeFile(t, "airbranch.yaml", "directory:\n  file: absent.yaml\n")
	_, _, err := Check(cfgPath, nil)
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Field != "directory.file" || ps[0].Line != 2 {
		t.Fatalf("got %v, want one problem at directory.file line 2", err)
	}
}

func TestCheckUnreadableAndBrokenConfig(t *testing.T) {
	t.Parallel()
	_, _, err := Check(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing config: err = %v, want fs.ErrNotExist", err)
	}
	_, _, err = Check(writeFile(t, "airbranch.yaml", "log: [\n"), nil)
	if ps := problemsOf(t, err); len(ps) != 1 || !errors.Is(ps[0], ErrSyntax) {
		t.Errorf("broken config: %v, want one syntax problem", err)
	}
}
