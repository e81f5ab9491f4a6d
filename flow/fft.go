package flow

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"

	"latflow/nn"
)

// fft2 is the unnormalized 2D discrete Fourier transform of an L x L
// complex array (row-major, index n0*L + n1): rows, then columns. For L a
// power of two it is an iterative radix-2 transform with precomputed
// twiddles, on the columns in place with a stride; otherwise gonum's
// dsp/fourier on each row and on a copy of each column. An fft2 holds
// workspace: one per goroutine.
type fft2 struct {
	l    int
	rev  []int        // bit reversal of 0..L-1 (radix 2)
	tw   []complex128 // exp(-2 pi i k/L), k < L/2 (radix 2)
	cfft *fourier.CmplxFFT
	line []complex128
}

// newFFT2 returns the transform of the L x L lattice.
func newFFT2(L int) *fft2 {
	f := &fft2{l: L}
	if L >= 2 && L&(L-1) == 0 {
		shift := bits.UintSize - bits.TrailingZeros(uint(L))
		f.rev = make([]int, L)
		for i := range L {
			f.rev[i] = int(bits.Reverse(uint(i)) >> shift)
		}
		f.tw = make([]complex128, L/2)
		for k := range f.tw {
			s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(L))
			f.tw[k] = complex(c, s)
		}
		return f
	}
	f.cfft = fourier.NewCmplxFFT(L)
	f.line = make([]complex128, L)
	return f
}

// transform replaces buf by sum_x exp(-+i k.x) buf(x): the forward
// transform (exp(-i k.x)), or the backward one (exp(+i k.x)) if inverse;
// neither is normalized.
func (f *fft2) transform(buf []complex128, inverse bool) {
	L := f.l
	if f.rev != nil {
		for r := range L {
			f.radix2(buf[r*L:], 1, inverse)
		}
		for c := range L {
			f.radix2(buf[c:], L, inverse)
		}
		return
	}
	step := func(line []complex128) {
		if inverse {
			f.cfft.Sequence(line, line)
		} else {
			f.cfft.Coefficients(line, line)
		}
	}
	for r := range L {
		step(buf[r*L : (r+1)*L])
	}
	for c := range L {
		for r := range L {
			f.line[r] = buf[r*L+c]
		}
		step(f.line)
		for r := range L {
			buf[r*L+c] = f.line[r]
		}
	}
}

// radix2 transforms the L numbers a[0], a[s], ..., a[(L-1)s] in place.
func (f *fft2) radix2(a []complex128, s int, inverse bool) {
	L := f.l
	for i, j := range f.rev {
		if i < j {
			a[i*s], a[j*s] = a[j*s], a[i*s]
		}
	}
	for size := 2; size <= L; size <<= 1 {
		half, step := size/2, L/size
		for start := 0; start < L; start += size {
			for k := range half {
				w := f.tw[k*step]
				if inverse {
					w = complex(real(w), -imag(w))
				}
				p, q := (start+k)*s, (start+k+half)*s
				u, v := a[p], a[q]*w
				a[p], a[q] = u+v, u-v
			}
		}
	}
}

// dftTo writes into buf the unnormalized transform sum_x exp(-i k.x) src(x)
// of the real field src (V^(1/2) phi_k in GaussKBase's convention).
func dftTo[T nn.Float](f *fft2, buf []complex128, src []T) {
	for i, v := range src {
		buf[i] = complex(float64(v), 0)
	}
	f.transform(buf, false)
}

// filterBackTo multiplies the transform in buf by h(k)/V, transforms it
// back (buf is overwritten) and writes its real part into dst: with
// dftTo before it, dst = U^H diag(h) U src for an even h.
func filterBackTo[T nn.Float](f *fft2, dst []T, buf []complex128, h []float64) {
	s := 1 / float64(len(buf))
	for k := range buf {
		buf[k] *= complex(h[k]*s, 0)
	}
	f.transform(buf, true)
	for i := range dst {
		dst[i] = T(real(buf[i]))
	}
}
