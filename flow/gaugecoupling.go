package flow

import (
	"fmt"
	"math"

	"latflow/gauge"
	"latflow/internal/vmath"
	"latflow/lattice"
	"latflow/nn"
)

// GaugeCoupling is one gauge-equivariant coupling layer of the U(1) flow
// (Kanwar et al., arXiv 2003.06413; Albergo et al., arXiv 2101.08176) on the
// 2V link angles of an L x L lattice, with the stripe masks of
// lattice.NewStripeMasks.
//
// The conditioner is a circular CNN with channels [2, hidden..., K+1],
// LeakyReLU after the hidden layers and no activation on the output (as in
// the tutorial, use_final_tanh=False). Its input is (cos P, sin P) on the
// frozen plaquettes and 0 on the others (the tutorial feeds
// (cos, sin)(P masked to 0), i.e. (1, 0) off the frozen plaquettes; zero
// marks them unambiguously). At an active plaquette n its outputs are K raw
// log-scales s_k(n) (channels 0..K-1) and a raw shift t(n) (channel K).
//
// An active plaquette P(n), wrapped to [0, 2pi), goes to
// P' = g(P) + t mod 2pi with g the NCP mixture (see ncp.go), and the change
// is carried by its active link a(n), the one link of P(n) in
// Masks().ActiveLinks, entering P(n) with sign sigma (+1 for theta_0(n) when
// Mu = 0, -1 for theta_1(n) when Mu = 1):
//
//	y_a = x_a + sigma (g(P) + t - P)  mod 2pi,
//
// all other links unchanged. Then P(y) = P' modulo 2pi.
//
// Triangularity: the active links A and the rest R partition the links;
// y_R = x_R, and y_a depends on A only through x_a itself, because a(n)
// lies in P(n) and in one passive plaquette, no other link of P(n) is
// active, and no frozen plaquette (the conditioner input) contains an
// active link. With dP/dx_a = sigma, dy_a/dx_a = 1 + sigma^2 (g'(P) - 1) =
// g'(P), so J = [[D, C], [0, 1]] with D = diag g'(P(n)) and
// log|det J| = sum_n log g'(P(n)).
//
// Fast path: J^T s' = u with u = s - d/dx log|det J| gives
//
//	s'_a = (s_a - sigma (dg'/dP)/g') / g'  on A,
//	s'_R = s_R - [d_R log|det J| + C^T s'_A]  on R.
//
// The bracket is the VJP of x -> (y_A, log|det J|) with cotangents
// w = s'_A on y_A and lambda = 1 on log|det J|, restricted to R. It has a
// direct part through the angle of each active plaquette (reaching its
// three other links), the cotangent w sigma (g' - 1) + lambda (dg'/dP)/g'
// on P(n), and a conditioner part through s_k and t, the cotangents
// w sigma dg/ds_k + lambda (dg'/ds_k)/g' and w sigma, pulled through the
// CNN by one nn.Net.Backward onto (cos P, sin P) of the frozen plaquettes
// and from there onto P. Plaquette cotangents go to links by the transpose
// of P = x_0(n) + x_1(n+e0) - x_0(n+e1) - x_1(n). Backward is the same VJP
// with w = gy_A and lambda = gld, plus the identity on gy (on A the sum is
// gy_a g' + gld sigma (dg'/dP)/g', the diagonal part).
//
// Inverse direction (InverseLayer). The inverse solves, per active
// plaquette, g(p; s) + t = P(n)(y) modulo 2pi for p = P(n)(x) (ncpInverse)
// and sets x_a = y_a - sigma (P(n)(y) - p), x_R = y_R; the conditioner
// sees the same frozen plaquettes in x and y, so after an inverse the tape
// holds exactly the forward pass at x. The pullback score of
// InverseForward, s_x = J^T s_y + d/dx log|det J|, is then the VJP of
// x -> (y, log|det J|) with cotangents s_y and 1, i.e. Backward with
// gy = s_y, gld = 1 and no parameter gradient: no solve, one
// nn.Net.Backward. InverseBackward differentiates y -> (x(y), log|det J|)
// by the implicit function theorem at the root p,
//
//	g'(p) dp = dP(n)(y) - sum_k (dg/ds_k) ds_k - dt,
//
// which turns it into the forward VJP with lambda = gld and
// w = -(gx_a + sigma gld (dg'/dP)/g')/g' (derivation at InverseBackward).
//
// A GaugeCoupling is read-only after construction except for its parameters
// (Params, a view of the conditioner's) and its pool of per-call workspace
// (safe for concurrent use); Forward, Inverse, Backward, InverseForward and
// InverseBackward may run concurrently with one tape per goroutine.
type GaugeCoupling[T nn.Float] struct {
	geom  *lattice.Geometry
	masks lattice.StripeMasks
	net   *nn.Net[T]
	mix   int
	// sigma is the sign of the active link in its active plaquette.
	sigma float64
	// active lists the active plaquette sites; activeLink[i] is the link
	// index of the active link of plaquette active[i].
	active, activeLink []int32
	// frozen lists the frozen plaquette sites.
	frozen []int32
	// activePlaq[i] and frozenPlaq[j] are the link indices of the
	// plaquettes active[i] and frozen[j]: P = x[0] + x[1] - x[2] - x[3].
	activePlaq, frozenPlaq [][4]int32
	// scratch holds the per-call workspace (gaugeScratch), so that tapes
	// hold only what a backward pass needs.
	scratch *scratchPool[gaugeScratch[T]]
}

