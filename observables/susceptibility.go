package observables

import (
	"fmt"
	"math"
)

// Susceptibility returns <x^2> / V from the replicas of a per-configuration
// extensive quantity x, analysed as the primary observable x^2 with the
// default GammaOptions. With x = Q it is the topological susceptibility
// chi_t = <Q^2> / V; with x = sum_x phi(x) the phi^4 two-point
// susceptibility chi_2. It panics if V < 1.
func Susceptibility(x [][]float64, V int) (Estimate, error) {
	return susceptibility(x, V, GammaOptions{})
}

// susceptibility is Susceptibility with the options opt.
func susceptibility(x [][]float64, V int, opt GammaOptions) (Estimate, error) {
	if V < 1 {
		panic(fmt.Sprintf("observables: Susceptibility with volume V=%d, want V >= 1", V))
	}
	est, err := GammaPrimary(squares(x), opt)
	return est.scaled(1 / float64(V)), err
}

// Chi2Phi4 returns the phi^4 two-point susceptibility
// chi_2 = <(sum_x phi(x))^2> / V = V <m^2> from the replicas of the
// magnetization m = (1/V) sum_x phi(x), analysed with the default
// GammaOptions. It is not connected: <m>^2 is not subtracted. It panics if
// V < 1.
func Chi2Phi4(m [][]float64, V int) (Estimate, error) {
	return chi2Phi4(m, V, GammaOptions{})
}

// chi2Phi4 is Chi2Phi4 with the options opt.
func chi2Phi4(m [][]float64, V int, opt GammaOptions) (Estimate, error) {
	if V < 1 {
		panic(fmt.Sprintf("observables: Chi2Phi4 with volume V=%d, want V >= 1", V))
	}
	est, err := GammaPrimary(squares(m), opt)
	return est.scaled(float64(V)), err
}

// squares returns the replicas of x^2.
func squares(x [][]float64) [][]float64 {
	return powers(x, 2)
}

// powers returns the replicas of x^k.
func powers(x [][]float64, k int) [][]float64 {
	out := make([][]float64, len(x))
	for r, s := range x {
		p := make([]float64, len(s))
		for i, v := range s {
			switch k {
			case 2:
				p[i] = v * v
			case 4:
				p[i] = (v * v) * (v * v)
			default:
				p[i] = math.Pow(v, float64(k))
			}
		}
		out[r] = p
	}
	return out
}

// scaled returns the Estimate of c times the observable.
func (e Estimate) scaled(c float64) Estimate {
	e.Mean *= c
	e.Err *= math.Abs(c)
	return e
}
