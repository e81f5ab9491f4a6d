package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// nodeInstall is the command that installs the JavaScript readers used by
// TestNodeInterop, run from the module root.
const nodeInstall = "npm ci --prefix dataset/testdata/node"

// nodeTimeout bounds one run of read.mjs.
const nodeTimeout = 2 * time.Minute

// interopExpect is the expectation file read by testdata/node/read.mjs.
type interopExpect struct {
	Parts     []string                  `json:"parts"`
	Rows      int                       `json:"rows"`
	Columns   []interopColumn           `json:"columns"`
	Metadata  map[string]string         `json:"metadata"`
	Nulls     map[string]int            `json:"nulls"`
	Values    []interopValue            `json:"values"`
	Counts    map[string]map[string]int `json:"counts,omitempty"`
	Ensembles *interopEnsembles         `json:"ensembles,omitempty"`
}

type interopColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Size     int    `json:"size,omitempty"`
	Inner    string `json:"inner,omitempty"`
	Nullable bool   `json:"nullable"`
}

type interopValue struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Value  any    `json:"value"` // number, bool, string, []float64 or nil
}

// interopEnsembles asks read.mjs to concatenate several datasets and group
// their rows by ensemble columns.
type interopEnsembles struct {
	Dirs   []string         `json:"dirs"`
	By     []string         `json:"by"`
	Groups []map[string]any `json:"groups"`
}

// nodeReaders returns the path of node, or skips the test if node or the
// JavaScript readers are not installed (fails under CI).
func nodeReaders(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		for _, pkg := range []string{"apache-arrow", "nodejs-polars", "nodejs-polars-linux-x64-gnu"} {
			if _, err = os.Stat(filepath.Join("testdata", "node", "node_modules", pkg)); err != nil {
				break
			}
		}
	}
	if err != nil {
		msg := fmt.Sprintf("JavaScript readers not available (%v); install them with: %s", err, nodeInstall)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node
}