var (
	_ Layer[float64]        = (*GaugeCoupling[float64])(nil)
	_ InverseLayer[float64] = (*GaugeCoupling[float64])(nil)
	_ InverseLayer[float32] = (*GaugeCoupling[float32])(nil)
)

// NewGaugeCoupling returns coupling layer number layer (>= 0) of a U(1)
// flow on g, with masks lattice.NewStripeMasks(g, layer) and a conditioner
// of channels [2, hidden..., mixtures+1] and the given odd kernel size. The
// parameters are zero; fill Params or call Net().InitRandom. It panics
// unless g.L is a multiple of 4, mixtures >= 1 and the network shape is
// valid.
func NewGaugeCoupling[T nn.Float](g *lattice.Geometry, layer, mixtures int, hidden []int, kernel int) *GaugeCoupling[T] {
	if g == nil {
		panic("flow: NewGaugeCoupling: nil geometry")
	}
	if g.L%4 != 0 {
		panic(fmt.Sprintf("flow: NewGaugeCoupling: L=%d, want a multiple of 4", g.L))
	}
	if mixtures < 1 {
		panic(fmt.Sprintf("flow: NewGaugeCoupling: mixtures=%d, want >= 1", mixtures))
	}
	ch := make([]int, 0, len(hidden)+2)
	ch = append(ch, 2)
	ch = append(ch, hidden...)
	ch = append(ch, mixtures+1)
	c := &GaugeCoupling[T]{
		geom:  g,
		masks: lattice.NewStripeMasks(g, layer),
		net:   nn.NewNet[T](g.L, ch, kernel, nn.LeakyReLU, nn.Identity),
		mix:   mixtures,
		sigma: 1,
	}
	if c.masks.Mu == 1 {
		c.sigma = -1
	}
	c.scratch = newScratchPool(c.newScratch)
	plaq := func(n int) [4]int32 {
		return [4]int32{int32(n), int32(g.V + g.Up(0, n)), int32(g.Up(1, n)), int32(g.V + n)}
	}
	for n := range g.V {
		switch {
		case c.masks.Active[n]:
			c.active = append(c.active, int32(n))
			c.activeLink = append(c.activeLink, int32(c.masks.Mu*g.V+n))
			c.activePlaq = append(c.activePlaq, plaq(n))
		case c.masks.Frozen[n]:
			c.frozen = append(c.frozen, int32(n))
			c.frozenPlaq = append(c.frozenPlaq, plaq(n))
		}
	}
	return c
}

