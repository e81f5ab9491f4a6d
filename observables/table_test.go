package observables

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestFormatMeanErr(t *testing.T) {
	for _, c := range []struct {
		mean, err float64
		want      string
	}{
		{0.809934, 0.000123, "0.80993(12)"},
		{0.80993, 0.000996, "0.8099(10)"},
		{-0.5, 0.25, "-0.50(25)"},
		{2.831565, 0.047, "2.832(47)"},
		{1234.7, 56, "1235(56)"},
		{12345, 156, "12350(160)"},
		{2.0 / 3, 0, "0.666667(0)"},
		{1, math.NaN(), "1(NaN)"},
		{math.Inf(1), 1, "+Inf"},
	} {
		if got := FormatMeanErr(c.mean, c.err); got != c.want {
			t.Errorf("FormatMeanErr(%v, %v): got %q, want %q", c.mean, c.err, got, c.want)
		}
	}
}

func TestRowSigma(t *testing.T) {
	est := Estimate{Mean: 0.81, Err: 0.002}
	if got, want := (Row{Est: est, Exact: 0.8, HasExact: true}).Sigma(), 5.0; math.Abs(got-want) > exactTol {
		t.Errorf("with exact: got %v, want %v", got, want)
	}
	if got := (Row{Est: est, Exact: 0.8}).Sigma(); !math.IsNaN(got) {
		t.Errorf("without exact: got %v, want NaN", got)
	}
	if got := (Row{Est: Estimate{Mean: 1}, Exact: 0.8, HasExact: true}).Sigma(); !math.IsNaN(got) {
		t.Errorf("zero error: got %v, want NaN", got)
	}
}

func TestWriteTable(t *testing.T) {
	rows := []Row{
		{Name: "<cos P>", Est: Estimate{Mean: 0.809934, Err: 0.000123, TauInt: 2.5, TauIntErr: 0.1, Window: 12, N: 10000}, Exact: 0.8099853, HasExact: true, Cost: 5e-4},
		{Name: "chi_2", Est: Estimate{Mean: 0.75, Err: 0.01, TauInt: 0.5, Window: 1, N: 1000}},
	}
	var b strings.Builder
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(rows)+1 {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(rows)+1, b.String())
	}
	for i, l := range lines {
		if len(l) != len(lines[0]) {
			t.Errorf("line %d has width %d, want %d (aligned):\n%s", i, len(l), len(lines[0]), b.String())
		}
	}
	for i, want := range [][]string{
		{"observable", "value", "mean", "error", "tau_int", "+-", "W", "exact", "dev/sigma", "cost/ms"},
		{"<cos P>", "0.80993(12)", "0.809934", "0.000123", "2.5", "0.1", "12", "0.8099853", "-0.42", "0.5"},
		{"chi_2", "0.750(10)", "0.75", "0.01", "0.5", "0", "1", "-", "-", "-"},
	} {
		got := strings.Fields(strings.Replace(lines[i], "<cos P>", "<cos_P>", 1))
		want[0] = strings.Replace(want[0], "<cos P>", "<cos_P>", 1)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("line %d: got %q, want %q", i, got, want)
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTableError(t *testing.T) {
	if err := WriteTable(failWriter{}, nil); err == nil {
		t.Errorf("got no error, want the writer's")
	}
}
