package vmath

// level is an instruction set the loops can run on; higher is faster.
type level int

const (
	// levelGo runs the scalar references.
	levelGo level = iota
	// levelAVX2 runs the AVX2 and FMA assembly.
	levelAVX2
)

// String names the level as the tests' subtests do.
func (lv level) String() string {
	switch lv {
	case levelGo:
		return "go"
	case levelAVX2:
		return "avx2"
	}
	return "unknown"
}

// best is the fastest level this CPU supports, chosen once at package
// initialisation (detect is in the per-platform files) and never changed.
var best = detect()

// levels returns the levels this CPU supports, slowest first: the tests
// run every one of them.
func levels() []level {
	var lv []level
	for l := levelGo; l <= best; l++ {
		lv = append(lv, l)
	}
	return lv
}