// Size returns the number of links, 2V.
func (c *GaugeCoupling[T]) Size() int { return 2 * c.geom.V }

// Params returns the conditioner's flat parameter slice (a view).
func (c *GaugeCoupling[T]) Params() []T { return c.net.Params() }

// Net returns the conditioner network.
func (c *GaugeCoupling[T]) Net() *nn.Net[T] { return c.net }

// Masks returns the stripe masks of the layer (shared; do not modify).
func (c *GaugeCoupling[T]) Masks() lattice.StripeMasks { return c.masks }

// Mixtures returns the number K of NCP components.
func (c *GaugeCoupling[T]) Mixtures() int { return c.mix }

// gaugeTape is the Tape of a GaugeCoupling.
type gaugeTape[T nn.Float] struct {
	V, K int
	net  *nn.Tape[T]
	// in is the conditioner input (cos P, sin P on frozen plaquettes, 0
	// elsewhere). out is the conditioner output after Forward and Inverse
	// and the output cotangent inside Backward.
	in, out []T
	// Per active plaquette i: dg = g'(P), dlg = d log g'/dP;
	// dgds[k*na+i] = dg/ds_k, dlgds[k*na+i] = d log g'/ds_k (k-major, as
	// the scales of the batched NCP functions, which hold exp(s_k) in dgds
	// until the derivatives replace them).
	dg, dlg, dgds, dlgds []float64
	done                 bool

	// The workspace of the call in progress, from the layer's pool (see
	// attach), nil between calls: p the wrapped active plaquettes, w the
	// cotangents on the active links, cp the plaquette cotangents (and
	// scratch of the elementwise work), gin the conditioner's input
	// cotangent, idx the lanes of ncpInverseBatch.
	sc   *gaugeScratch[T]
	p, w []float64
	cp   []float64
	gin  []T
	idx  []int32
}

// gaugeScratch is the per-call workspace of a GaugeCoupling.
type gaugeScratch[T nn.Float] struct {
	p, w, cp []float64
	gin      []T
	idx      []int32
}

// NewTape returns a workspace for Forward, Inverse and Backward.
func (c *GaugeCoupling[T]) NewTape() Tape {
	V, K, na := c.geom.V, c.mix, len(c.active)
	return &gaugeTape[T]{
		V: V, K: K,
		net:   c.net.NewTape(),
		in:    make([]T, 2*V),
		out:   make([]T, (K+1)*V),
		dg:    make([]float64, na),
		dlg:   make([]float64, na),
		dgds:  make([]float64, na*K),
		dlgds: make([]float64, na*K),
	}
}

// newScratch returns a workspace for one call.
func (c *GaugeCoupling[T]) newScratch() *gaugeScratch[T] {
	V, na := c.geom.V, len(c.active)
	return &gaugeScratch[T]{
		p:   make([]float64, na),
		w:   make([]float64, na),
		cp:  make([]float64, max(V, 4*na, 2*len(c.frozen))),
		gin: make([]T, 2*V),
		idx: make([]int32, na),
	}
}

// attach gives tp a workspace from the layer's pool unless it has one, and
// reports whether it did: then the caller must detach it when done (defer
// c.detach(tp)), so that nested calls share the outer call's workspace.
func (c *GaugeCoupling[T]) attach(tp *gaugeTape[T]) bool {
	if tp.sc != nil {
		return false
	}
	sc := c.scratch.get()
	tp.sc, tp.p, tp.w, tp.cp, tp.gin, tp.idx = sc, sc.p, sc.w, sc.cp, sc.gin, sc.idx
	return true
}

// detach gives tp's workspace back to the pool.
func (c *GaugeCoupling[T]) detach(tp *gaugeTape[T]) {
	c.scratch.put(tp.sc)
	tp.sc, tp.p, tp.w, tp.cp, tp.gin, tp.idx = nil, nil, nil, nil, nil, nil
}

