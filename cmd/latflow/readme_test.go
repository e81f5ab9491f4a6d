package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// readme returns the text of the README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMEDatasetKeys: every schema metadata key and every column that
// hmc and sample write is named in the README, the keys of the settings
// by their flag names (the README had "steps, thermalization, save_every"
// for md-steps, therm, save-every, and no delta_h; issue 19, D.25).
func TestREADMEDatasetKeys(t *testing.T) {
	text := readme(t)
	dir := t.TempDir()
	for i, args := range [][]string{
		{"hmc", "-L", "8", "--n", "20", "--therm", "5", "--save-every", "10"},
		{"sample", "-L", "8", "--n", "20", "--save-every", "10", "--hmc-every", "5"},
		{"sample", "-L", "8", "--beta", "4", "--n", "20"},
		{"sample", "-L", "8", "--n", "20", "--proposal", "plaquettes"},
		{"sample", "-L", "8", "--n", "20", "--proposal", "plaquettes", "--exact"},
		{"sample", "--theory", "phi4", "-L", "8", "--n", "20"},
	} {
		out := filepath.Join(dir, string(rune('a'+i)))
		if code, _, errs := runCLI(t, append(args, "--out", out)...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		parts, _ := filepath.Glob(filepath.Join(out, "part-*.arrow"))
		if len(parts) == 0 {
			t.Fatalf("%v: no parts", args)
		}
		f, err := os.Open(parts[0])
		if err != nil {
			t.Fatal(err)
		}
		r, err := ipc.NewFileReader(f)
		if err != nil {
			t.Fatal(err)
		}
		md := r.Schema().Metadata()
		for _, k := range md.Keys() {
			want := "`" + k + "`"
			switch {
			case strings.HasPrefix(k, "latflow.sampler."):
				want = "`" + strings.TrimPrefix(k, "latflow.sampler.") + "`"
			case strings.HasPrefix(k, "latflow.coupling."):
				want = "`latflow.coupling.<name>`"
			}
			if !strings.Contains(text, want) {
				t.Errorf("%s: metadata key %s: README does not name %s", args[0], k, want)
			}
		}
		for _, fl := range r.Schema().Fields() {
			if !strings.Contains(text, "`"+fl.Name+"`") {
				t.Errorf("%s: column %s not in the README", args[0], fl.Name)
			}
		}
		r.Close()
		f.Close()
	}
}

// TestREADMEHeadline: the README's first command prints the output shown
// there, up to the timing (the time per proposal and the cost/ms
// column), and the README says what dev/sigma means (the
// headline showed two deviations beyond 2 sigma without comment; issue
// 19, D.25).
func TestREADMEHeadline(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the README output is that of amd64; %s may fuse multiply-adds and differ in the last digits", runtime.GOARCH)
	}
	text := readme(t)
	const cmd = "go run ./cmd/latflow sample --beta 3.0 --L 16 --seed 2\n"
	i := strings.Index(text, cmd)
	if i < 0 {
		t.Fatalf("README has no %q", cmd)
	}
	rest := text[i+len(cmd):]
	j := strings.Index(rest, "```\nU(1)")
	if j < 0 {
		t.Fatalf("README: no output block after %q", cmd)
	}
	block := rest[j+4:]
	block = block[:strings.Index(block, "```")]
	if !strings.Contains(text, "`dev/sigma` is (mean - exact) / error") {
		t.Errorf("README does not say what dev/sigma is")
	}
	code, out, errs := runCLI(t, "sample", "--beta", "3.0", "--L", "16", "--seed", "2")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Up to the timing: the time line and the cost/ms column, the last
	// one, which vary with the machine.
	cut := func(s string) string {
		s = s[:strings.Index(s, "time per")]
		lines := strings.Split(s, "\n")
		end := -1
		for i, line := range lines {
			if strings.HasPrefix(line, "observable") {
				end = strings.Index(line, "dev/sigma") + len("dev/sigma")
			}
			if line == "" {
				end = -1
			}
			if end >= 0 && len(line) > end {
				lines[i] = line[:end]
			}
		}
		return strings.Join(lines, "\n")
	}
	if got, want := cut(out), cut(block); got != want {
		t.Errorf("the README's output differs from the command's:\ngot\n%s\nREADME\n%s", got, want)
	}
}
