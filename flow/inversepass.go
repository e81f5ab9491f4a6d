package flow

import (
	"fmt"
	"math"
)

// InverseForward maps the data x (Batch() samples back to back) through
// the layers in reverse order to the base samples z = T^-1(x), with
// log q(x) = log q0(z) - sum_l log|det J_l| in logq, and records the pass
// in p for InverseBackward. Every layer must implement InverseLayer; if
// one does not, InverseForward returns an error naming its type and does
// nothing else.
//
// If s is not nil it holds d log p/dx for each sample on entry and
// receives d/dz log p_theta,0(z) on return, the score of the target
// pulled back to the base space, p_theta,0(z) = p(T(z)) |det dT/dz|, by
// the recursion s <- J_l^T s + d/dx log|det J_l| of InverseLayer (the
// forward-KL path gradient, Proposition 4.1 of Vaitl et al.).
//
// z may be nil (p keeps its own copy of the base samples); x is not
// modified and may be z. If a layer's inverse fails, InverseForward sets
// that sample's logq to NaN, finishes the batch and returns the error of
// the first failing sample; p then holds no pass. Results are
// bit-identical for any workers, and InverseForward does not allocate,
// except what nn.ParallelFor needs to start its goroutines.
func (f *Flow[T]) InverseForward(p *Pass[T], z, x, s []T, logq []float64, workers int) error {
	p.check("InverseForward", f)
	n := p.batch * f.Size
	if len(x) != n || (z != nil && len(z) != n) || len(logq) != p.batch || (s != nil && len(s) != n) {
		panic(fmt.Sprintf("flow: InverseForward: len(z)=%d, len(x)=%d, len(s)=%d, len(logq)=%d, want %d (or 0), %d, %d (or 0), %d",
			len(z), len(x), len(s), len(logq), n, n, n, p.batch))
	}
	for l, layer := range f.Layers {
		if _, ok := layer.(InverseLayer[T]); !ok {
			return fmt.Errorf("flow: InverseForward: layer %d (%T) does not implement flow.InverseLayer", l, layer)
		}
	}
	for l, layer := range f.Layers {
		p.inv[l] = layer.(InverseLayer[T])
	}
	p.x, p.s, p.logq = x, s, logq
	parallelFor(len(p.chunk), workers, p.inverseFn)
	p.x, p.s, p.logq = nil, nil, nil
	p.state = passInverse
	var err error
	at := p.batch
	for c := range p.chunk {
		ch := &p.chunk[c]
		if ch.err != nil && ch.errAt < at {
			err, at = ch.err, ch.errAt
		}
		ch.err = nil
	}
	if err != nil {
		p.state = passEmpty
		return fmt.Errorf("flow: InverseForward: sample %d: %w", at, err)
	}
	if z != nil {
		copy(z, p.z)
	}
	return nil
}

// InverseBackward takes, for the inverse pass recorded in p, cotangents
// gz = dL/dz and glogq = dL/d(log q) (either may be nil, meaning zero) and
// writes gx = dL/dx (unless gx is nil; it includes the base term through
// log q0(z) and the dependence of z and of every log|det J_l| on x), and
// adds dL/dtheta, summed over the batch, to grad (unless grad is nil;
// len(grad) == NumParams(), parameters in GetParams order), differentiating
// through the inverse maps x_l(x_{l+1}; theta). With gz = nil and
// glogq = 1 it gives d log q(x)/dx in gx and d log q(x)/dtheta at fixed x
// in grad. The gradient is bit-identical for any workers; InverseBackward
// may be called several times after one InverseForward.
func (f *Flow[T]) InverseBackward(p *Pass[T], gx, gz []T, glogq []float64, grad []T, workers int) {
	p.check("InverseBackward", f)
	if p.state != passInverse {
		panic("flow: InverseBackward: pass holds no inverse pass")
	}
	n := p.batch * f.Size
	if (gz != nil && len(gz) != n) || (gx != nil && len(gx) != n) ||
		(glogq != nil && len(glogq) != p.batch) || (grad != nil && len(grad) != p.off[len(f.Layers)]) {
		panic(fmt.Sprintf("flow: InverseBackward: len(gx)=%d, len(gz)=%d, len(glogq)=%d, len(grad)=%d, want %d, %d, %d, %d (or 0)",
			len(gx), len(gz), len(glogq), len(grad), n, n, p.batch, p.off[len(f.Layers)]))
	}
	p.runBackward(p.inverseBackwardFn, gz, gx, glogq, grad, workers)
}

