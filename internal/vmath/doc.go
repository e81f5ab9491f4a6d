// Package vmath holds vectorized elementary functions on slices, the
// transcendental work of the flow layers: Exp, Exp32, Sincos, Atan2, Log
// and Tanh32. The U(1) coupling's mixture of non-compact projections runs
// in float64 for both precisions of a flow (it divides by g', which spans
// e^(2|s|)), so its sincos, exp, atan2 and log are the float64 ones; the
// float32 forms are those the float32 layers apply to float32 data: exp of
// the RealNVP log-scales and tanh of the conditioner outputs. No layer
// uses tan: the NCP is evaluated as 2 atan2(e sin(x/2), cos(x/2)).
//
// Conventions:
//
//   - Each function writes dst[i] = f(x[i]) for every i (destination
//     first); dst may be the same slice as an input, element by element. The
//     slices must have equal lengths, or the function panics ("vmath: ...").
//     No function allocates.
//   - Each function has a scalar reference (exp1, exp32One, sincos1,
//     atan21, log1, tanh32One) written as the same sequence of IEEE
//     operations as its assembly: the same fused multiply-adds (math.FMA),
//     divisions, roundings and bit manipulations, in the same order. The assembly therefore gives the
//     same bits as the reference on every input, NaNs aside (the tests check
//     it), and the reference is the fallback elsewhere and under the build
//     tag purego.
//   - On amd64 with AVX2 and FMA the loops run in assembly, four float64 or
//     float32 elements computed in four float64 lanes (exp_amd64.s,
//     sincos_amd64.s, atan2_amd64.s, log_amd64.s, tanh_amd64.s); the
//     remaining elements run the reference. The choice is made once from
//     the CPU's features (see best). There is no AVX-512 form: these loops
//     are a few per cent of a training step, and the divisions that bound
//     Atan2, Log and Tanh32 have the same throughput per lane in ZMM.
//   - The functions are table-free: argument reduction, then a polynomial
//     (or, for atan, the rational function of Cephes), then reconstruction.
//     Domains and special values follow package math: Exp overflows to +Inf
//     and underflows through the subnormals to 0; Log(0) = -Inf, Log(x < 0)
//     = NaN; Atan2 handles signed zeros and infinities as math.Atan2; NaN in
//     gives NaN out. Sincos reduces by pi/2 in three parts (exact in the
//     first), valid for |x| <= SincosMax; larger or non-finite arguments are
//     handed to math.Sincos element by element.
//
// Accuracy. The error in ULP of the result against the exact value
// (computed in math/big at 320 bits), as measured by the tests over the
// whole input range (random mantissas in every binade of finite inputs,
// both signs, subnormals, the special values, and dense sweeps of the range
// the layers use; every input where a function and package math differ by
// more than an ULP, and a sample of about 4000 others, judged against the
// exact value), and the bound the tests assert:
//
//	function  type     measured max  asserted  package math, same inputs
//	Exp       float64  0.737 ULP     1         +Inf at 709.782712893384 (exact: finite)
//	Exp32     float32  0.503 ULP     1         0.5 (math.Exp rounded to float32)
//	Sincos    float64  0.709 (sin)   1         6.88 (sin(pi): 33-bit parts of pi/4)
//	                   0.655 (cos)
//	Atan2     float64  1.297 ULP     2         +-pi wrong in sign where y/x underflows
//	Log       float64  0.737 ULP     1         subnormals read as 2^-1023 (amd64 assembly)
//	Tanh32    float32  0.500 ULP     1         0.5 (math.Tanh rounded to float32)
//
// TestExp, TestExp32, TestSincos, TestAtan2, TestLog and TestTanh32 print
// these figures with -v; TestMathReferenceErrors records package math's own
// errors above.
package vmath
