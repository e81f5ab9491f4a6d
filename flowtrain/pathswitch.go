package flowtrain

import (
	"fmt"
	"math"
)

// Defaults of PathSwitch, measured on U(1) (issue 14): far from
// convergence the forward fast path gradient has 2 to 60 times the
// per-sample variance of maximum likelihood (L=8 beta=3, 16 layers: 60x at
// the initialization; 3.1x and 3.6x on 512 samples at steps 1000 and 5500
// of a maximum-likelihood run that reaches a fresh ESS of 0.03, 1.9x to
// 15x in 256-sample checks along it); the ratio falls below 0.5 only near
// convergence (L=4, 8 layers: at a fresh ESS of about 0.25 at beta = 1 and
// 0.3 at beta = 2; not by ESS 0.09 at beta = 3, where it stays at 0.7 to
// 1.3). A check of 256 samples took 0.1 s to 0.3 s at L=8 (16 layers, one
// shared core), 5 to 20 training steps of batch 64: 1% to 4% of the time at
// one check per 500 steps.
const (
	// DefaultPathEvery is the number of steps between two checks.
	DefaultPathEvery = 500
	// DefaultPathSamples is the number of single-sample gradients of each
	// estimator per check.
	DefaultPathSamples = 256
	// DefaultPathRatio is the largest ratio of per-sample variances,
	// path over standard, at which the path gradient is used: below 1 so
	// that it pays for its higher cost per step (published: 1.4x to 2.3x
	// the standard estimator).
	DefaultPathRatio = 0.5
)

// PathSwitch is the rule by which a Trainer asked for a forward-KL path
// gradient (DropInPath or FastPath) decides, step by step, whether to use
// it or maximum likelihood (Standard). Every Every steps, from step 1 on,
// it measures the per-sample gradient variance of both estimators on
// Samples samples of the training data (GradientVariance) and uses the
// path gradient until the next check if
//
//	trace(path) <= Ratio * trace(standard),
//
// maximum likelihood otherwise.
//
// Why: the forward path gradient is unbiased only on fresh samples of the
// target. On a dataset used again and again (HMC configurations, or any
// finite set of exact samples), its average over the dataset is the
// maximum-likelihood gradient of that dataset plus the dataset average of
// the score term d/dtheta log p_theta,0(z) at fixed z, a frozen noise of
// size sqrt(trace/N) that is not the gradient of any loss. Far from
// convergence that term is large (the variance ratio is 2 to 60), Adam
// follows it, and training diverges: issue 14's U(1) L=8 run on 16,000
// configurations, and the same run on 16,000 exact samples, while the
// same run on fresh exact samples trains like maximum likelihood. Near
// convergence the path gradient's variance, and with it the frozen noise,
// goes to zero (it vanishes at q = p), which is where it pays.
//
// The zero value means the defaults (DefaultPathEvery, DefaultPathSamples,
// DefaultPathRatio). The rule applies to the forward objective only; the
// reverse path gradients draw fresh samples from the flow every step.
type PathSwitch struct {
	// Always uses the path gradient at every step, without checks (the
	// behaviour before the switch existed; it diverges on reused data far
	// from convergence).
	Always bool
	// Every is the number of steps between checks (0: DefaultPathEvery).
	Every int
	// Samples is the number of single-sample gradients per estimator and
	// check, at least 4 (0: DefaultPathSamples).
	Samples int
	// Ratio is the largest variance ratio at which the path gradient is
	// used, > 0 (0: DefaultPathRatio).
	Ratio float64
}

// withDefaults returns s with zero fields replaced by the defaults, or an
// error naming an invalid field.
func (s PathSwitch) withDefaults() (PathSwitch, error) {
	if s.Every == 0 {
		s.Every = DefaultPathEvery
	}
	if s.Samples == 0 {
		s.Samples = DefaultPathSamples
	}
	if s.Ratio == 0 {
		s.Ratio = DefaultPathRatio
	}
	switch {
	case s.Every < 1:
		return s, fmt.Errorf("flowtrain: path switch: every %d steps, want >= 1 (0: %d)", s.Every, DefaultPathEvery)
	case s.Samples < 4:
		return s, fmt.Errorf("flowtrain: path switch: %d samples, want >= 4 (0: %d)", s.Samples, DefaultPathSamples)
	case !(s.Ratio > 0) || math.IsInf(s.Ratio, 1):
		return s, fmt.Errorf("flowtrain: path switch: ratio %g, want a finite ratio > 0 (0: %g)", s.Ratio, DefaultPathRatio)
	}
	return s, nil
}

// PathCheck is the result of one check of a PathSwitch.
type PathCheck struct {
	// Step is the step the check was made before.
	Step int
	// Standard and Path are the variances measured (nil on an error).
	Standard, Path *Variance
	// UsePath tells whether the path gradient is used until the next
	// check.
	UsePath bool
	// Err is why the measurement failed (the standard estimator is then
	// used), or nil.
	Err error
}
