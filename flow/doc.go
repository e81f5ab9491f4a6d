// Package flow holds latflow's normalizing flows: the RealNVP flow for
// phi^4 theory (affine couplings on a checkerboard) and the
// gauge-equivariant flow for U(1) gauge theory (plaquette couplings with a
// mixture of non-compact projections), their model files, and the layer
// contract that makes fast path gradients possible.
//
// Conventions:
//
//   - A flow maps a base sample z to x = T(z); log q(x) = log q0(z) -
//     sum_l log|det J_l|. Log-densities and log-determinants are float64
//     always; fields are []T with T float32 or float64.
//   - A field is one sample laid out as in packages lattice and gauge
//     (phi^4: V sites; U(1): 2V links, index mu*V + n). A batch is B
//     fields back to back.
//   - Fast path (physics.md section 4): a Layer's Forward optionally
//     carries s = d log q / dx through the layer,
//     s' = J^-T (s - d/dx log|det J|), in the same call, from quantities
//     the forward pass already has and with at most one VJP through the
//     conditioner.
//   - Parameters: a flow's parameter vector is its layers' Params()
//     concatenated in layer order (Flow.GetParams); gradients have the
//     same layout. Model files (model.go) store it as float64.
//   - Batches run in parallel over samples (nn.ParallelFor); base samples
//     are drawn serially in sample order, so results do not depend on the
//     number of workers. Training keeps the tapes of a batch in a Pass:
//     Flow.Forward then Flow.Backward for the sampling direction (reverse
//     KL), Flow.InverseForward then Flow.InverseBackward for the inverse
//     direction from data to the base (forward KL, with the pullback score
//     of Proposition 4.1 carried through InverseForward).
package flow
