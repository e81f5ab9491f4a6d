package flowtrain_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"latflow/flowtrain"
)

const (
	adamTol      = 1e-13 // absolute, parameters of order 1, hand formulas vs Update
	biasTol      = 1e-14 // relative size of the first update with Eps = 0
	quadTol      = 1e-9  // distance to the minimum of the quadratic after annealing
	quadSteps    = 3000
	quadLR       = 0.05
	roundTripCut = 7 // steps before the checkpoint
	roundTripLen = 20
)

// TestAdamTwoSteps checks two updates of three parameters against the
// textbook form of Adam (Kingma & Ba, Algorithm 1, with eps outside the
// square root of the corrected second moment), evaluated here step by
// step: mhat = m/(1-b1^t), vhat = v/(1-b2^t), p -= lr mhat/(sqrt(vhat)+eps).
func TestAdamTwoSteps(t *testing.T) {
	p0 := []float64{1, -2, 0.5}
	grads := [][]float64{{0.5, -1, 0}, {-0.3, 2, 4}}
	const lr = 0.1
	cases := []struct{ b1, b2, eps float64 }{
		{0.9, 0.999, 1e-8},
		{0.5, 0.8, 0.1}, // a large eps makes its placement visible
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("b1=%g/b2=%g/eps=%g", c.b1, c.b2, c.eps), func(t *testing.T) {
			a := flowtrain.NewAdam(3)
			a.Beta1, a.Beta2, a.Eps = c.b1, c.b2, c.eps
			p := append([]float64(nil), p0...)

			want := append([]float64(nil), p0...)
			m := make([]float64, 3)
			v := make([]float64, 3)
			for step, g := range grads {
				tt := float64(step + 1)
				for i := range want {
					m[i] = c.b1*m[i] + (1-c.b1)*g[i]
					v[i] = c.b2*v[i] + (1-c.b2)*g[i]*g[i]
					mhat := m[i] / (1 - math.Pow(c.b1, tt))
					vhat := v[i] / (1 - math.Pow(c.b2, tt))
					want[i] -= lr * mhat / (math.Sqrt(vhat) + c.eps)
				}
				a.Update(p, g, lr)
				if a.Step != step+1 {
					t.Errorf("step %d: Step got %d, want %d", step+1, a.Step, step+1)
				}
				for i := range p {
					if math.Abs(p[i]-want[i]) > adamTol {
						t.Errorf("step %d: p[%d] got %.17g, want %.17g", step+1, i, p[i], want[i])
					}
					if math.Abs(a.M[i]-m[i]) > adamTol || math.Abs(a.V[i]-v[i]) > adamTol {
						t.Errorf("step %d: M[%d], V[%d] got %g, %g, want %g, %g", step+1, i, i, a.M[i], a.V[i], m[i], v[i])
					}
				}
				if step == 0 && p[2] != p0[2] {
					t.Errorf("step 1: p[2] with zero gradient got %g, want %g unchanged", p[2], p0[2])
				}
			}
		})
	}
}

// TestAdamBiasCorrection checks that thanks to the bias correction the
// first update moves every coordinate with a nonzero gradient by lr
// against the sign of the gradient (by lr |g|/(|g|+eps) with eps), whatever
// the size of the gradient; uncorrected it would be lr (1-b1)/sqrt(1-b2).
func TestAdamBiasCorrection(t *testing.T) {
	g := []float64{1e-3, -5, 200, 0, -0.7}
	const lr = 0.01
	for _, eps := range []float64{0, 1e-8} {
		t.Run(fmt.Sprintf("eps=%g", eps), func(t *testing.T) {
			a := flowtrain.NewAdam(len(g))
			a.Eps = eps
			p := make([]float64, len(g))
			a.Update(p, g, lr)
			for i, gi := range g {
				want := 0.0
				if gi != 0 {
					want = -math.Copysign(lr, gi) * math.Abs(gi) / (math.Abs(gi) + eps)
				}
				if math.Abs(p[i]-want) > biasTol*lr {
					t.Errorf("g[%d]=%g: update got %.17g, want %.17g", i, gi, p[i], want)
				}
			}
		})
	}
}

