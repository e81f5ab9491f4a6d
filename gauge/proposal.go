package gauge

import (
	"fmt"
	"math"
	"math/rand/v2"

	"latflow/lattice"
)

// ConstraintMode says which plaquette a PlaquetteProposal leaves to the
// constraint sum_n P(n) = 0 mod 2pi.
type ConstraintMode int

const (
	// ConstraintRandom (the default) picks the constrained plaquette k
	// uniformly at random for each sample. Its density is the mixture
	// (1/V) sum_k q_k, which is translation invariant, and its IMH
	// acceptance grows with the volume.
	ConstraintRandom ConstraintMode = iota
	// ConstraintFixed always constrains the plaquette at site k = V-1. Its
	// density is q_(V-1); its IMH acceptance does not depend on the volume.
	ConstraintFixed
	// ConstraintSpread draws all V plaquettes and spreads the defect of
	// their sum evenly: every plaquette is shifted by the same c, the sum
	// wrapped into [-pi, pi) divided by V. Its density is an integral over
	// c; it is translation invariant, and its IMH acceptance is the
	// highest of the three modes and grows with the volume towards 1, at
	// every beta.
	ConstraintSpread
)

// String returns "random", "fixed" or "spread".
func (m ConstraintMode) String() string {
	switch m {
	case ConstraintRandom:
		return "random"
	case ConstraintFixed:
		return "fixed"
	case ConstraintSpread:
		return "spread"
	}
	return fmt.Sprintf("ConstraintMode(%d)", int(m))
}

