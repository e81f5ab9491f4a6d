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
//   - Base distributions (Base, Config.Base): uniform on [0, 2pi) per link
//     for U(1) (the default), N(0, 1) per site for phi^4 (the default) or
//     the momentum-space Gaussian of phi^4 (GaussKBase, Config.Base =
//     "gauss-k" with the propagator G(k) = <|phi_k|^2> in
//     Config.BasePropagator, measured by MeasurePropagator on a short HMC
//     run), or for U(1) the
//     independent-plaquette proposal of package gauge (PlaquetteBase,
//     Config.Base = "plaquettes" at Config.BaseBeta, constraint mode
//     Config.BaseMode): von Mises plaquettes, one plaquette fixed by the
//     constraint (mode "random" or "fixed") or the constraint's defect
//     spread evenly over all of them (mode "spread", the highest
//     acceptance), uniform Polyakov loops and gauge, so that an untrained
//     flow already proposes with the proposal's independence-Metropolis
//     acceptance and the layers only learn what it gets wrong. All base
//     densities are on the flat measure (for U(1) of [0, 2pi)^(2V)), so
//     log Z estimates from any base compare with the flat-measure log Z.
//     Every estimator works with every base: log q0 and its score
//     d log q0/dz, which starts the fast-path recursion, come from the
//     Base; the base beta belongs to the architecture, so a model keeps it
//     when it proposes at another beta.
//   - phi^4 couplings (Config.Coupling): "affine" (RealNVPCoupling, the
//     default and the meaning of an empty field, so model files written
//     before the field load as affine) or "spline" (SplineCoupling): the
//     monotone rational-quadratic spline of Durkan et al. (2019) with
//     Config.Bins bins on [-Config.SplineBound, Config.SplineBound] and the
//     identity outside, its 3K-1 parameters per active site read from
//     the same CNN conditioner (identity output activation; zero outputs
//     are the identity map). Both honour the whole Layer and InverseLayer
//     contract, so all six gradient estimators train either.
//   - Block couplings (Config.Blocks, phi^4): one BlockCoupling per entry
//     after the couplings, y = x + U(g(P x) - P x) with P the average over
//     b x b blocks, U its copy back to the sites of each block and g a
//     coupling of the coarse lattice; log|det| = log|det J_g|, and every
//     score and cotangent is g's on the block sums, spread back. The
//     parameters follow those of the couplings.
//   - Spectral layer (Config.Spectral, phi^4): a SpectralScale after the
//     block couplings, y_k = exp(theta(k)) x_k in momentum space with
//     theta bilinear between nodes pi/Spectral apart over the Brillouin
//     zone's wedge, the same parameters at every L; log|det| = sum of
//     theta(k), constant in x. Zero parameters are the identity.
//   - Zero-mode layer (Config.ZeroModeBins, phi^4): a ZeroModeSpline
//     after the couplings, block couplings and spectral layer, y = x + f(m) - m with m the mean of x and f a
//     monotone rational-quadratic spline with its own 3K-1 parameters
//     (zero: the identity), last in the parameter vector; log|det| =
//     log f'(m). It reshapes the distribution of the magnetization, which
//     local couplings model poorly at the critical point, and leaves every
//     other Fourier mode unchanged.
//   - Z2 symmetrization (Config.Z2, phi^4): Sample, SampleScore and
//     LogProb are those of q_s(x) = (q(x) + q(-x))/2; the training passes
//     train q (z2.go says why).
//   - Initialization (Config.Init): "random" (the PyTorch default for
//     Conv2d, the default) or "identity", the same draws with the last
//     convolution of every conditioner zeroed, so every coupling starts
//     as the identity (NCP with s = 0 and t = 0; affine with s = t = 0) and
//     the untrained flow is its base. The gradient at the identity reaches
//     the last convolutions, so training leaves it.
//   - Batches run in parallel over samples (nn.ParallelFor); base samples
//     are drawn serially in sample order, so results do not depend on the
//     number of workers; log q0 and the base score are evaluated per
//     sample in the workers (a float32 flow through float64 scratch per
//     worker). Training keeps the tapes of a batch in a Pass:
//     Flow.Forward then Flow.Backward for the sampling direction (reverse
//     KL), Flow.InverseForward then Flow.InverseBackward for the inverse
//     direction from data to the base (forward KL, with the pullback score
//     of Proposition 4.1 carried through InverseForward).
//   - A model file records the target it was trained for beside the flow's
//     Config; the flow's theory is TheoryFor(target theory): the U(1) flow
//     serves both "u1" and "schwinger" targets (the Schwinger model's
//     configurations are U(1) links; its action adds -log det(D^dagger D)).
package flow
