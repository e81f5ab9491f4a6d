package fermion

import (
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/blas/gonum"
)

// luFactorize overwrites the row-major n x n matrix a with its LU
// factorization with partial pivoting, PA = LU (unit lower L below the
// diagonal, U on and above it), and records the row swaps in piv (row k
// was swapped with piv[k]). It returns log|det A| and the phase det A /
// |det A|, or an error if a pivot is exactly zero. It does not allocate.
func luFactorize(a []complex128, n int, piv []int) (logAbs float64, phase complex128, err error) {
	if len(a) != n*n || len(piv) != n {
		panic(fmt.Sprintf("fermion: luFactorize: len(a)=%d, len(piv)=%d, want %d and %d", len(a), len(piv), n*n, n))
	}
	phase = 1
	for k := range n {
		// Pivot: the largest |a_ik| (in the 1-norm of re and im, cheap and
		// as stable) on or below the diagonal.
		p, best := k, -1.0
		for i := k; i < n; i++ {
			v := a[i*n+k]
			if m := math.Abs(real(v)) + math.Abs(imag(v)); m > best {
				p, best = i, m
			}
		}
		piv[k] = p
		if best == 0 {
			return math.Inf(-1), 0, fmt.Errorf("fermion: LU: matrix singular (zero pivot in column %d of %d)", k, n)
		}
		if p != k {
			rk, rp := a[k*n:(k+1)*n], a[p*n:(p+1)*n]
			for j := range rk {
				rk[j], rp[j] = rp[j], rk[j]
			}
			phase = -phase
		}
		d := a[k*n+k]
		ad := cmplx.Abs(d)
		logAbs += math.Log(ad)
		phase *= d / complex(ad, 0)
		inv := 1 / d
		rowK := a[k*n+k+1 : (k+1)*n]
		for i := k + 1; i < n; i++ {
			l := a[i*n+k] * inv
			a[i*n+k] = l
			if l == 0 {
				continue
			}
			zaxpy(a[i*n+k+1:(i+1)*n], -l, rowK)
		}
	}
	return logAbs, phase, nil
}

// luInverse writes A^-1 into inv (row-major n x n) from the factorization
// a, piv of luFactorize. inv must not share memory with a. With PA = LU,
// A^-1 = U^-1 L^-1 P: it forms L^-1 (lower triangular, so row k has
// entries only up to column k), then U^-1 L^-1 by back substitution, then
// swaps columns for P, about (2/3) n^3 complex multiply-adds less the zero
// entries of L and U that are skipped. The loops run along contiguous
// rows. It does not allocate.
func luInverse(inv, a []complex128, n int, piv []int) {
	if len(a) != n*n || len(inv) != n*n || len(piv) != n {
		panic(fmt.Sprintf("fermion: luInverse: len(inv)=%d, len(a)=%d, len(piv)=%d, want %d, %d and %d", len(inv), len(a), len(piv), n*n, n*n, n))
	}
	clear(inv)
	// Z = L^-1: row i = e_i - sum_(k<i) l_ik row k.
	for i := range n {
		rowI := inv[i*n : (i+1)*n]
		rowI[i] = 1
		for k := range i {
			l := a[i*n+k]
			if l == 0 {
				continue
			}
			zaxpy(rowI[:k+1], -l, inv[k*n:k*n+k+1])
		}
	}
	// W = U^-1 Z: row i = (row i - sum_(k>i) u_ik row k) / u_ii.
	for i := n - 1; i >= 0; i-- {
		rowI := inv[i*n : (i+1)*n]
		for k := i + 1; k < n; k++ {
			u := a[i*n+k]
			if u == 0 {
				continue
			}
			zaxpy(rowI, -u, inv[k*n:(k+1)*n])
		}
		s := 1 / a[i*n+i]
		for j := range rowI {
			rowI[j] *= s
		}
	}
	// A^-1 = W P, P = S_(n-1) ... S_0 with S_k the swap of k and piv[k]:
	// swap columns, k from n-1 down to 0.
	for k := n - 1; k >= 0; k-- {
		p := piv[k]
		if p == k {
			continue
		}
		for i := range n {
			r := inv[i*n : (i+1)*n]
			r[k], r[p] = r[p], r[k]
		}
	}
}

// zaxpy sets dst += alpha src (equal lengths) with gonum's assembly.
func zaxpy(dst []complex128, alpha complex128, src []complex128) {
	gonum.Implementation{}.Zaxpy(len(dst), alpha, src, 1, dst, 1)
}
