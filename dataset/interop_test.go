package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	Parts    []string          `json:"parts"`
	Rows     int               `json:"rows"`
	Columns  []interopColumn   `json:"columns"`
	Metadata map[string]string `json:"metadata"`
	Nulls    map[string]int    `json:"nulls"`
	Values   []interopValue    `json:"values"`
}

type interopColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Size     int    `json:"size,omitempty"`
	Nullable bool   `json:"nullable"`
}

type interopValue struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Value  any    `json:"value"` // number, bool, []float64 or nil
}

// TestNodeInterop writes datasets and reads them with apache-arrow and
// nodejs-polars (testdata/node/read.mjs). Without node or the installed
// packages it skips, except under CI, where it fails.
func TestNodeInterop(t *testing.T) {
	nodeDir := filepath.Join("testdata", "node")
	node, err := exec.LookPath("node")
	if err == nil {
		for _, pkg := range []string{"apache-arrow", "nodejs-polars", "nodejs-polars-linux-x64-gnu"} {
			if _, err = os.Stat(filepath.Join(nodeDir, "node_modules", pkg)); err != nil {
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
	const (
		nRows       = 250
		rowsPerPart = 100
		saveEvery   = 10
		valueStride = 37 // rows checked: every 37th, the first saved configurations and the last row
	)
	for _, theory := range []string{"u1", "phi4"} {
		const l = 4
		t.Run(fmt.Sprintf("theory=%s/L=%d", theory, l), func(t *testing.T) {
			dir := t.TempDir()
			spec := testSpec(theory, l, 2)
			rows := testRows(spec, 0, nRows, saveEvery, 3)
			writeRows(t, dir, spec, WriterOptions{RowsPerPart: rowsPerPart}, rows)

			exp := interopExpect{Rows: nRows, Metadata: spec.Meta.metadata().ToMap(),
				Nulls: map[string]int{spec.ConfigName: nRows - nRows/saveEvery}}
			for k := 0; k*rowsPerPart < nRows; k++ {
				exp.Parts = append(exp.Parts, PartName(2, k))
			}
			exp.Columns = []interopColumn{{ColChain, "int32", 0, false}, {ColStep, "int64", 0, false},
				{ColAccepted, "bool", 0, false}, {ColAction, "float64", 0, false}}
			for _, name := range spec.Observables {
				exp.Columns = append(exp.Columns, interopColumn{name, "float64", 0, false})
			}
			exp.Columns = append(exp.Columns, interopColumn{spec.ConfigName, "fixed_size_list", spec.ConfigSize, true})
			for i, r := range rows {
				if i%valueStride != 0 && i != saveEvery && i != nRows-1 {
					continue
				}
				var cfg any // a nil []float64 would encode as null too, but say it
				if r.Config != nil {
					cfg = r.Config
				}
				exp.Values = append(exp.Values,
					interopValue{i, ColChain, 2}, interopValue{i, ColStep, r.Step},
					interopValue{i, ColAccepted, r.Accepted}, interopValue{i, ColAction, r.Action},
					interopValue{i, spec.ConfigName, cfg})
				for k, name := range spec.Observables {
					exp.Values = append(exp.Values, interopValue{i, name, r.Obs[k]})
				}
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
