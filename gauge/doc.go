// Package gauge is two-dimensional U(1) lattice gauge theory: link angles,
// plaquettes, the Wilson action with its force, the topological charge,
// gauge transformations and exact results from the character expansion.
//
// Conventions, shared with the rest of latflow:
//
//   - Sites are indexed as in package lattice: n = x0*L + x1, direction 1 is
//     the contiguous axis, boundaries are periodic, V = L*L.
//   - A configuration is a []float64 of length 2V. The link leaving site n
//     in direction mu holds the angle theta_mu(n) at index mu*V + n, so all
//     mu = 0 links come first, each block in site order.
//   - The canonical range of a link angle is [0, 2pi) (Wrap, WrapLinks,
//     RandomLinksTo). Functions accept angles outside it; the physics only
//     depends on them modulo 2pi.
//   - The plaquette at site n is oriented counter-clockwise in the (0, 1)
//     plane: P(n) = theta_0(n) + theta_1(n+e0) - theta_0(n+e1) - theta_1(n).
//     PlaquettesTo returns this sum unwrapped.
//   - The Wilson action is S = -beta * sum_n cos P(n), and the target
//     density is proportional to exp(-S). The force is the gradient
//     dS/dtheta (not its negative):
//     dS/dtheta_0(n) = beta [sin P(n) - sin P(n-e1)] and
//     dS/dtheta_1(n) = beta [sin P(n-e0) - sin P(n)].
//   - The topological charge is Q = (1/2pi) sum_n wrap(P(n)) with wrap into
//     [-pi, pi); on a periodic lattice it is an integer. A field with
//     uniform plaquette 2pi k/V has Q = k.
//   - A gauge transformation by site angles alpha maps
//     theta_mu(n) -> theta_mu(n) + alpha(n) - alpha(n+e_mu); plaquettes
//     (modulo 2pi), the action and Q are invariant under it.
//   - Exact results (ExactTorus) use the Haar measure dtheta/(2pi) on every
//     link, so log Z of the flat measure on [0, 2pi) is larger by
//     2V log(2pi).
package gauge
