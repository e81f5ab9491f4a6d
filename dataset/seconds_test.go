package dataset

import (
	"math"
	"testing"
)

// TestPartSeconds: the parts record the wall time of their rows
// (KeyPartSeconds), Open and Inspect read it back, and SecondsPerStep is
// the time over the timed rows; rows that were not timed (as written by an
// older latflow) give no time per step.
func TestPartSeconds(t *testing.T) {
	spec := testSpec("phi4", 4, 0)
	spec.ConfigName, spec.ConfigSize = "", 0
	timed := t.TempDir()
	w, err := Create(timed, spec, WriterOptions{RowsPerPart: 10})
	if err != nil {
		t.Fatal(err)
	}
	const n = 25 // parts of 10, 10 and 5 rows
	var total float64
	for i, r := range testRows(spec, 0, n, 0, 1) {
		r.Seconds = 1e-3 * float64(1+i%4)
		total += r.Seconds
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err := Open(timed)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := SecondsPerStep(ds.Chains)
	if want := total / n; !ok || math.Abs(got-want) > 1e-12*want {
		t.Errorf("SecondsPerStep: got %g (%v), want %g", got, ok, want)
	}
	infos, err := Inspect(timed)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, p := range infos[0].Parts {
		sum += p.Seconds
	}
	if math.Abs(sum-total) > 1e-12*total {
		t.Errorf("Inspect: parts hold %g s, want %g", sum, total)
	}

	untimed := t.TempDir()
	w, err = Create(untimed, spec, WriterOptions{RowsPerPart: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range testRows(spec, 0, n, 0, 1) {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if ds, err = Open(untimed); err != nil {
		t.Fatal(err)
	}
	if got, ok := SecondsPerStep(ds.Chains); ok {
		t.Errorf("untimed rows: SecondsPerStep %g, want none", got)
	}
}
