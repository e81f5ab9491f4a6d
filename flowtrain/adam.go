package flowtrain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Adam is the Adam optimizer of Kingma and Ba (arXiv 1412.6980) with the
// usual bias correction, as torch.optim.Adam without weight decay or
// amsgrad: at step t = Step+1, for each coordinate,
//
//	m = Beta1 m + (1 - Beta1) g
//	v = Beta2 v + (1 - Beta2) g^2
//	p = p - lr/(1 - Beta1^t) * m / (sqrt(v)/sqrt(1 - Beta2^t) + Eps)
//
// so Eps is added after the square root of the corrected second moment.
// The state is exported so that a checkpoint can save and restore it bit
// for bit (see MarshalBinary); M and V have the length of the parameters.
type Adam struct {
	Beta1, Beta2, Eps float64
	M, V              []float64 // first and second moment estimates
	Step              int       // number of updates done
}

// NewAdam returns an Adam for n parameters with the defaults of
// torch.optim.Adam: Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8.
func NewAdam(n int) *Adam {
	if n < 0 {
		panic(fmt.Sprintf("flowtrain: NewAdam: n=%d < 0", n))
	}
	return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: make([]float64, n), V: make([]float64, n)}
}

// Update performs one Adam step in place on params with the gradient grad
// of the loss and the learning rate lr, and increments Step. It does not
// allocate and does not check grad: a NaN or Inf poisons M and V for good,
// so callers test the gradient with Finite first. It panics if the lengths
// of params, grad, M and V differ or a hyperparameter is invalid.
func (a *Adam) Update(params, grad []float64, lr float64) {
	n := len(a.M)
	if len(a.V) != n || len(params) != n || len(grad) != n {
		panic(fmt.Sprintf("flowtrain: Adam.Update: len(params)=%d, len(grad)=%d, len(M)=%d, len(V)=%d, want all equal",
			len(params), len(grad), n, len(a.V)))
	}
	if err := a.check(); err != nil {
		panic("flowtrain: Adam.Update: " + err.Error())
	}
	if !(lr >= 0) || math.IsInf(lr, 1) {
		panic(fmt.Sprintf("flowtrain: Adam.Update: lr=%g, want finite and >= 0", lr))
	}
	a.Step++
	t := float64(a.Step)
	b1, b2, eps := a.Beta1, a.Beta2, a.Eps
	c1, c2 := 1-b1, 1-b2
	stepSize := lr / (1 - math.Pow(b1, t))
	bc2Sqrt := math.Sqrt(1 - math.Pow(b2, t))
	m, v := a.M[:n], a.V[:n]
	params, grad = params[:n], grad[:n]
	for i, g := range grad {
		mi := b1*m[i] + c1*g
		vi := b2*v[i] + c2*g*g
		m[i], v[i] = mi, vi
		params[i] -= stepSize * mi / (math.Sqrt(vi)/bc2Sqrt + eps)
	}
}

// check reports invalid hyperparameters or state.
func (a *Adam) check() error {
	switch {
	case !(a.Beta1 >= 0 && a.Beta1 < 1):
		return fmt.Errorf("Beta1=%g, want in [0, 1)", a.Beta1)
	case !(a.Beta2 >= 0 && a.Beta2 < 1):
		return fmt.Errorf("Beta2=%g, want in [0, 1)", a.Beta2)
	case !(a.Eps >= 0) || math.IsInf(a.Eps, 1):
		return fmt.Errorf("Eps=%g, want finite and >= 0", a.Eps)
	case a.Step < 0:
		return fmt.Errorf("Step=%d, want >= 0", a.Step)
	}
	return nil
}

// The binary encoding of Adam, version 1, little-endian:
//
//	magic "ADAM" | version uint32 | Beta1, Beta2, Eps float64 bits |
//	Step int64 | n uint64 | M[0..n) | V[0..n) float64 bits |
//	CRC-32 (IEEE) of all preceding bytes, uint32
const (
	adamMagic   = "ADAM"
	adamVersion = 1
	adamHeader  = 4 + 4 + 3*8 + 8 + 8 // bytes before M
	adamTrailer = 4                   // the CRC
)

// MarshalBinary encodes the hyperparameters and state of a, float64s as
// their bits, so that UnmarshalBinary restores them exactly.
func (a *Adam) MarshalBinary() ([]byte, error) {
	if len(a.V) != len(a.M) {
		return nil, fmt.Errorf("flowtrain: Adam.MarshalBinary: len(M)=%d, len(V)=%d, want equal", len(a.M), len(a.V))
	}
	n := len(a.M)
	b := make([]byte, 0, adamHeader+16*n+adamTrailer)
	b = append(b, adamMagic...)
	b = binary.LittleEndian.AppendUint32(b, adamVersion)
	for _, x := range [...]float64{a.Beta1, a.Beta2, a.Eps} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(int64(a.Step)))
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	for _, s := range [...][]float64{a.M, a.V} {
		for _, x := range s {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return b, nil
}

// UnmarshalBinary replaces the hyperparameters and state of a with those
// encoded in data by MarshalBinary. It returns an error, leaving a
// unchanged, if data is truncated, corrupted (checksum), of another
// version, or holds invalid hyperparameters. Callers check that len(a.M)
// matches their parameters afterwards.
func (a *Adam) UnmarshalBinary(data []byte) error {
	const p = "flowtrain: Adam.UnmarshalBinary: "
	if len(data) < len(adamMagic) || string(data[:len(adamMagic)]) != adamMagic {
		return errors.New(p + "not Adam state (bad magic)")
	}
	if len(data) < adamHeader+adamTrailer {
		return fmt.Errorf(p+"truncated: %d bytes, want at least %d", len(data), adamHeader+adamTrailer)
	}
	if v := binary.LittleEndian.Uint32(data[4:]); v != adamVersion {
		return fmt.Errorf(p+"version %d, want %d", v, adamVersion)
	}
	n := binary.LittleEndian.Uint64(data[40:])
	if maxN := uint64(len(data)-adamHeader-adamTrailer) / 16; n > maxN {
		return fmt.Errorf(p+"truncated: %d bytes hold at most %d parameters, header says %d", len(data), maxN, n)
	}
	if want := adamHeader + 16*int(n) + adamTrailer; len(data) != want {
		return fmt.Errorf(p+"length %d bytes, want %d for %d parameters", len(data), want, n)
	}
	body := data[:len(data)-adamTrailer]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(data[len(body):]); got != want {
		return fmt.Errorf(p+"checksum mismatch (got %08x, want %08x): corrupted state", got, want)
	}
	f := func(off int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(data[off:])) }
	step := int64(binary.LittleEndian.Uint64(data[32:]))
	if step < 0 || step > math.MaxInt {
		return fmt.Errorf(p+"Step=%d out of range", step)
	}
	b := Adam{Beta1: f(8), Beta2: f(16), Eps: f(24), Step: int(step)}
	if err := b.check(); err != nil {
		return errors.New(p + err.Error())
	}
	b.M = make([]float64, n)
	b.V = make([]float64, n)
	for i := range b.M {
		b.M[i] = f(adamHeader + 8*i)
		b.V[i] = f(adamHeader + 8*(int(n)+i))
	}
	*a = b
	return nil
}
