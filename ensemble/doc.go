// Package ensemble names what a Monte Carlo run samples: the target of a
// chain, a flow or a dataset, made of the theory, the lattice extent L, the
// couplings and (for phi^4) their parametrization.
//
// Conventions:
//
//   - Theory is "u1" (two-dimensional U(1) gauge theory with the Wilson
//     action S = -beta sum_n cos P(n)) or "phi4" (two-dimensional phi^4
//     theory) or "schwinger" (the Schwinger model: the U(1) links with two
//     degenerate flavours of Wilson fermions, package fermion; L even,
//     0 < kappa <= 0.5); the lattice is the periodic L x L torus with V = L*L sites.
//   - Couplings are named as on the command line: "beta" for U(1), "beta" and "kappa" for the Schwinger model; "m2"
//     and "lambda" in the standard phi^4 parametrization, "kappa" and
//     "lambda" in the hopping one (see package lattice for both actions).
//   - Parametrization is "standard" or "hopping" for phi^4 and empty for
//     U(1) and the Schwinger model.
//   - A configuration is a []float64: 2V link angles in [0, 2pi) for U(1) and the Schwinger model
//     (index mu*V + n, package gauge), V field values for phi^4 (index n).
//
// A Target is a value; its JSON form (theory, L, couplings, parametrization)
// is shared by model files, checkpoints and reports.
package ensemble
