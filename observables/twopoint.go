package observables

import (
	"errors"
	"fmt"

	"latflow/lattice"
)

// TimeSlicesTo writes the time-slice sums S(t) = sum_{x1} phi(t, x1) of the
// field phi into dst, t = x0 = 0, ..., L-1. It panics unless len(dst) = L
// and len(phi) = V.
func TimeSlicesTo(dst []float64, g *lattice.Geometry, phi []float64) {
	if len(dst) != g.L || len(phi) != g.V {
		panic(fmt.Sprintf("observables: TimeSlicesTo with len(dst)=%d, len(phi)=%d, want %d and %d", len(dst), len(phi), g.L, g.V))
	}
	for t := range dst {
		var s float64
		for _, v := range phi[t*g.L : (t+1)*g.L] {
			s += v
		}
		dst[t] = s
	}
}

// ConnectedTwoPoint returns the connected two-point function on time slices
//
//	G_c(t) = (1/V) sum_{t0} <S(t0) S(t0+t)> - L <m>^2,  t = 0, ..., L-1,
//
// with V = L^2, m = (1/V) sum_t S(t) and t0+t taken modulo L, from the time
// slices slices[r][i][t] of configuration i in replica r (see
// TimeSlicesTo). Each G_c(t) is a derived quantity of the per-configuration
// (1/V) sum_{t0} S(t0) S(t0+t) and m, analysed with the default
// GammaOptions.
//
// It returns an error if a configuration does not have L slices, or for the
// reasons of GammaDerived. If the windowing fails for some t, all estimates
// are returned together with the error, which wraps ErrNoWindow.
func ConnectedTwoPoint(slices [][][]float64, L int) ([]Estimate, error) {
	if L < 1 {
		panic(fmt.Sprintf("observables: ConnectedTwoPoint with L=%d, want L >= 1", L))
	}
	if len(slices) == 0 {
		return nil, errors.New("observables: two-point function: no replicas")
	}
	V := float64(L * L)
	// corr[t][r][i] = (1/V) sum_t0 S(t0) S(t0+t) and mag[r][i] = m of
	// configuration i in replica r.
	corr := make([][][]float64, L)
	for t := range corr {
		corr[t] = make([][]float64, len(slices))
	}
	mag := make([][]float64, len(slices))
	for r, rep := range slices {
		for t := range corr {
			corr[t][r] = make([]float64, len(rep))
		}
		mag[r] = make([]float64, len(rep))
		for i, s := range rep {
			if len(s) != L {
				return nil, fmt.Errorf("observables: two-point function: replica %d, configuration %d has %d time slices, want L=%d", r, i, len(s), L)
			}
			var sum float64
			for _, v := range s {
				sum += v
			}
			mag[r][i] = sum / V
			for t := range corr {
				var c float64
				for t0, v := range s {
					c += v * s[(t0+t)%L]
				}
				corr[t][r][i] = c / V
			}
		}
	}

	fL := float64(L)
	f := func(means []float64) float64 { return means[0] - fL*means[1]*means[1] }
	grad := func(means, dst []float64) {
		dst[0] = 1
		dst[1] = -2 * fL * means[1]
	}
	out := make([]Estimate, L)
	var windowErr error
	for t := range out {
		est, err := GammaDerived([][][]float64{corr[t], mag}, f, grad, GammaOptions{})
		if err != nil {
			if !errors.Is(err, ErrNoWindow) {
				return nil, fmt.Errorf("%w (two-point function at t=%d)", err, t)
			}
			if windowErr == nil {
				windowErr = fmt.Errorf("%w (two-point function at t=%d)", err, t)
			}
		}
		out[t] = est
	}
	return out, windowErr
}