// ParseConstraintMode returns the mode named name, as String writes it:
// "random", "fixed" or "spread".
func ParseConstraintMode(name string) (ConstraintMode, error) {
	for _, m := range []ConstraintMode{ConstraintRandom, ConstraintFixed, ConstraintSpread} {
		if name == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("gauge: constraint mode %q, want %q, %q or %q", name, ConstraintRandom, ConstraintFixed, ConstraintSpread)
}

// PlaquetteProposal is the independent-plaquette proposal for the Wilson
// action of 2D U(1) on the periodic L x L torus: every plaquette but one is
// drawn from its von Mises marginal exp(beta cos P) / (2pi I0(beta)), the
// remaining one, k, follows from the constraint sum_n P(n) = 0 mod 2pi, the
// Polyakov loops and a gauge are uniform (see the package documentation
// for the construction and the acceptance figures). ConstraintSpread
// draws all V plaquettes instead and shifts each by the same c, spreading
// the constraint's defect over the lattice.
//
// On the flat measure of [0, 2pi)^(2V), constraining plaquette k gives the
// density
//
//	q_k(theta) = (2pi)^-(V+1) prod_(n != k) exp(beta cos P(n)) / (2pi I0(beta)),
//
// which is what ConstraintFixed samples (k = V-1); ConstraintRandom
// samples the mixture
//
//	q(theta) = (1/V) sum_k q_k(theta)
//	         = (2pi)^-(V+1) (2pi I0(beta))^-(V-1) exp(beta sum_n cos P(n))
//	           * (1/V) sum_k exp(-beta cos P(k)).
//
// ConstraintSpread has the density
//
//	q(theta) = (2pi)^-(V+1) V int_(-pi/V)^(pi/V) prod_n exp(beta cos(P(n) + c)) / (2pi I0(beta)) dc,
//
// one integral over the shift c, computed on Gauss-Legendre panels graded
// to the width of its peak, to about 1e-13 relative for any beta.
//
// A PlaquetteProposal is immutable and all its methods are safe for
// concurrent use (each goroutine with its own *rand.Rand); none allocates.
type PlaquetteProposal struct {
	geom *lattice.Geometry
	beta float64
	mode ConstraintMode
	vm   vonMises
	// logNorm is log of (2pi)^-(V+1) (2pi I0(beta))^-(V-1); for
	// ConstraintSpread it is log of (2pi)^-(V+1) V (2pi I0(beta))^-V.
	logNorm float64
	logV    float64
	// spread is the rule for the integral over the shift of
	// ConstraintSpread.
	spread spreadRule
}

// maxProposalL bounds the lattice extent of PlaquetteProposal and
// ExactSampler: the lattice package indexes sites with int32.
const maxProposalL = 46340 // floor(sqrt(2^31 - 1))

// NewPlaquetteProposal returns the proposal for the Wilson action at
// coupling beta on the L x L torus. It returns an error unless
// 2 <= L <= 46340 and beta is finite and > 0, or for an unknown mode.
func NewPlaquetteProposal(L int, beta float64, mode ConstraintMode) (*PlaquetteProposal, error) {
	g, err := plaquetteGeometry("plaquette proposal", L, beta)
	if err != nil {
		return nil, err
	}
	if mode != ConstraintRandom && mode != ConstraintFixed && mode != ConstraintSpread {
		return nil, fmt.Errorf("gauge: plaquette proposal: unknown constraint mode %d, want random, fixed or spread", int(mode))
	}
	V := float64(g.V)
	logTwoPi := math.Log(twoPi)
	p := &PlaquetteProposal{
		geom:    g,
		beta:    beta,
		mode:    mode,
		vm:      newVonMises(beta),
		logNorm: -(V+1)*logTwoPi - (V-1)*(logTwoPi+LogI0(beta)),
		logV:    math.Log(V),
	}
	if mode == ConstraintSpread {
		p.logNorm = -(V+1)*logTwoPi + p.logV - V*(logTwoPi+LogI0(beta))
		p.spread = newSpreadRule(g.V)
	}
	return p, nil
}

// plaquetteGeometry validates L and beta for the plaquette samplers and
// returns the lattice.
func plaquetteGeometry(what string, L int, beta float64) (*lattice.Geometry, error) {
	if L < 2 || L > maxProposalL {
		return nil, fmt.Errorf("gauge: %s: L=%d, want 2 <= L <= %d", what, L, maxProposalL)
	}
	if !(beta > 0) || math.IsInf(beta, 1) || beta > vonMisesMaxKappa {
		return nil, fmt.Errorf("gauge: %s: beta=%g, want a finite beta > 0", what, beta)
	}
	return lattice.NewGeometry(L), nil
}

// Geometry returns the lattice of the proposal.
func (p *PlaquetteProposal) Geometry() *lattice.Geometry { return p.geom }

// Beta returns the coupling.
func (p *PlaquetteProposal) Beta() float64 { return p.beta }

// Mode returns the constraint mode.
func (p *PlaquetteProposal) Mode() ConstraintMode { return p.mode }

// SampleTo draws a configuration into dst (length 2V), wrapped into
// [0, 2pi), and returns its log density log q under the proposal's mode (the
// value LogDensity(dst) gives, up to rounding).
//
// The draws from rng, in order (same seed, same samples bit for bit):
//
//  1. ConstraintRandom only: k = rng.IntN(V), the constrained plaquette.
//  2. The plaquettes P(n) for n = 0 .. V-1 in increasing order, skipping k,
//     each a von Mises draw (two rng.Float64 per try, see VonMises);
//     then P(k) = -sum of the others, wrapped into [-pi, pi).
//     ConstraintSpread skips no plaquette: it draws all V, in the same
//     way, and then subtracts from each the shift c = s/V, s the sum of
//     the V draws wrapped into [-pi, pi) (see ConstraintSpread).
//  3. The Polyakov loops w0 and w1 through site 0, in that order, each
//     2pi rng.Float64().
//  4. The tree links theta_1(x0, x1), x1 < L-1, in increasing site order,
//     then the tree links theta_0(x0, 0), x0 = 0 .. L-2, each
//     2pi rng.Float64(); this is the uniform random gauge (see
//     MaximalTreeTo).
//
// The other links follow without further draws.
func (p *PlaquetteProposal) SampleTo(dst []float64, rng *rand.Rand) (logQ float64) {
	g := p.geom
	checkLinks("PlaquetteProposal.SampleTo", g, dst)
	if rng == nil {
		panic("gauge: PlaquetteProposal.SampleTo: nil *rand.Rand")
	}
	V := g.V
	if p.mode == ConstraintSpread {
		logQ = p.spreadPlaquettesTo(dst[:V], rng)
		randomTreeTo(dst, g.L, rng)
		return logQ
	}
	k := V - 1
	if p.mode == ConstraintRandom {
		k = rng.IntN(V)
	}
	random := p.mode == ConstraintRandom
	plaq := dst[:V]
	sum, sumCos := 0.0, 0.0
	lse := newLogSumExp()
	for n := range V {
		if n == k {
			continue
		}
		x, c, _ := p.vm.draw(rng)
		plaq[n] = x
		sum += x
		sumCos += c
		if random {
			lse.add(-p.beta * c)
		}
	}
	plaq[k] = wrapPi(-sum)
	if random {
		c := math.Cos(plaq[k])
		lse.add(-p.beta * c)
		logQ = p.logNorm + p.beta*(sumCos+c) + lse.value() - p.logV
	} else {
		logQ = p.logNorm + p.beta*sumCos
	}
	randomTreeTo(dst, g.L, rng)
	return logQ
}

// randomTreeTo completes dst, whose first V entries hold the plaquettes, with
// uniform Polyakov loops and uniform tree links (draws 3 and 4 of
// PlaquetteProposal.SampleTo).
func randomTreeTo(dst []float64, L int, rng *rand.Rand) {
	V := L * L
	w0 := twoPi * rng.Float64()
	w1 := twoPi * rng.Float64()
	t1 := dst[V : 2*V]
	for row := 0; row < V; row += L {
		for x1 := range L - 1 {
			t1[row+x1] = twoPi * rng.Float64()
		}
	}
	treeSolve(dst, L, w0, w1, func(int) float64 { return twoPi * rng.Float64() })
}

// LogDensity returns log q(links) on the flat measure of [0, 2pi)^(2V) for the
// proposal's mode (see PlaquetteProposal). It depends on the links only
// through the plaquettes, so it is gauge invariant and 2pi-periodic in every
// link. The mixture of ConstraintRandom is summed in log space (relative to
// its largest term), and the integral over the shift of ConstraintSpread
// is computed as a logarithm, so any beta is safe from overflow.
// LogDensity does not allocate and is safe for concurrent use.
func (p *PlaquetteProposal) LogDensity(links []float64) float64 {
	g := p.geom
	checkLinks("PlaquetteProposal.LogDensity", g, links)
	V := g.V
	t0, t1 := links[:V], links[V:2*V]
	up0, up1 := g.UpTable(0)[:V], g.UpTable(1)[:V]
	switch p.mode {
	case ConstraintSpread:
		sumCos, sumSin := 0.0, 0.0
		for n := range V {
			s, c := math.Sincos(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
			sumCos += c
			sumSin += s
		}
		return p.spreadLogDensity(sumCos, sumSin, 0)
	case ConstraintFixed:
		s := 0.0
		for n := range V - 1 {
			s += math.Cos(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
		}
		return p.logNorm + p.beta*s
	}
	s := 0.0
	lse := newLogSumExp()
	for n := range V {
		c := math.Cos(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
		s += c
		lse.add(-p.beta * c)
	}
	return p.logNorm + p.beta*s + lse.value() - p.logV
}

// ScoreTo writes the score d log q / d theta (the gradient of LogDensity)
// into dst, which has the length of links (2V) and must not share memory
// with it. With g(n) = d log q / d P(n),
//
//	fixed:  g(n) = -beta sin P(n) for n != V-1, g(V-1) = 0,
//	random: g(n) = -beta sin P(n) (1 - r(n)),
//	        r(n) = exp(-beta cos P(n)) / sum_k exp(-beta cos P(k)),
//	spread: g(n) = -beta (sin P(n) <cos c> + cos P(n) <sin c>),
//
// the averages over the shift c with the weight prod_n vM(P(n) + c) (see
// ConstraintSpread), and each link collects g from its two plaquettes:
// d/dtheta_0(n) = g(n) - g(n-e1), d/dtheta_1(n) = g(n-e0) - g(n).
// ScoreTo uses dst as its scratch, does not allocate and is safe for
// concurrent use.
func (p *PlaquetteProposal) ScoreTo(dst, links []float64) {
	g := p.geom
	checkLinks("PlaquetteProposal.ScoreTo", g, links)
	if len(dst) != len(links) {
		panic(fmt.Sprintf("gauge: PlaquetteProposal.ScoreTo: len(dst)=%d, want %d", len(dst), len(links)))
	}
	if &dst[0] == &links[0] {
		panic("gauge: PlaquetteProposal.ScoreTo: dst and links share memory")
	}
	V, L := g.V, g.L
	beta := p.beta
	t0, t1 := links[:V], links[V:2*V]
	g0, g1 := dst[:V], dst[V:2*V]
	up0, up1 := g.UpTable(0)[:V], g.UpTable(1)[:V]
	dn0 := g.DownTable(0)[:V]
	switch p.mode {
	case ConstraintSpread:
		// sin P(n) in g0, cos P(n) in g1.
		sumCos, sumSin := 0.0, 0.0
		for n := range V {
			s, c := math.Sincos(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
			g0[n], g1[n] = s, c
			sumCos += c
			sumSin += s
		}
		_, _, mc, ms := p.spread.integral(beta*math.Hypot(sumCos, sumSin), math.Atan2(sumSin, sumCos), true)
		for n := range V {
			g0[n] = -beta * (g0[n]*mc + g1[n]*ms)
		}
	case ConstraintFixed:
		for n := range V {
			g0[n] = -beta * math.Sin(t0[n]+t1[up0[n]]-t0[up1[n]]-t1[n])
		}
		g0[V-1] = 0
	default:
		// Pass 1: sin P(n) parked in g1, x(n) = -beta cos P(n) in g0, and
		// the largest x.
		xMax := math.Inf(-1)
		for n := range V {
			s, c := math.Sincos(t0[n] + t1[up0[n]] - t0[up1[n]] - t1[n])
			g1[n] = s
			x := -beta * c
			g0[n] = x
			xMax = max(xMax, x)
		}
		// Pass 2: the terms of the mixture relative to the largest one.
		sum := 0.0
		for n := range V {
			e := math.Exp(g0[n] - xMax)
			g0[n] = e
			sum += e
		}
		// Pass 3: g(n).
		inv := 1 / sum
		for n := range V {
			g0[n] = -beta * g1[n] * (1 - g0[n]*inv)
		}
	}
	// d/dtheta_1(n) = g(n-e0) - g(n).
	for n := range V {
		g1[n] = g0[dn0[n]] - g0[n]
	}
	// d/dtheta_0(n) = g(n) - g(n-e1), in place along each row, carrying the
	// old g of the left neighbour from the periodic image x1 = L-1.
	for r := 0; r < V; r += L {
		row := g0[r : r+L]
		prev := row[L-1]
		for x1, cur := range row {
			row[x1] = cur - prev
			prev = cur
		}
	}
}

// logSumExp accumulates log sum_i exp(x_i) in one pass, rescaling the sum
// whenever a larger x_i arrives, so that nothing overflows or underflows to
// zero.
type logSumExp struct{ max, sum float64 }

func newLogSumExp() logSumExp { return logSumExp{max: math.Inf(-1)} }

func (l *logSumExp) add(x float64) {
	if x <= l.max {
		l.sum += math.Exp(x - l.max)
		return
	}
	l.sum = l.sum*math.Exp(l.max-x) + 1
	l.max = x
}

func (l *logSumExp) value() float64 { return l.max + math.Log(l.sum) }