// tape returns tape as this layer's tape type or panics.
func (c *GaugeCoupling[T]) tape(tape Tape, op string) *gaugeTape[T] {
	tp, ok := tape.(*gaugeTape[T])
	if !ok || tp == nil || tp.V != c.geom.V || tp.K != c.mix {
		panic(fmt.Sprintf("flow: GaugeCoupling.%s: tape %T was not made by this layer", op, tape))
	}
	return tp
}

// checkLinks panics unless every non-nil slice has length 2V.
func (c *GaugeCoupling[T]) checkLinks(op string, names string, xs ...[]T) {
	for i, x := range xs {
		if x != nil && len(x) != 2*c.geom.V {
			panic(fmt.Sprintf("flow: GaugeCoupling.%s: len(%c)=%d, want 2V=%d", op, names[i], len(x), 2*c.geom.V))
		}
	}
}

// plaquette returns P(n) of links, unwrapped, in float64.
func (c *GaugeCoupling[T]) plaquette(links []T, n int) float64 {
	V := c.geom.V
	return float64(links[n]) + float64(links[V+c.geom.Up(0, n)]) -
		float64(links[c.geom.Up(1, n)]) - float64(links[V+n])
}

// plaquetteOf returns the plaquette with link indices l of links, as
// plaquette does.
func plaquetteOf[T nn.Float](links []T, l *[4]int32) float64 {
	return float64(links[l[0]]) + float64(links[l[1]]) - float64(links[l[2]]) - float64(links[l[3]])
}

// condition sets the conditioner input from the frozen plaquettes of links
// and runs the conditioner into tp.out. It uses tp.cp as scratch.
func (c *GaugeCoupling[T]) condition(tp *gaugeTape[T], links []T) {
	V, nf := c.geom.V, len(c.frozen)
	sn, cs := tp.cp[:nf], tp.cp[nf:2*nf]
	for j := range c.frozenPlaq {
		sn[j] = plaquetteOf(links, &c.frozenPlaq[j])
	}
	vmath.Sincos(sn, cs, sn)
	for j, n := range c.frozen {
		tp.in[n], tp.in[V+int(n)] = T(cs[j]), T(sn[j])
	}
	c.net.Forward(tp.net, tp.out, tp.in)
}

// scalesTo sets e[k*na+i] = exp(s_k) of the conditioner output in tp.out
// at active plaquette i (k-major, as the batched NCP functions take them).
func (c *GaugeCoupling[T]) scalesTo(tp *gaugeTape[T], e []float64) {
	V, na := c.geom.V, len(c.active)
	for k := range c.mix {
		row, out := e[k*na:(k+1)*na], tp.out[k*V:(k+1)*V]
		for i, n := range c.active {
			row[i] = float64(out[n])
		}
	}
	vmath.Exp(e, e)
}

// mixture evaluates the NCP mixture of every active plaquette at the
// wrapped angles tp.p with the scales of the conditioner output in tp.out:
// g(p) into g unless g is nil, and g'(p) and the derivatives the VJPs need
// into tp.dg, tp.dlg, tp.dgds and tp.dlgds. If haveScales, tp.dgds already
// holds the scales (scalesTo). It uses tp.cp as scratch.
func (c *GaugeCoupling[T]) mixture(tp *gaugeTape[T], g []float64, haveScales bool) {
	na := len(c.active)
	e := tp.dgds
	if !haveScales {
		c.scalesTo(tp, e)
	}
	sn, cs := tp.cp[:na], tp.cp[na:2*na]
	for i, p := range tp.p {
		sn[i] = 0.5 * p
	}
	vmath.Sincos(sn, cs, sn)
	if g != nil {
		ncpValues(g, tp.dlgds, e, sn, cs, c.mix)
	}
	ncpSlopesBatch(tp.dg, tp.dlg, tp.dgds, tp.dlgds, e, sn, cs, c.mix)
}

