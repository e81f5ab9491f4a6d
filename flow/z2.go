package flow

import (
	"math"
	"math/rand/v2"

	"latflow/nn"
)

// Z2 symmetrization (Config.Z2, phi^4 only; physics.md of the project,
// docs/physics.md). The phi^4 action is even, S(-x) = S(x), and a flow q
// trained by the reverse KL tends to settle in one of the two vacua. The
// symmetrized density
//
//	q_s(x) = (q(x) + q(-x)) / 2
//
// is normalized, even, and is sampled exactly by drawing x from q and
// flipping its sign with probability 1/2; log q_s(x) =
// logaddexp(log q(x), log q(-x)) - log 2, the second term from one
// inverse pass of -x. Its score is
//
//	d log q_s/dx = p(x) s(x) - (1 - p(x)) s(-x),  p(x) = q(x) / (2 q_s(x)),
//
// with s = d log q/dx (the fast-path score, at -x from a forward pass of
// T^-1(-x)); it is odd in x.
//
// Where it applies: Sample, SampleScore and LogProb of a Flow with
// Config.Z2 are those of q_s, so independence Metropolis (package sampler)
// and the fresh-sample evaluations of training propose from q_s. The
// training passes (Flow.Forward, Backward, InverseForward,
// InverseBackward, BaseScore) stay those of q: the estimators train q,
// not q_s. This is deliberate. For an even target p, the reflection
// leaves KL(q|p) unchanged and KL is convex, so KL(q_s|p) <= KL(q|p): the
// reverse KL of q bounds that of q_s, and a q that sits in one vacuum
// (the mode-seeking failure of the reverse KL that symmetrization
// repairs) is a good q. Training q_s itself would put log q(-x) and its
// parameter gradient in every estimator: one inverse pass per sample and
// a backward pass through it, which the fast path (forward passes only,
// no inverse) is built to avoid, and the score of q_s above needs a
// further forward pass. The forward-KL estimators train q on data from p;
// p is even, so they fit both vacua either way.

// drawFlips draws the sign flips of B samples of a Z2-symmetrized flow
// from rng, in sample order; f.mu must be held. Other flows draw nothing.
func (f *Flow[T]) drawFlips(rng *rand.Rand, B int) {
	if !f.Config.Z2 {
		return
	}
	if cap(f.flip) < B {
		f.flip = make([]bool, B)
	}
	f.flip = f.flip[:B]
	for i := range f.flip {
		f.flip[i] = rng.Uint64()&1 == 1
	}
}

// symmetrize turns the sample x of q (log q(x) = lq, score s unless nil)
// into one of q_s: it returns log q_s(x), writes the score of q_s into s,
// and negates x and s if flip. It uses st's scratch and tapes.
func (f *Flow[T]) symmetrize(st *workerState[T], x, s []T, lq float64, flip bool) float64 {
	lm, err := f.inverseLogQ(st, x, true)
	if err != nil {
		// Only an implicitly inverted layer can fail; RealNVP cannot.
		lm = math.NaN()
	}
	ls := logMeanExp2(lq, lm)
	if s != nil {
		// The score of q at -x: z' = T^-1(-x) is in st.a.
		copy(st.c, st.a)
		f.forwardSample(st.tapes, st.c, st.c, st.s2, st.a, st.b, st.base)
		p := T(math.Exp(lq - ls - math.Ln2))
		for k, v := range s {
			s[k] = p*v - (1-p)*st.s2[k]
		}
	}
	if flip {
		negate(x)
		if s != nil {
			negate(s)
		}
	}
	return ls
}

// logMeanExp2 returns log((exp(a) + exp(b)) / 2) without overflow.
func logMeanExp2(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	m := math.Max(a, b)
	if math.IsInf(m, -1) {
		return m
	}
	return m + math.Log1p(math.Exp(-math.Abs(a-b))) - math.Ln2
}

func negate[T nn.Float](x []T) {
	for k, v := range x {
		x[k] = -v
	}
}
