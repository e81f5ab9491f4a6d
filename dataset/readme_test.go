package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readmeSnippets returns the lines of the ```python blocks of the README's
// "Arrow datasets" section.
func readmeSnippets(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var text strings.Builder
	section, code := false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			section = l == "## Arrow datasets"
		case section && l == "```python":
			code = true
		case code && l == "```":
			code = false
		case code:
			lines = append(lines, l)
		}
		if section {
			text.WriteString(l + "\n")
		}
	}
	// pandas reads Arrow files only with pyarrow installed: say so.
	if !strings.Contains(text.String(), "pip install pandas pyarrow") {
		t.Error("README.md, Arrow datasets: no word that pandas needs pyarrow (pip install pandas pyarrow)")
	}
	if len(lines) == 0 {
		t.Fatal("README.md: no python snippet in the section Arrow datasets")
	}
	return lines
}

// TestREADMESnippets writes an hmc dataset (configurations every 10th step)
// and a sample dataset (two chains, no configurations) with the columns
// latflow writes, runs the README's Polars and pandas snippets on them
// through their nodejs-polars equivalents (testdata/node/readme.mjs, which
// refuses a line it does not know), and checks what each print() shows
// against the rows written. It also records why nodejs-polars' readIPC of a
// part's path fails with InvalidFooter: it takes the path string for the
// file's contents (a missing path fails alike), while the bytes of the same
// file read.
func TestREADMESnippets(t *testing.T) {
	node := nodeReaders(t)
	obs := []string{"plaquette", "topological_charge", "log_q", "log_p", "log_weight", "delta_h", "tries"}
	const iLogW, iDeltaH = 4, 5
	write := func(dir, sampler string, seed uint64, chain, n, saveEvery int) []Row {
		spec := testSpec("u1", 4, chain)
		spec.Meta.Sampler, spec.Meta.Seed = sampler, seed
		spec.Observables, spec.Labels = obs, []string{"update"}
		rows := testRows(spec, 0, n, saveEvery, seed+uint64(chain))
		for i := range rows {
			null := make([]bool, len(obs))
			for k := range null {
				hmcCol := k == iDeltaH
				flowCol := k >= 2 && k <= iLogW
				null[k] = k >= 2 && !(sampler == "hmc" && hmcCol || sampler == "imh" && flowCol)
			}
			rows[i].Null = null
			if sampler == "hmc" {
				rows[i].Labels = []string{"hmc"}
			} else {
				rows[i].Labels = []string{"flow"}
			}
		}
		writeRows(t, dir, spec, WriterOptions{RowsPerPart: 50}, rows)
		return rows
	}
	hmcDir, sampleDir := filepath.Join(t.TempDir(), "hmc"), filepath.Join(t.TempDir(), "sample")
	hmc := write(hmcDir, "hmc", 11, 0, 120, 10)
	s0 := write(sampleDir, "imh", 12, 0, 80, 0)
	s1 := write(sampleDir, "imh", 12, 1, 70, 0)

	mean := func(rows []Row, k int) float64 {
		s := 0.0
		for _, r := range rows {
			s += r.Obs[k]
		}
		return s / float64(len(rows))
	}
	maxOf := func(rows ...[]Row) float64 {
		m := math.Inf(-1)
		for _, rs := range rows {
			for _, r := range rs {
				m = math.Max(m, r.Obs[iLogW])
			}
		}
		return m
	}
	group := func(seed, chain int, rows []Row) map[string]any {
		return map[string]any{"L": 4.0, "beta": 3.0, "seed": float64(seed), "chain": float64(chain), "plaquette": mean(rows, 0)}
	}
	want := [][]map[string]any{
		{group(11, 0, hmc), group(12, 0, s0), group(12, 1, s1)},
		{{"update": "flow", "rows": float64(len(s0) + len(s1)), "delta_h": nil, "log_weight": maxOf(s0, s1)},
			{"update": "hmc", "rows": float64(len(hmc)), "delta_h": mean(hmc, iDeltaH), "log_weight": nil}},
		nil,
		{group(11, 0, hmc)},
	}
	for _, r := range hmc[47:50] {
		want[2] = append(want[2], map[string]any{"step": float64(r.Step), "action": r.Action, "delta_h": r.Obs[iDeltaH]})
	}

	in := filepath.Join(t.TempDir(), "snippets.json")
	b, err := json.Marshal(map[string]any{"dirs": map[string]string{"HMC": hmcDir, "SAMPLE": sampleDir}, "lines": readmeSnippets(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "readme.mjs", in)
	cmd.Dir = filepath.Join("testdata", "node")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node readme.mjs: %v\n%s%s", err, out, stderr.Bytes())
	}
	var got struct {
		Printed        [][]map[string]any
		ReadIPCPath    string
		ReadIPCMissing string
		ReadIPCBytes   string
		ScanIPCPath    string
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("node readme.mjs output %q: %v", out, err)
	}
	if len(got.Printed) != len(want) {
		t.Fatalf("the README's snippets print %d tables, want %d:\n%s", len(got.Printed), len(want), out)
	}
	for i := range want {
		if msg := compareRecords(got.Printed[i], want[i]); msg != "" {
			t.Errorf("print %d: %s\ngot  %v\nwant %v", i+1, msg, got.Printed[i], want[i])
		}
	}

	const invalidFooter = "out-of-spec: InvalidFooter"
	rows := fmt.Sprintf("ok: %d rows", 50)
	for _, c := range []struct{ what, got, want string }{
		{"readIPC(path of a part)", got.ReadIPCPath, invalidFooter},
		{"readIPC(path of no file)", got.ReadIPCMissing, invalidFooter},
		{"readIPC(bytes of the part)", got.ReadIPCBytes, rows},
		{"scanIPC(path of the part)", got.ScanIPCPath, rows},
	} {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("nodejs-polars %s: got %q, want %q", c.what, c.got, c.want)
		}
	}
}

// compareRecords compares the records a reader printed with want (numbers
// as float64, to a relative 1e-12 as the summation order may differ; nil
// for null), and describes the first difference, or returns "".
func compareRecords(got, want []map[string]any) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return fmt.Sprintf("row %d has %d columns, want %d", i, len(got[i]), len(want[i]))
		}
		for k, w := range want[i] {
			g, ok := got[i][k]
			if !ok {
				return fmt.Sprintf("row %d has no column %s", i, k)
			}
			switch w := w.(type) {
			case nil:
				if g != nil {
					return fmt.Sprintf("row %d: %s = %v, want null", i, k, g)
				}
			case string:
				if g != w {
					return fmt.Sprintf("row %d: %s = %v, want %q", i, k, g, w)
				}
			case float64:
				var s string
				switch g := g.(type) {
				case json.Number:
					s = g.String()
				case string: // uint64 and int64 come as decimal strings
					s = g
				default:
					return fmt.Sprintf("row %d: %s = %v, want %v", i, k, g, w)
				}
				v, err := strconv.ParseFloat(s, 64)
				if err != nil || math.Abs(v-w) > 1e-12*math.Max(1, math.Abs(w)) {
					return fmt.Sprintf("row %d: %s = %s, want %v", i, k, s, w)
				}
			}
		}
	}
	return ""
}