// logDet returns sum_i log g'(p_i) = log|det J| from tp.dg, with tp.w as
// scratch.
func (c *GaugeCoupling[T]) logDet(tp *gaugeTape[T]) float64 {
	vmath.Log(tp.w, tp.dg)
	ld := 0.0
	for _, v := range tp.w {
		ld += v
	}
	return ld
}

// Forward maps the links x to y and returns log|det dy/dx|; with s it
// applies the fast-path step to s in place (see the type's comment).
func (c *GaugeCoupling[T]) Forward(tape Tape, y, x, s []T) float64 {
	tp := c.tape(tape, "Forward")
	c.checkLinks("Forward", "yxs", y, x, s)
	if y == nil || x == nil {
		panic("flow: GaugeCoupling.Forward: nil x or y")
	}
	if c.attach(tp) {
		defer c.detach(tp)
	}
	c.condition(tp, x)
	copy(y, x)
	for i := range c.activePlaq {
		tp.p[i] = wrap(plaquetteOf(x, &c.activePlaq[i]))
	}
	g := tp.w
	c.mixture(tp, g, false)
	V, K := c.geom.V, c.mix
	for i, a := range c.activeLink {
		t := float64(tp.out[K*V+int(c.active[i])])
		y[a] = wrapAngle[T](float64(x[a]) + c.sigma*(g[i]+t-tp.p[i]))
	}
	ld := c.logDet(tp)
	tp.done = true
	if s != nil {
		c.score(tp, s)
	}
	return ld
}

// score applies s <- J^-T (s - d/dx log|det J|) for the recorded sample.
func (c *GaugeCoupling[T]) score(tp *gaugeTape[T], s []T) {
	for i, a := range c.activeLink {
		w := (float64(s[a]) - c.sigma*tp.dlg[i]) / tp.dg[i]
		tp.w[i] = w
		s[a] = T(w)
	}
	c.pullback(tp, 1, nil, true)
	V := c.geom.V
	down0, down1 := c.geom.DownTable(0), c.geom.DownTable(1)
	act := c.masks.ActiveLinks
	cp := tp.cp
	for n := range V {
		if !act[n] {
			s[n] = T(float64(s[n]) - (cp[n] - cp[down1[n]]))
		}
		if !act[V+n] {
			s[V+n] = T(float64(s[V+n]) - (cp[down0[n]] - cp[n]))
		}
	}
}

// pullback sets tp.cp to the plaquette cotangents of the map
// x -> (y_A, log|det J|) with cotangents tp.w on y_A and lambda on
// log|det J| (the conditioner part only if input), and adds the parameter
// cotangent to grad unless grad is nil. It overwrites tp.out and tp.w.
func (c *GaugeCoupling[T]) pullback(tp *gaugeTape[T], lambda float64, grad []T, input bool) {
	V, K := c.geom.V, c.mix
	gout := tp.out
	clear(gout)
	clear(tp.cp)
	// k-major: each output channel's cotangents from contiguous
	// derivatives. tp.w becomes sigma w, the cotangent of P(n).
	na := len(c.active)
	ws := tp.w
	for i, n := range c.active {
		w := c.sigma * ws[i]
		ws[i] = w
		tp.cp[n] = w*(tp.dg[i]-1) + lambda*tp.dlg[i]
	}
	for k := range K {
		dk, lk, gk := tp.dgds[k*na:(k+1)*na], tp.dlgds[k*na:(k+1)*na], gout[k*V:(k+1)*V]
		for i, n := range c.active {
			gk[n] = T(ws[i]*dk[i] + lambda*lk[i])
		}
	}
	gt := gout[K*V : (K+1)*V]
	for i, n := range c.active {
		gt[n] = T(ws[i])
	}
	if !input {
		c.net.Backward(tp.net, nil, grad, gout)
		return
	}
	c.net.Backward(tp.net, tp.gin, grad, gout)
	for _, n := range c.frozen {
		// d cos P = -sin P dP, d sin P = cos P dP.
		tp.cp[n] = float64(tp.in[n])*float64(tp.gin[V+int(n)]) - float64(tp.in[V+int(n)])*float64(tp.gin[n])
	}
}

