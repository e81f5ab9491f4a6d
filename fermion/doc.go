// Package fermion is the Wilson Dirac operator of the two-dimensional
// Schwinger model (U(1) gauge theory with two degenerate flavours of Wilson
// fermions): its stencil application to a spinor field, its dense matrix,
// log det(D^dagger D) with its gradient with respect to the link angles,
// conjugate gradient on D^dagger D, and the fermionic observables (the
// chiral condensate and the pion correlator).
//
// Conventions, on top of those of packages lattice and gauge:
//
//   - Sites n = x0*L + x1 as in package lattice; direction 0 (x0) is time,
//     direction 1 (x1) is space. Links are the 2V angles of package gauge,
//     theta_mu(n) at index mu*V + n, with U_mu(n) = exp(i theta_mu(n)).
//   - A spinor field is a []complex128 of length 2V with the spin index
//     fastest: component a of site n at index 2n + a. The dense matrix of
//     D is n x n with n = 2V, row-major: D[(2x+a)*n + 2y+b].
//   - Dirac matrices: gamma_mu for direction mu = 0, 1 are the Pauli
//     matrices sigma_1 and sigma_2 (the gamma_1, gamma_2), and
//     gamma_5 = sigma_3 = diag(1, -1). The other assignment (sigma_2 for
//     direction 0) is the conjugation by (sigma_1 + sigma_2)/sqrt 2, which
//     flips gamma_5: det D, the condensate and the pion correlator are the
//     same with either.
//   - The Wilson operator at hopping parameter kappa (bare mass
//     m = 1/(2 kappa) - 2) is D = 1 - kappa H, with the hopping matrix
//     H(x,y) = sum_mu [(1 - gamma_mu) U_mu(x) delta_(x+mu,y) +
//     (1 + gamma_mu) conj(U_mu(y)) delta_(x-mu,y)].
//   - Fermion boundary conditions: periodic in space, antiperiodic in time.
//     The sign is carried by the time links that leave the last slice
//     x0 = L-1: the operator uses -U_0(n) for them (Operator.Phase). The
//     links themselves, the gauge action and Q are unchanged.
//   - D is gamma_5-hermitian, gamma_5 D gamma_5 = D^dagger, so det D is
//     real. The weight of a gauge field with two flavours is
//     exp(-S_g) det(D)^2 = exp(-S_g) det(D^dagger D); LogDetDD returns
//     log det(D^dagger D) = 2 log |det D|, and GradTo its gradient
//     d/dtheta_mu(n) = 2 Re Tr(D^-1 dD/dtheta_mu(n)) (the gradient of the
//     log weight, not of an action: an action S = S_g - log det D^dagger D
//     has the force dS_g/dtheta - GradTo).
//   - Chiral condensate: -(1/V) Tr D^-1, trace over sites and spins, for one
//     flavour. Pion correlator: C(t) = sum_x1 sum_(a,b) |D^-1((t,x1),a;
//     (0,0),b)|^2, the source at the origin (gamma_5-hermiticity turns the
//     pseudoscalar two-point function into this sum of squares).
//
// # Dense determinant
//
// For L <= MaxDenseL a Determinant factorizes densely. On a bipartite
// lattice (L even) H connects even and odd sites only, so with the even
// sites first D = [[1, -kappa H_eo], [-kappa H_oe, 1]] and
//
//	det D = det M,  M = 1 - kappa^2 H_eo H_oe  (V x V, even sites),
//
// and D^-1 follows from M^-1 in blocks (Determinant.block). Four methods
// were profiled, wall time per call on random links at kappa = 0.26, in
// one run of `go test ./fermion -run XXX -bench LogDetDD -benchtime 10x`
// on the shared 2-core machine (load about 10, so about 2.5 times the CPU
// time; compare within the table only):
//
//	                     log det          log det + gradient
//	method               L=8     L=16     L=8      L=16
//	EvenOdd              0.13ms  1.8ms    0.29ms   8.3ms
//	EvenOddReal (gonum)  0.71ms  18ms     0.80ms   33ms
//	Full                 0.39ms  11ms     0.62ms   43ms
//	FullReal (gonum)     3.0ms   283ms    4.3ms    805ms
//
// The complex LU of this package runs its row updates on gonum's Zaxpy
// assembly and skips zero multipliers, and M (each row couples an even site
// to the 9 even sites within two hops) keeps much of its sparsity under
// elimination in site order, so EvenOdd beats gonum's dense real LU by
// more than the factor 8 in flops of the even-odd reduction. EvenOdd is
// the default (DefaultMethod). The gradient needs the whole M^-1, O(V^3)
// (most of the second column), after which it costs O(V). Factorize keeps
// its work when called again with the same links.
//
// # Conjugate gradient and pseudofermions
//
// CG solves D^dagger D x = b from x = 0 to a relative residual Tol; the
// stencil D^dagger D costs about 55 ns per site (BenchmarkApplyDD).
// PseudofermionAction is S_g + phi^dagger (D^dagger D)^-1 phi with its
// heat-bath Refresh and its force by one CG; its even-odd form
// (NewEvenOddPseudofermionAction) puts phi on the even sites with M^dagger M
// (Operator.ApplySchurTo, NewSchurCG), whose CG needs about half the
// iterations at the same cost each (BenchmarkPseudofermionForce, L = 16,
// kappa = 0.2 and 0.24: 51, 58 plain against 21, 24 even-odd on the free
// field, 54, 86 against 27, 44 on a hot start);
// ExactAction is S_g - log det(D^dagger D) with the dense determinant.
// Both are lattice.Actions; sampler.RefreshHMCUpdate runs pseudofermion
// HMC. Measurer computes the pion correlator and a noise estimate of the
// condensate by CG at any L, EffectiveMassTo the cosh mass of a correlator.
package fermion
