// Command esttable summarizes the runs of scripts/estimators.sh: for each
// estimator (objective x gradient) the steps done, and the fresh ESS/N and
// independence-Metropolis acceptance at fractions of the CPU budget (from
// the training logs' ess_fresh, acc_fresh and cpu_seconds columns) and on
// the 20000 samples of each run's final --eval, as the mean over seeds with
// its standard error, as a Markdown table.
//
//	go run ./scripts/esttable DIR [DIR...]
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"latflow/flowtrain"
)

type run struct {
	L         int     `json:"L"`
	Estimator string  `json:"estimator"`
	Seed      int     `json:"seed"`
	Steps     int     `json:"steps"`
	CPU       float64 `json:"cpu_seconds"`
	Log       string  `json:"log"`
	Eval      struct {
		ESS        float64 `json:"ess"`
		Acceptance float64 `json:"acceptance"`
	} `json:"evaluation"`
	// at[i] are the last fresh ESS and acceptance at or before fraction
	// fractions[i] of the CPU budget.
	essAt, accAt []float64
}

var fractions = []float64{0.25, 0.5, 1}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: esttable DIR [DIR...]")
		os.Exit(2)
	}
	groups := map[string][]run{}
	var keys []string
	for _, dir := range os.Args[1:] {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				fail(err)
			}
			var r run
			if err := json.Unmarshal(b, &r); err != nil {
				fail(fmt.Errorf("%s: %w", f, err))
			}
			rows, _, err := flowtrain.ReadLog(filepath.Join(filepath.Dir(dir), r.Log))
			if err != nil {
				if rows, _, err = flowtrain.ReadLog(filepath.Join(dir, filepath.Base(r.Log))); err != nil {
					fail(err)
				}
			}
			budget := rows[len(rows)-1].CPUSeconds
			for _, fr := range fractions {
				e, a := math.NaN(), math.NaN()
				for _, row := range rows {
					if row.CPUSeconds > fr*budget*1.0001 {
						break
					}
					if row.ESSFresh > 0 {
						e, a = row.ESSFresh, row.AccFresh
					}
				}
				r.essAt, r.accAt = append(r.essAt, e), append(r.accAt, a)
			}
			k := fmt.Sprintf("%04d %s", r.L, order(r.Estimator))
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], r)
		}
	}
	sort.Strings(keys)
	fmt.Print("| L | estimator | seeds | CPU s | steps |")
	for _, fr := range fractions {
		fmt.Printf(" ESS/N at %g | acc at %g |", fr, fr)
	}
	fmt.Println(" ESS/N (20k eval) | acc (20k eval) |")
	fmt.Print("|---|---|---|---|---|")
	for range fractions {
		fmt.Print("---|---|")
	}
	fmt.Println("---|---|")
	for _, k := range keys {
		rs := groups[k]
		col := func(f func(run) float64) string {
			var xs []float64
			for _, r := range rs {
				xs = append(xs, f(r))
			}
			return meanErr(xs)
		}
		fmt.Printf("| %d | %s | %d | %s | %s |", rs[0].L, rs[0].Estimator, len(rs),
			col(func(r run) float64 { return r.CPU }), col(func(r run) float64 { return float64(r.Steps) }))
		for i := range fractions {
			fmt.Printf(" %s | %s |", col(func(r run) float64 { return r.essAt[i] }), col(func(r run) float64 { return r.accAt[i] }))
		}
		fmt.Printf(" %s | %s |\n", col(func(r run) float64 { return r.Eval.ESS }), col(func(r run) float64 { return r.Eval.Acceptance }))
	}
}

// order sorts reverse before forward and standard, drop-in, fast within.
func order(est string) string {
	r := strings.NewReplacer("reverse", "1reverse", "forward", "2forward", "standard", "1standard", "dropin-path", "2dropin-path", "fast-path", "3fast-path")
	return r.Replace(est)
}

func meanErr(xs []float64) string {
	n := float64(len(xs))
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= n
	if len(xs) < 2 {
		return format(m, math.NaN())
	}
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return format(m, math.Sqrt(v/(n-1)/n))
}

func format(m, e float64) string {
	switch {
	case math.IsNaN(e) && math.Abs(m) >= 100:
		return fmt.Sprintf("%.0f", m)
	case math.IsNaN(e):
		return fmt.Sprintf("%.3f", m)
	case math.Abs(m) >= 100:
		return fmt.Sprintf("%.0f ± %.0f", m, e)
	default:
		return fmt.Sprintf("%.3f ± %.3f", m, e)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "esttable:", err)
	os.Exit(1)
}