// Inverse maps the links y to x and returns log|det dy/dx| at x. The
// frozen plaquettes are the same in x and y, so the conditioner runs on y;
// each active plaquette is inverted by ncpInverse. The tape afterwards
// holds the forward pass at x, so Backward may follow.
func (c *GaugeCoupling[T]) Inverse(tape Tape, x, y []T) (float64, error) {
	tp := c.tape(tape, "Inverse")
	c.checkLinks("Inverse", "xy", x, y)
	if y == nil || x == nil {
		panic("flow: GaugeCoupling.Inverse: nil x or y")
	}
	if c.attach(tp) {
		defer c.detach(tp)
	}
	tp.done = false
	c.condition(tp, y)
	copy(x, y)
	// Per active plaquette: the target v = P(y) - t (wrapped) and the mean
	// log-scale; then all roots p of g(p) + t = P(y) mod 2pi at once.
	V, K, na := c.geom.V, c.mix, len(c.active)
	v, sMean := tp.dlg, tp.cp[2*na:3*na]
	for i, n := range c.active {
		var sum float64
		for k := range K {
			sum += float64(tp.out[k*V+int(n)])
		}
		sMean[i] = sum / float64(K)
		v[i] = wrap(plaquetteOf(y, &c.activePlaq[i]) - float64(tp.out[K*V+int(n)]))
	}
	c.scalesTo(tp, tp.dgds)
	if i, err := ncpInverseBatch(tp.p, v, sMean, tp.dgds, K, ncpMaxIter,
		tp.dg, tp.w, tp.cp[:na], tp.cp[na:2*na], tp.dlgds, tp.idx); err != nil {
		return math.NaN(), fmt.Errorf("plaquette %d: %w", c.active[i], err)
	}
	for i, p := range tp.p {
		if p >= turn {
			tp.p[i] = 0
		}
	}
	c.mixture(tp, nil, true)
	ld := c.logDet(tp)
	for i, a := range c.activeLink {
		// P(y) = P(x) + (g(p) + t - p) with g(p) + t = P(y) modulo 2pi, so
		// subtracting P(y) - p from the active link makes P(x) = p.
		pp := plaquetteOf(y, &c.activePlaq[i])
		x[a] = wrapAngle[T](float64(y[a]) - c.sigma*(pp-tp.p[i]))
	}
	tp.done = true
	return ld, nil
}

// InverseForward maps the links y to x like Inverse, returns log|det dy/dx|
// at x and leaves on tape the forward pass at x, which is all that
// InverseBackward (and Backward) need. If s is not nil it holds
// s_y = d log p/dy on entry and on return
//
//	s_x = J^T s_y + d/dx log|det J|,  J = dy/dx at x,
//
// the score of the pulled-back density p(y(x)) |det J| (the forward path
// gradient recursion, Proposition 4.1 of Vaitl et al. 2024). With the
// triangular J = [[D, C], [0, 1]] (see the type's comment):
//
//	on A: s_x,a = g'(P) s_y,a + sigma (dg'/dP)/g',
//	on R: s_x,R = s_y,R + C^T s_y,A + d_R log|det J|,
//
// where g'(P) s_y,a is the diagonal of J^T and sigma (dg'/dP)/g' the
// derivative of log g'(P(n)) through the active link (no frozen
// plaquette contains an active link, so the conditioner does not see it).
// The R part is the VJP of x -> (y_A, log|det J|) with cotangents
// w = s_y,A on y_A and lambda = 1 on log|det J|: directly through the
// angle of each active plaquette onto its three rest links, with the
// plaquette cotangent w sigma (g' - 1) + (dg'/dP)/g', and through the
// conditioner with the cotangents w sigma dg/ds_k + (dg'/ds_k)/g' on s_k
// and w sigma on t, both the C^T and the log-determinant terms pulled
// through the CNN by one nn.Net.Backward (input cotangent only) onto
// (cos P, sin P) of the frozen plaquettes. This is Backward with gy = s_y
// and gld = 1, applied in place. On an error s is unchanged and the tape
// holds no pass.
func (c *GaugeCoupling[T]) InverseForward(tape Tape, x, y, s []T) (float64, error) {
	tp := c.tape(tape, "InverseForward")
	c.checkLinks("InverseForward", "xys", x, y, s)
	if c.attach(tp) {
		defer c.detach(tp)
	}
	ld, err := c.Inverse(tp, x, y)
	if err != nil {
		return ld, err
	}
	if s != nil {
		for i, a := range c.activeLink {
			tp.w[i] = float64(s[a])
		}
		c.pullback(tp, 1, nil, true)
		c.addPlaquetteCotangents(tp, s, s)
	}
	return ld, nil
}

