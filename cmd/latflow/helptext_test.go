package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHelpOneDefault: no help line gives two defaults, as
// "(default: 6) (default: 0)" did (issue 19, D.24).
func TestHelpOneDefault(t *testing.T) {
	for _, c := range newApp(nil, nil).Commands {
		_, help, _ := runCLI(t, c.Name, "--help")
		for _, line := range strings.Split(help, "\n") {
			if strings.Count(line, "default:") > 1 {
				t.Errorf("%s --help: two defaults in %q", c.Name, strings.TrimSpace(line))
			}
		}
	}
}

// TestFlagSpelling: flags are spelled with two dashes everywhere, the
// one-letter --L and --n included: in every help and in the README and
// docs (issue 19, D.24: the help said -L, the README --L). Both spellings
// are accepted on the command line.
func TestFlagSpelling(t *testing.T) {
	single := regexp.MustCompile(`(^|[\s(\x60])-(L|n)\b`)
	for _, c := range newApp(nil, nil).Commands {
		_, help, _ := runCLI(t, c.Name, "--help")
		for _, line := range strings.Split(help, "\n") {
			if single.MatchString(line) {
				t.Errorf("%s --help: one-dash flag in %q, want --L and --n", c.Name, strings.TrimSpace(line))
			}
		}
	}
	for _, p := range []string{"../../README.md", "../../docs/physics.md"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if single.MatchString(line) {
				t.Errorf("%s:%d: one-dash flag in %q, want --L and --n", p, i+1, line)
			}
		}
	}
	// The short spelling still works.
	if code, _, errs := runCLI(t, "exact", "-L", "4", "--beta", "1"); code != exitOK {
		t.Errorf("exact -L 4: exit %d: %s", code, errs)
	}
}
