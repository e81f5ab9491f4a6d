package observables

import "math"

// Phi4Measurement holds the per-configuration observables of a phi^4 field.
type Phi4Measurement struct {
	// M is the magnetization m = (1/V) sum_x phi(x); AbsM = |m|, M2 = m^2,
	// M4 = m^4.
	M, AbsM, M2, M4 float64
	// Phi2 is (1/V) sum_x phi(x)^2.
	Phi2 float64
}

// MeasurePhi4 returns the observables of the field phi (one value per site).
// It panics if phi is empty.
func MeasurePhi4(phi []float64) Phi4Measurement {
	if len(phi) == 0 {
		panic("observables: MeasurePhi4 of an empty field")
	}
	var s, s2 float64
	for _, v := range phi {
		s += v
		s2 += v * v
	}
	v := float64(len(phi))
	m := s / v
	m2 := m * m
	return Phi4Measurement{M: m, AbsM: math.Abs(m), M2: m2, M4: m2 * m2, Phi2: s2 / v}
}