// InverseBackward writes gy = dL/dy unless gy is nil and adds dL/dtheta to
// grad unless grad is nil, for L = gx . x(y) + gld log|det J|(x(y)) and the
// sample of the last InverseForward (or Inverse, or Forward at the same x)
// on tape. x depends on y and theta through the root of the NCP mixture;
// the derivatives come from the implicit function theorem, not from the
// root finder's iterations.
//
// Per active plaquette n with active link a let P' = P(n)(y) (unwrapped),
// p = P(n)(x) the root of g(p; s) + t = P' (mod 2pi), and s_k, t the
// conditioner outputs there, functions of theta and of the frozen
// plaquettes (the same in x and y). The inverse is
//
//	x_a = y_a - sigma (P' - p),  x_R = y_R,  log|det J| = sum_n log g'(p; s),
//
// and differentiating the root condition gives
//
//	dp = (dP' - sum_k (dg/ds_k) ds_k - dt) / g'(p).
//
// p is the only route by which log g' depends on P'; with
// c = sigma gx_a + gld (dg'/dP)/g' the total coefficient of dp and
// u = c/g',
//
//	dL = gx . dy - sigma gx_a dP' + u dP'
//	     + sum_k (gld (dg'/ds_k)/g' - u dg/ds_k) ds_k - u dt.
//
// So y gets gx directly (y_R = x_R, and y_a enters x_a with slope 1), the
// angle P' gets the cotangent u - sigma gx_a, carried to the four links of
// P(n) (y_R reaches x_a through the other three links of the active
// plaquette), and the conditioner outputs get gld (dg'/ds_k)/g' - u dg/ds_k
// and -u, pulled by one nn.Net.Backward into grad and onto (cos P, sin P)
// of the frozen plaquettes of y, hence onto y_R. On the active link this
// gives gy_a = gx_a + sigma (u - sigma gx_a) = (gx_a + sigma gld
// (dg'/dP)/g')/g' = (dx_a/dy_a) gx_a + gld d log g'/dy_a, as it must.
//
// These are exactly the cotangents of the forward VJP (pullback) with
// lambda = gld and w = -sigma u on y_A: sigma w (g' - 1) + lambda
// (dg'/dP)/g' = u - sigma gx_a on P(n), sigma w dg/ds_k + lambda
// (dg'/ds_k)/g' on s_k and sigma w = -u on t. In matrix form
// gy = J^-T (gx + gld d/dx log|det J|) on the links.
func (c *GaugeCoupling[T]) InverseBackward(tape Tape, gy, gx []T, gld float64, grad []T) {
	tp := c.tape(tape, "InverseBackward")
	if !tp.done {
		panic("flow: GaugeCoupling.InverseBackward: tape holds no inverse pass")
	}
	c.checkLinks("InverseBackward", "yx", gy, gx)
	if gx == nil {
		panic("flow: GaugeCoupling.InverseBackward: nil gx")
	}
	if grad != nil && len(grad) != c.net.NumParams() {
		panic(fmt.Sprintf("flow: GaugeCoupling.InverseBackward: len(grad)=%d, want %d", len(grad), c.net.NumParams()))
	}
	if gy == nil && grad == nil {
		return
	}
	if c.attach(tp) {
		defer c.detach(tp)
	}
	for i, a := range c.activeLink {
		tp.w[i] = -(float64(gx[a]) + c.sigma*gld*tp.dlg[i]) / tp.dg[i]
	}
	c.pullback(tp, gld, grad, gy != nil)
	if gy != nil {
		c.addPlaquetteCotangents(tp, gy, gx)
	}
}

