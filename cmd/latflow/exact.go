package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"latflow/ensemble"
	"latflow/gauge"
)

// exactOptions are the flags of latflow exact.
type exactOptions struct {
	beta float64
	L    int
	json bool
}

func exactCommand() *cli.Command {
	o := &exactOptions{}
	return &cli.Command{
		Name:      "exact",
		UsageText: exactUsage,
		Usage:     "exact results of 2D U(1) gauge theory on the periodic L x L torus",
		Description: "Character expansion on the finite torus (log Z, <cos P>, <S>, <Q^2>, chi_t)\n" +
			"and the infinite-volume limits of <cos P> and chi_t.",
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: flagBeta, Value: 3.0, Destination: &o.beta, Usage: "gauge coupling beta (0 < beta <= 1e6)"},
			&cli.IntFlag{Name: flagL, Value: 16, Destination: &o.L, Usage: fmt.Sprintf("lattice extent L (1 <= L <= %d)", ensemble.MaxL)},
			jsonFlag(&o.json),
		},
		Action: func(c *cli.Context) error {
			if _, err := parsed(c, false); err != nil {
				return err
			}
			return runExact(o, c.App.Writer)
		},
	}
}

type exactReport struct {
	Theory             string   `json:"theory"`
	L                  int      `json:"L"`
	Beta               float64  `json:"beta"`
	LogZHaar           float64  `json:"log_z_haar"`
	LogZFlat           float64  `json:"log_z_flat"`
	MeanCos            float64  `json:"plaquette"`
	MeanAction         float64  `json:"action"`
	Q2                 *float64 `json:"q2,omitempty"`
	ChiT               *float64 `json:"chi_t,omitempty"`
	InfiniteVolumeCos  float64  `json:"plaquette_infinite_volume"`
	InfiniteVolumeChiT float64  `json:"chi_t_infinite_volume"`
	Notes              []string `json:"notes,omitempty"`
}

func runExact(o *exactOptions, w io.Writer) error {
	if !(o.beta > 0) || o.beta > ensemble.MaxBeta {
		return usagef("--%s must be positive (0 < beta <= %g), got %g", flagBeta, ensemble.MaxBeta, o.beta)
	}
	if o.L < 1 || o.L > ensemble.MaxL {
		return usagef("--%s must be between 1 and %d, got %d", flagL, ensemble.MaxL, o.L)
	}
	ex, err := gauge.ExactTorus(o.beta, o.L)
	var notes []string
	switch {
	case err == nil:
	case errors.Is(err, gauge.ErrTopologyFrozen):
		notes = append(notes, "<Q^2> and chi_t: not resolvable by the character expansion at this L and beta (topology frozen)")
	default:
		return err
	}
	cosInf, chiInf, err := gauge.ExactInfiniteVolume(o.beta)
	if err != nil {
		return err
	}
	V := float64(o.L) * float64(o.L)
	r := exactReport{
		Theory: theoryU1, L: o.L, Beta: o.beta,
		LogZHaar: ex.LogZ, LogZFlat: ex.LogZ + 2*V*math.Log(2*math.Pi),
		MeanCos: ex.MeanCos, MeanAction: ex.MeanAction, Q2: finite(ex.Q2), ChiT: finite(ex.ChiT),
		InfiniteVolumeCos: cosInf, InfiniteVolumeChiT: chiInf, Notes: notes,
	}
	if o.json {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "2D U(1) gauge theory, Wilson action, L=%d, beta=%g: exact results (character expansion)\n\n", o.L, o.beta)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "quantity\tfinite torus\tinfinite volume\n")
	fmt.Fprintf(tw, "<cos P>\t%.10g\t%.10g\n", r.MeanCos, r.InfiniteVolumeCos)
	fmt.Fprintf(tw, "<S>\t%.10g\t\n", r.MeanAction)
	fmt.Fprintf(tw, "<Q^2>\t%s\t\n", optional(r.Q2))
	fmt.Fprintf(tw, "chi_t = <Q^2>/V\t%s\t%.10g\n", optional(r.ChiT), r.InfiniteVolumeChiT)
	fmt.Fprintf(tw, "log Z (Haar measure)\t%.10g\t\n", r.LogZHaar)
	fmt.Fprintf(tw, "log Z (flat measure on [0,2pi))\t%.10g\t\n", r.LogZFlat)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// finite returns &v, or nil for NaN or an infinity (absent in JSON).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// optional formats *v, or "-" for nil.
func optional(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.10g", *v)
}