// quadGrad writes the gradient of f(x) = 1/2 sum_i a_i (x_i - c_i)^2.
func quadGrad(grad, x, a, c []float64) {
	for i := range x {
		grad[i] = a[i] * (x[i] - c[i])
	}
}

// TestAdamQuadratic minimises an ill-conditioned quadratic: Adam's steps
// are about lr per coordinate whatever the curvature, so the error first
// falls below lr-sized oscillations and, with the learning rate annealed
// to zero by a cosine schedule, goes to the minimum.
func TestAdamQuadratic(t *testing.T) {
	a := []float64{1, 10, 100, 1000}
	c := []float64{1, -2, 3, 0.5}
	x := make([]float64, len(c))
	grad := make([]float64, len(c))
	opt := flowtrain.NewAdam(len(c))
	sched := flowtrain.Cosine{LR0: quadLR, Steps: quadSteps}
	dist := func() float64 {
		var s float64
		for i := range x {
			s += (x[i] - c[i]) * (x[i] - c[i])
		}
		return math.Sqrt(s)
	}
	d0 := dist()
	for step := 1; step <= quadSteps; step++ {
		quadGrad(grad, x, a, c)
		opt.Update(x, grad, sched.LR(step))
		if step == quadSteps/2 && !(dist() < d0/10) {
			t.Errorf("step %d: distance to minimum got %g, want < %g", step, dist(), d0/10)
		}
	}
	if d := dist(); !(d < quadTol) {
		t.Errorf("after %d steps: distance to minimum got %g, want < %g (x = %v)", quadSteps, d, quadTol, x)
	}
}

// noisyQuadGrad is a gradient that depends on the parameters and, through
// the seeded noise, on the step, as a stochastic estimator's does.
func noisyQuadGrad(grad, x []float64, step int) {
	rng := rand.New(rand.NewPCG(42, uint64(step)))
	for i := range x {
		grad[i] = float64(i+1)*(x[i]-0.3*float64(i)) + 0.5*rng.NormFloat64()
	}
}

// TestAdamRoundTrip checks that saving the state, restoring it into a new
// Adam and continuing gives a trajectory bit-identical to an
// uninterrupted run.
func TestAdamRoundTrip(t *testing.T) {
	const n, lr = 6, 0.02
	run := func(a *flowtrain.Adam, x []float64, from, to int) {
		grad := make([]float64, len(x))
		for step := from; step <= to; step++ {
			noisyQuadGrad(grad, x, step)
			a.Update(x, grad, lr)
		}
	}
	for _, name := range []string{"defaults", "b1=0.8/b2=0.95/eps=1e-3"} {
		t.Run(name, func(t *testing.T) {
			newAdam := func() *flowtrain.Adam {
				a := flowtrain.NewAdam(n)
				if name != "defaults" {
					a.Beta1, a.Beta2, a.Eps = 0.8, 0.95, 1e-3
				}
				return a
			}
			ref := newAdam()
			xRef := make([]float64, n)
			run(ref, xRef, 1, roundTripLen)

			first := newAdam()
			x := make([]float64, n)
			run(first, x, 1, roundTripCut)
			data, err := first.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			var resumed flowtrain.Adam
			if err := resumed.UnmarshalBinary(data); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if resumed.Step != roundTripCut {
				t.Errorf("restored Step got %d, want %d", resumed.Step, roundTripCut)
			}
			run(&resumed, x, roundTripCut+1, roundTripLen)

			for i := range x {
				if math.Float64bits(x[i]) != math.Float64bits(xRef[i]) {
					t.Errorf("x[%d] got %.17g, want %.17g (bit-identical)", i, x[i], xRef[i])
				}
				if math.Float64bits(resumed.M[i]) != math.Float64bits(ref.M[i]) ||
					math.Float64bits(resumed.V[i]) != math.Float64bits(ref.V[i]) {
					t.Errorf("M[%d], V[%d] got %.17g, %.17g, want %.17g, %.17g",
						i, i, resumed.M[i], resumed.V[i], ref.M[i], ref.V[i])
				}
			}
			if resumed.Step != ref.Step || resumed.Beta1 != ref.Beta1 || resumed.Beta2 != ref.Beta2 || resumed.Eps != ref.Eps {
				t.Errorf("state got %+v, want %+v", resumed, *ref)
			}
		})
	}
}

