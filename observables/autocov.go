package observables

import (
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
)

// directLags is the number of lags of the autocorrelation function computed
// by direct summation, O(N) each; beyond it, all lags up to W_max are
// computed at once by FFT in O(N log N).
const directLags = 256

// autocov is the replica-averaged autocorrelation function
// Gamma(t) = sum_r sum_i d_r(i) d_r(i+t) / (N - R t) of the deviations d,
// computed lazily for 0 <= t <= wmax.
type autocov struct {
	dev  [][]float64
	n    int
	wmax int
	// sums[t] = sum_r sum_i d_r(i) d_r(i+t) for the lags computed so far.
	sums []float64
}

func newAutocov(dev [][]float64, n, wmax int) *autocov {
	return &autocov{dev: dev, n: n, wmax: wmax, sums: make([]float64, 0, min(wmax+1, directLags))}
}

// gamma returns Gamma(t), 0 <= t <= wmax.
func (a *autocov) gamma(t int) float64 {
	if t < 0 || t > a.wmax {
		panic("observables: autocorrelation lag out of range")
	}
	for len(a.sums) <= t {
		k := len(a.sums)
		if k < directLags {
			a.sums = append(a.sums, lagSum(a.dev, k))
			continue
		}
		all := make([]float64, a.wmax+1)
		lagSumsFFT(all, a.dev)
		a.sums = append(a.sums, all[k:]...)
	}
	return a.sums[t] / float64(a.n-len(a.dev)*t)
}

// lagSum returns sum_r sum_i d_r(i) d_r(i+t) by direct summation. It is the
// reference for lagSumsFFT.
func lagSum(dev [][]float64, t int) float64 {
	var s float64
	for _, d := range dev {
		if t >= len(d) {
			continue
		}
		y := d[t:]
		x := d[:len(y)]
		for i, v := range x {
			s += v * y[i]
		}
	}
	return s
}

// lagSumsFFT writes sum_r sum_i d_r(i) d_r(i+t) into dst[t] for all
// 0 <= t < len(dst), using zero-padded real FFTs (Wiener-Khinchin).
func lagSumsFFT(dst []float64, dev [][]float64) {
	clear(dst)
	var (
		fft   *fourier.FFT
		seq   []float64
		coeff []complex128
	)
	for _, d := range dev {
		// Padding to at least len(d) + len(dst) keeps the circular
		// correlation free of wrap-around for the lags wanted.
		size := 1 << bits.Len(uint(len(d)+len(dst)-1))
		if fft == nil || fft.Len() != size {
			fft = fourier.NewFFT(size)
			seq = make([]float64, size)
			coeff = make([]complex128, size/2+1)
		}
		clear(seq)
		copy(seq, d)
		fft.Coefficients(coeff, seq)
		for k, c := range coeff {
			coeff[k] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
		}
		fft.Sequence(seq, coeff)
		norm := 1 / float64(size)
		for t := range dst {
			if t < len(d) {
				dst[t] += seq[t] * norm
			}
		}
	}
}
