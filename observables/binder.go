package observables

// Binder returns the Binder cumulant U_4 = 1 - <m^4> / (3 <m^2>^2) from the
// replicas of the magnetization m, as the derived quantity of <m^2> and
// <m^4> with the default GammaOptions. U_4 is 0 for a Gaussian m and 2/3 for
// m = +-c.
func Binder(m [][]float64) (Estimate, error) {
	return binder(m, GammaOptions{})
}

// binder is Binder with the options opt.
func binder(m [][]float64, opt GammaOptions) (Estimate, error) {
	return GammaDerived([][][]float64{powers(m, 2), powers(m, 4)}, binderU4, binderGrad, opt)
}

// binderU4 is U_4 as a function of means = (<m^2>, <m^4>).
func binderU4(means []float64) float64 {
	m2, m4 := means[0], means[1]
	return 1 - m4/(3*m2*m2)
}

// binderGrad writes the gradient of binderU4 into dst.
func binderGrad(means, dst []float64) {
	m2, m4 := means[0], means[1]
	dst[0] = 2 * m4 / (3 * m2 * m2 * m2)
	dst[1] = -1 / (3 * m2 * m2)
}
