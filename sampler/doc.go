// Package sampler holds the Markov-chain Monte Carlo updates of latflow:
// hybrid Monte Carlo (HMC) for any action with a force, and later the
// independence Metropolis sampler with a normalizing flow as proposal.
//
// Conventions: a field is a flat []float64 (site or link order as in
// packages lattice and gauge); an Action returns S and its gradient dS/dx,
// the target density being proportional to exp(-S). Randomness comes from a
// *rand.Rand of math/rand/v2 seeded with PCG, so the same seed gives the same
// chain bit for bit.
//
// Whatever adapts (the leapfrog steps of HMC, the trajectory length of
// AutoTau) adapts during thermalization only and is fixed before the
// first measurement, so that the measured chain has one fixed kernel; the
// adapted values are part of a chain's checkpoint. Costs that steer a
// choice are counted in force evaluations (for pseudofermion HMC, in CG
// iterations, whose number per force varies), not seconds, so that a chain
// does not depend on the machine's load.
package sampler
