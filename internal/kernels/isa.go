package kernels

// isa is an instruction set the kernels can run on; higher is faster.
type isa int

const (
	// isaGo runs the reference loops (or, for the axpy kernels, gonum).
	isaGo isa = iota
	// isaAVX2 runs the AVX2 and FMA assembly.
	isaAVX2
	// isaAVX512 runs the AVX-512 (F, BW, DQ, VL) assembly.
	isaAVX512
)

// String names the level as the subtests do.
func (lv isa) String() string {
	switch lv {
	case isaGo:
		return "go"
	case isaAVX2:
		return "avx2"
	case isaAVX512:
		return "avx512"
	}
	return "unknown"
}

// best is the fastest level this CPU supports, chosen once at package
// initialisation (detect is in isa_amd64.go and isa_other.go) and never
// changed: the exported kernels run on it.
var best = detect()

// levels returns every level this CPU supports, slowest first; the tests
// run each.
func levels() []isa {
	var lv []isa
	for l := isaGo; l <= best; l++ {
		lv = append(lv, l)
	}
	return lv
}
