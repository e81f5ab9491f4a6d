package sampler

import "math"

// MaxTuneSteps bounds the leapfrog steps Tune may choose.
const MaxTuneSteps = 4096

// Tune runs n thermalization trajectories and, after every block of them,
// adjusts HMC.Steps at fixed HMC.Tau so that the block's acceptance falls in
// [lo, hi]: 1.5 times the steps (at least one more) below lo, 0.8 times
// (at least one) above hi. It calls each (if not nil) after every
// trajectory and stops early when each returns false. Tuning changes the
// chain's transition kernel, so it belongs to thermalization only; the
// acceptance counters are reset at the end so that Acceptance reports the
// production trajectories that follow.
func (c *Chain) Tune(n, block int, lo, hi float64, each func() bool) {
	if block < 1 || !(0 <= lo && lo <= hi && hi <= 1) {
		panic("sampler: Tune: block must be >= 1 and 0 <= lo <= hi <= 1")
	}
	acc := 0
	for i := 1; i <= n; i++ {
		if ok, _ := c.Step(); ok {
			acc++
		}
		if each != nil && !each() {
			break
		}
		if i%block != 0 {
			continue
		}
		c.adjustSteps(float64(acc)/float64(block), lo, hi)
		acc = 0
	}
	c.accepted, c.trajectories = 0, 0
}

// adjustSteps changes HMC.Steps after a block with acceptance rate: 1.5
// times the steps (at least one more) below lo, 0.8 times (at least one
// fewer) above hi, within [1, MaxTuneSteps].
func (c *Chain) adjustSteps(rate, lo, hi float64) {
	switch {
	case rate < lo && c.HMC.Steps < MaxTuneSteps:
		c.HMC.Steps = min(MaxTuneSteps, max(c.HMC.Steps+1, int(math.Ceil(1.5*float64(c.HMC.Steps)))))
	case rate > hi && c.HMC.Steps > 1:
		c.HMC.Steps = max(1, min(c.HMC.Steps-1, int(0.8*float64(c.HMC.Steps))))
	}
}
