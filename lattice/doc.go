// Package lattice holds the geometry of the periodic two-dimensional L x L
// lattice, the masks used by the flows, and the phi^4 action with its force.
//
// Conventions, shared by every package of latflow:
//
//   - A site x = (x0, x1), 0 <= x0, x1 < L, has the index n = x0*L + x1, so
//     direction 1 is the fast (contiguous) axis and a field on sites is an
//     L x L row-major array, the layout of a PyTorch tensor of shape (L, L).
//   - Direction mu = 0 moves along x0 and mu = 1 along x1; e_mu is the unit
//     vector. Boundaries are periodic in both directions.
//   - Direction 0 is "time" wherever time slices are used (two-point
//     functions): the slice t holds the sites with x0 = t.
//   - The phi^4 action is
//     S = sum_x [ -2 J sum_mu phi(x) phi(x+e_mu) + A phi(x)^2 + B phi(x)^4 ].
//     The standard parametrization (m2, lambda)
//     has J = 1, A = 4 + m2, B = lambda; the hopping parametrization
//     (kappa, lambda) has J = kappa, A = 1 - 2 lambda, B = lambda.
//     The force is the gradient dS/dphi (not its negative).
package lattice