// TestAdamUnmarshalErrors checks that truncated, corrupted, extended, or
// otherwise invalid state is refused and leaves the Adam unchanged.
func TestAdamUnmarshalErrors(t *testing.T) {
	src := flowtrain.NewAdam(3)
	p := []float64{1, 2, 3}
	src.Update(p, []float64{0.1, -0.2, 0.3}, 0.1)
	good, err := src.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	// withCRC returns b with its trailing checksum recomputed, so that only
	// the field under test is invalid.
	withCRC := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
		return b
	}

	bad := map[string][]byte{
		"empty":    {},
		"extended": append(append([]byte(nil), good...), 0),
	}
	for n := 1; n < len(good); n++ {
		bad[fmt.Sprintf("truncated=%d", n)] = good[:n]
	}
	for i := range good {
		b := append([]byte(nil), good...)
		b[i] ^= 0x10
		bad[fmt.Sprintf("flip=%d", i)] = b
	}
	{
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[4:], 2)
		bad["version=2"] = withCRC(b)
	}
	{
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[40:], 1<<62) // n: overflows 16 n
		bad["n=2^62"] = withCRC(b)
	}
	{
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[8:], math.Float64bits(1.5))
		bad["beta1=1.5"] = withCRC(b)
	}
	{
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[32:], math.MaxUint64) // Step = -1
		bad["step=-1"] = withCRC(b)
	}

	for name, b := range bad {
		a := flowtrain.NewAdam(2)
		a.Step = 5
		before, _ := a.MarshalBinary()
		err := a.UnmarshalBinary(b)
		if err == nil {
			t.Errorf("%s: got nil error, want an error", name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "flowtrain: ") {
			t.Errorf("%s: error got %q, want prefix %q", name, err, "flowtrain: ")
		}
		if after, _ := a.MarshalBinary(); !bytes.Equal(after, before) {
			t.Errorf("%s: Adam changed by a failed UnmarshalBinary: got %+v", name, *a)
		}
	}
	var a flowtrain.Adam
	if err := a.UnmarshalBinary(good); err != nil {
		t.Errorf("unmodified state: got error %v, want nil", err)
	}
}

func TestAdamUpdateNoAlloc(t *testing.T) {
	const n = 1000
	a := flowtrain.NewAdam(n)
	p := make([]float64, n)
	g := make([]float64, n)
	for i := range g {
		g[i] = float64(i%7) - 3
	}
	if allocs := testing.AllocsPerRun(100, func() { a.Update(p, g, 1e-3) }); allocs != 0 {
		t.Errorf("Update: got %v allocs per run, want 0", allocs)
	}
}

func TestAdamUpdatePanics(t *testing.T) {
	cases := map[string]func(){
		"short grad": func() { flowtrain.NewAdam(3).Update(make([]float64, 3), make([]float64, 2), 0.1) },
		"long params": func() {
			flowtrain.NewAdam(3).Update(make([]float64, 4), make([]float64, 3), 0.1)
		},
		"negative lr": func() { flowtrain.NewAdam(1).Update(make([]float64, 1), make([]float64, 1), -1) },
		"beta1=1": func() {
			a := flowtrain.NewAdam(1)
			a.Beta1 = 1
			a.Update(make([]float64, 1), make([]float64, 1), 0.1)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) { expectPanic(t, f) })
	}
}

// expectPanic checks that f panics with a message prefixed "flowtrain: ".
func expectPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("got no panic, want one")
			return
		}
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "flowtrain: ") {
			t.Errorf("panic got %v, want a string prefixed %q", r, "flowtrain: ")
		}
	}()
	f()
}

func BenchmarkAdamUpdate(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			a := flowtrain.NewAdam(n)
			p := make([]float64, n)
			g := make([]float64, n)
			for i := range g {
				g[i] = float64(i%7) - 3
			}
			for b.Loop() {
				a.Update(p, g, 1e-3)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "params/s")
		})
	}
}