func (p *Pass[T]) inverseChunk(c int) {
	f := p.flow
	n := f.Size
	ch := &p.chunk[c]
	lo, hi := p.chunkRange(c)
	for i := lo; i < hi; i++ {
		a, b := ch.a, ch.b
		copy(a, p.x[i*n:(i+1)*n])
		var si []T
		if p.s != nil {
			si = p.s[i*n : (i+1)*n]
		}
		var ld float64
		failed := false
		for l := len(f.Layers) - 1; l >= 0; l-- {
			d, err := p.inv[l].InverseForward(p.tapes[i][l], b, a, si)
			if err != nil {
				if ch.err == nil {
					ch.err, ch.errAt = fmt.Errorf("layer %d: %w", l, err), i
				}
				failed = true
				break
			}
			ld += d
			a, b = b, a
		}
		zi := p.z[i*n : (i+1)*n]
		if failed {
			p.logq[i] = math.NaN()
			clear(zi)
			continue
		}
		copy(zi, a)
		p.logq[i] = logBase(f.Base, zi, ch.base) - ld
	}
}

func (p *Pass[T]) inverseBackwardChunk(c int) {
	f := p.flow
	n := f.Size
	ch := &p.chunk[c]
	grad := p.grad
	if grad != nil {
		clear(ch.grad)
	}
	last := len(f.Layers) - 1
	lo, hi := p.chunkRange(c)
	for i := lo; i < hi; i++ {
		a, b := ch.a, ch.b
		var gl float64
		if p.glogq != nil {
			gl = p.glogq[i]
		}
		// log q = log q0(z) - sum_l log|det J_l|: the cotangent of z gains
		// glogq d log q0/dz, and that of each log|det J_l| is -glogq.
		scoreBase(f.Base, a, p.z[i*n:(i+1)*n], ch.base)
		for k := range a {
			a[k] *= T(gl)
		}
		if p.gz != nil {
			for k, v := range p.gz[i*n : (i+1)*n] {
				a[k] += v
			}
		}
		for l := 0; l <= last; l++ {
			var g []T
			if grad != nil {
				g = ch.grad[p.off[l]:p.off[l+1]]
			}
			out := b
			if l == last && p.gx == nil {
				out = nil
			}
			p.inv[l].InverseBackward(p.tapes[i][l], out, a, -gl, g)
			a, b = b, a
		}
		if p.gx != nil {
			copy(p.gx[i*n:(i+1)*n], a)
		}
	}
}

// BaseScore writes d log q0/dz of the base distribution for the samples
// in z into dst (0 for the uniform base, -z for the normal one, the
// analytic score of the plaquette proposal for PlaquetteBase), the base
// term g = d/dz log p_theta,0(z) - d/dz log q0(z) of the forward-KL path
// gradient. dst may be z. The samples run in parallel on workers
// goroutines (workers <= 0: GOMAXPROCS); the result does not depend on
// workers. BaseScore does not allocate after the first call with a given
// number of workers, except what nn.ParallelFor needs to start its
// goroutines.
func (f *Flow[T]) BaseScore(dst, z []T, workers int) {
	if len(dst) != len(z) || f.Size <= 0 || len(z)%f.Size != 0 {
		panic(fmt.Sprintf("flow: BaseScore: len(dst)=%d, len(z)=%d, want equal multiples of Size=%d", len(dst), len(z), f.Size))
	}
	f.run(workers, z, dst, nil, len(z)/f.Size, runBaseScore)
}
