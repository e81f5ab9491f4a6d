package observables

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"latflow/fermion"
	"latflow/lattice"
)

// Column names of the fermionic measurements of the Schwinger model.
const (
	// ColCondensate is the chiral condensate -(1/V) Tr D^-1 of one flavour:
	// exact (dense D^-1) for L <= fermion.MaxDenseL, else a noise estimate.
	ColCondensate = "condensate"
	// ColPionPrefix starts the columns of the pion correlator, "pion_t"
	// for t = 0 .. L/2 (PionColumn).
	ColPionPrefix = "pion_"
)

// SchwingerNoise is the number of Z2 noise vectors of the condensate where
// it is estimated stochastically (L > fermion.MaxDenseL).
const SchwingerNoise = 4

// Tolerances of the CG of the measurements beyond fermion.MaxDenseL.
const (
	measureTol     = 1e-10
	measureMaxIter = 100000
)

// PionColumn returns the name of the column of the pion correlator at time
// separation t, "pion_t".
func PionColumn(t int) string { return fmt.Sprintf("%s%d", ColPionPrefix, t) }

// PionMassT returns the time separation at which the table gives the pion
// mass of a Schwinger target of extent L: the cosh effective mass
// m_eff(t) from C(t)/C(t+1) at t = L/4, halfway between the source, where
// excited states contribute, and the midpoint L/2, where the correlator is
// smallest and noisiest.
func PionMassT(L int) int { return L / 4 }

// schwingerMeasure holds the fermionic workspace of one Measurer of a
// Schwinger target: a dense Determinant for L <= fermion.MaxDenseL, a CG
// Measurer beyond.
type schwingerMeasure struct {
	det  *fermion.Determinant
	cg   *fermion.Measurer
	c    []float64 // C(t), t = 0 .. L-1
	seed uint64
}

func newSchwingerMeasure(g *lattice.Geometry, kappa float64) *schwingerMeasure {
	m := &schwingerMeasure{c: make([]float64, g.L)}
	if g.L <= fermion.MaxDenseL {
		d, err := fermion.NewDeterminant(g, kappa, fermion.DefaultMethod(g.L))
		if err != nil {
			panic(fmt.Sprintf("observables: NewMeasurer: %v", err))
		}
		m.det = d
		return m
	}
	op := fermion.NewOperator(g, kappa)
	m.cg = fermion.NewMeasurer(fermion.NewCG(op, measureTol, measureMaxIter))
	return m
}

// measureTo writes the condensate and the folded pion correlator
// (C(t) + C(L-t))/2, t = 0 .. L/2, of the links into dst; where the dense
// factorization or a CG fails (an exactly singular D), the values are NaN.
func (m *schwingerMeasure) measureTo(dst, links []float64) {
	L := len(m.c)
	fail := func() {
		for i := range dst {
			dst[i] = math.NaN()
		}
	}
	if m.det != nil {
		if err := m.det.Factorize(links); err != nil {
			fail()
			return
		}
		dst[0] = m.det.Condensate()
		m.det.PionCorrelatorTo(m.c)
	} else {
		m.cg.CG.Op.SetLinks(links)
		// The noise is a function of the configuration, so that a resumed
		// chain measures what an uninterrupted one does.
		h := fnv.New64a()
		var b [8]byte
		for _, v := range links {
			u := math.Float64bits(v)
			for k := range b {
				b[k] = byte(u >> (8 * k))
			}
			h.Write(b[:])
		}
		rng := rand.New(rand.NewPCG(h.Sum64(), 0x5c4d1a6e))
		pbp, err := m.cg.Condensate(rng, SchwingerNoise)
		if err != nil {
			fail()
			return
		}
		dst[0] = pbp
		if err := m.cg.PionCorrelatorTo(m.c); err != nil {
			fail()
			return
		}
	}
	for t := 0; t <= L/2; t++ {
		dst[1+t] = (m.c[t] + m.c[(L-t)%L]) / 2
	}
}

// pionMass returns the cosh effective mass at t of a folded correlator
// with means c0 = C(t), c1 = C(t+1) on a lattice of extent L.
func pionMass(L, t int, c0, c1 float64) float64 {
	c := make([]float64, L)
	for i := range c {
		c[i] = 1
	}
	c[t], c[t+1] = c0, c1
	m := make([]float64, L/2)
	fermion.EffectiveMassTo(m, c)
	return m[t]
}

// pionMassRow returns the table row of the pion mass m_eff(PionMassT(L)),
// a derived quantity of the means of C(t) and C(t+1), analysed by estimate
// (the Table's Gamma method with its notes). Its gradient is analytic: the
// finite differences of GammaDerived step by sigma/sqrt(N), which with the
// heavy tails of C(t) near a zero mode of D can cross C(t) = C(t+1), where
// the mass does not exist. Where the mass cannot be estimated (C(t) <=
// C(t+1) at the means), ok is false and note says why.
func pionMassRow(L int, s Series, estimate func(string, [][]float64, func(GammaOptions) (Estimate, error)) (Estimate, error)) (row Row, ok bool, note string, err error) {
	t := PionMassT(L)
	name := fmt.Sprintf("m_pi = m_eff(t=%d)", t)
	c0, c1 := s.Obs[PionColumn(t)], s.Obs[PionColumn(t+1)]
	if c0 == nil || c1 == nil {
		return Row{}, false, "", fmt.Errorf("observables: no series for %s or %s", PionColumn(t), PionColumn(t+1))
	}
	f := func(m []float64) float64 { return pionMass(L, t, m[0], m[1]) }
	grad := func(m, dst []float64) {
		// m solves log cosh(m a) - log cosh(m b) = log(C(t)/C(t+1)).
		a, b := float64(t-L/2), float64(t+1-L/2)
		mass := f(m)
		dg := a*math.Tanh(mass*a) - b*math.Tanh(mass*b)
		dst[0], dst[1] = 1/(m[0]*dg), -1/(m[1]*dg)
	}
	est, err := estimate(name, nil, func(opt GammaOptions) (Estimate, error) {
		return GammaDerived([][][]float64{c0, c1}, f, grad, opt)
	})
	if err != nil {
		return Row{}, false, fmt.Sprintf("%s: not computable (%v)", name, err), nil
	}
	return Row{Name: name, Est: est}, true, "", nil
}

// schwingerColumns returns the measurement columns of a Schwinger target.
func schwingerColumns(L int) []string {
	cols := []string{ColPlaquette, ColCharge, ColCondensate}
	for t := 0; t <= L/2; t++ {
		cols = append(cols, PionColumn(t))
	}
	return cols
}