// TestNodeInterop writes datasets of format 2 (and 1) and reads them with
// apache-arrow and nodejs-polars (testdata/node/read.mjs): every column
// type, the ensemble columns L, seed (above 2^53) and the couplings, a
// string column, float32 configurations, and two ensembles concatenated and
// grouped by L and beta. Without node or the installed packages it skips,
// except under CI, where it fails.
func TestNodeInterop(t *testing.T) {
	nodeDir := filepath.Join("testdata", "node")
	node := nodeReaders(t)
	const (
		nRows       = 250
		rowsPerPart = 100
		saveEvery   = 10
		valueStride = 37 // rows checked: every 37th, the first saved configurations and the last row
		bigSeed     = 1<<60 + 3
	)
	for _, tc := range []struct {
		format    int
		theory    string
		labels    []string
		float32   bool
		ensembles bool
	}{
		{FormatVersion2, "u1", []string{"update"}, false, true},
		{FormatVersion2, "phi4", []string{"update", "model"}, true, false},
		{FormatVersion1, "u1", nil, false, false},
	} {
		const l = 4
		t.Run(fmt.Sprintf("format=%d/theory=%s/L=%d", tc.format, tc.theory, l), func(t *testing.T) {
			dir := t.TempDir()
			spec := testSpec(tc.theory, l, 2)
			spec.Meta.Seed = bigSeed
			spec.Labels, spec.ConfigFloat32 = tc.labels, tc.float32
			rows := testRows(spec, 0, nRows, saveEvery, 3)
			writeRows(t, dir, spec, WriterOptions{RowsPerPart: rowsPerPart, Format: tc.format}, rows)

			md := spec.Meta.metadataMap(tc.format)
			exp := interopExpect{Rows: nRows, Metadata: md, Nulls: map[string]int{spec.ConfigName: nRows - nRows/saveEvery}}
			for k := 0; k*rowsPerPart < nRows; k++ {
				exp.Parts = append(exp.Parts, PartName(2, k))
			}
			exp.Columns = []interopColumn{{ColChain, "int32", 0, "", false}, {ColStep, "int64", 0, "", false},
				{ColAccepted, "bool", 0, "", false}, {ColAction, "float64", 0, "", false}}
			if tc.format == FormatVersion2 {
				exp.Columns = append(exp.Columns, interopColumn{ColL, "int32", 0, "", false},
					interopColumn{ColSeed, "uint64", 0, "", false})
				for _, name := range spec.couplingNames() {
					exp.Columns = append(exp.Columns, interopColumn{name, "float64", 0, "", false})
				}
			}
			for _, name := range spec.Observables {
				exp.Columns = append(exp.Columns, interopColumn{name, "float64", 0, "", tc.format == FormatVersion2})
			}
			for _, name := range spec.Labels {
				exp.Columns = append(exp.Columns, interopColumn{name, "utf8", 0, "", false})
			}
			switch {
			case tc.format == FormatVersion1:
				exp.Columns = append(exp.Columns, interopColumn{spec.ConfigName, "fixed_size_list", spec.ConfigSize, "float64", true})
			case tc.float32:
				exp.Columns = append(exp.Columns, interopColumn{spec.ConfigName, "list", 0, "float32", true})
			default:
				exp.Columns = append(exp.Columns, interopColumn{spec.ConfigName, "list", 0, "float64", true})
			}
			for i, r := range rows {
				if i%valueStride != 0 && i != saveEvery && i != nRows-1 {
					continue
				}
				var cfg any // a nil []float64 would encode as null too, but say it
				if r.Config != nil {
					c := slices.Clone(r.Config)
					if tc.float32 {
						for k, v := range c {
							c[k] = float64(float32(v))
						}
					}
					cfg = c
				}
				exp.Values = append(exp.Values,
					interopValue{i, ColChain, 2}, interopValue{i, ColStep, r.Step},
					interopValue{i, ColAccepted, r.Accepted}, interopValue{i, ColAction, r.Action},
					interopValue{i, spec.ConfigName, cfg})
				if tc.format == FormatVersion2 {
					exp.Values = append(exp.Values, interopValue{i, ColL, l}, interopValue{i, ColSeed, strconv.FormatUint(bigSeed, 10)})
					for name, v := range spec.Meta.Couplings {
						exp.Values = append(exp.Values, interopValue{i, name, v})
					}
				}
				for k, name := range spec.Observables {
					exp.Values = append(exp.Values, interopValue{i, name, r.Obs[k]})
				}
				for k, name := range spec.Labels {
					exp.Values = append(exp.Values, interopValue{i, name, r.Labels[k]})
				}
			}
			if len(spec.Labels) > 0 {
				exp.Counts = map[string]map[string]int{spec.Labels[0]: {"hmc": nRows / 5, "flow": nRows - nRows/5}}
			}
			if tc.ensembles {
				// A second ensemble at beta = 2.5, written by a run with its own seed.
				dir2 := t.TempDir()
				spec2 := spec
				spec2.Meta.Couplings = map[string]float64{"beta": 2.5}
				spec2.Meta.Seed = 7
				writeRows(t, dir2, spec2, WriterOptions{RowsPerPart: rowsPerPart}, testRows(spec2, 0, 60, 0, 4))
				exp.Ensembles = &interopEnsembles{Dirs: []string{dir, dir2}, By: []string{ColL, "beta"},
					Groups: []map[string]any{{ColL: l, "beta": 2.5, "rows": 60}, {ColL: l, "beta": 3, "rows": nRows}}}
			}
			expPath := filepath.Join(t.TempDir(), "expect.json")
			b, err := json.Marshal(exp)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(expPath, b, 0o644); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "read.mjs", dir, expPath)
			cmd.Dir = nodeDir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node read.mjs %s %s: %v\n%s", dir, expPath, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