// Backward writes gx = (dy/dx)^T gy + gld d log|det J|/dx unless gx is nil
// and adds the parameter cotangent to grad unless grad is nil, for the
// sample of the last Forward (or Inverse, or InverseForward) on tape.
func (c *GaugeCoupling[T]) Backward(tape Tape, gx, gy []T, gld float64, grad []T) {
	tp := c.tape(tape, "Backward")
	if !tp.done {
		panic("flow: GaugeCoupling.Backward: tape holds no forward pass")
	}
	c.checkLinks("Backward", "xy", gx, gy)
	if gy == nil {
		panic("flow: GaugeCoupling.Backward: nil gy")
	}
	if grad != nil && len(grad) != c.net.NumParams() {
		panic(fmt.Sprintf("flow: GaugeCoupling.Backward: len(grad)=%d, want %d", len(grad), c.net.NumParams()))
	}
	if gx == nil && grad == nil {
		return
	}
	if c.attach(tp) {
		defer c.detach(tp)
	}
	for i, a := range c.activeLink {
		tp.w[i] = float64(gy[a])
	}
	c.pullback(tp, gld, grad, gx != nil)
	if gx == nil {
		return
	}
	c.addPlaquetteCotangents(tp, gx, gy)
}

// addPlaquetteCotangents writes dst = src + (dP/dlinks)^T tp.cp, the
// plaquette cotangents tp.cp carried to the links by the transpose of
// P(n) = x_0(n) + x_1(n+e0) - x_0(n+e1) - x_1(n): the link x_0(m) enters
// P(m) with + and P(m-e1) with -, the link x_1(m) enters P(m-e0) with +
// and P(m) with -. dst and src may be the same slice.
func (c *GaugeCoupling[T]) addPlaquetteCotangents(tp *gaugeTape[T], dst, src []T) {
	V := c.geom.V
	down0, down1 := c.geom.DownTable(0), c.geom.DownTable(1)
	cp := tp.cp
	for n := range V {
		dst[n] = T(float64(src[n]) + cp[n] - cp[down1[n]])
		dst[V+n] = T(float64(src[V+n]) + cp[down0[n]] - cp[n])
	}
}

// wrapAngle returns x modulo 2pi in [0, 2pi) as a T; a value that rounds
// up to 2pi in T becomes 0, the same angle.
func wrapAngle[T nn.Float](x float64) T {
	v := T(wrap(x))
	if float64(v) >= turn {
		v = 0
	}
	return v
}

// wrap returns gauge.Wrap(x), bit for bit, without math.Mod for
// |x| < 4 turn (plaquettes and link updates): the remainder x - k turn
// that math.Mod returns is reached by subtracting 2 turn and turn, each
// subtraction exact by Sterbenz's lemma (the operands within a factor 2),
// with the sign of x on a zero remainder as math.Mod gives it; gauge.Wrap's
// correction of a negative remainder follows.
func wrap(x float64) float64 {
	switch {
	case x >= 0 && x < turn:
		return x
	case x >= turn && x < 4*turn:
		if x >= 2*turn {
			x -= 2 * turn
		}
		if x >= turn {
			x -= turn
		}
		return x
	case x < 0 && x > -4*turn:
		if x <= -2*turn {
			x += 2 * turn
		}
		if x <= -turn {
			x += turn
		}
		if x == 0 {
			return math.Copysign(0, -1) // math.Mod's -0, which gauge.Wrap keeps
		}
		x += turn
		if x >= turn {
			x = 0
		}
		return x
	}
	return gauge.Wrap(x)
}
