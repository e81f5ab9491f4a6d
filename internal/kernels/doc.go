// Package kernels holds the arithmetic inner loops of package nn: periodic
// two-dimensional convolution of one channel plane, its adjoint, its weight
// gradient, whole layers four channels at a time (the row kernels), and the
// elementwise activations.
//
// Conventions:
//
//   - A plane is an L x L field in the site order of package lattice: site
//     (x0, x1) has index x0*L + x1, so x1 is the contiguous axis. Boundaries
//     are periodic in both directions.
//   - A K x K kernel w (K odd, h = K/2) is flat with index k0*K + k1 and acts
//     as a cross-correlation (as in PyTorch):
//     dst[x0, x1] += sum_{k0,k1} w[k0*K+k1] * src[x0+k0-h, x1+k1-h].
//   - Two fast forms of each convolution kernel: the direct ones (ConvPlane,
//     ConvPlaneAdjoint, ConvWeightGrad) need no workspace and keep a 3 x 3
//     stencil in registers, with the periodic wrap split off into boundary
//     sites; the shifted-row ones (ConvShifted, ConvShiftedAdjoint,
//     ConvWeightGradShifted) read K periodically shifted copies of the plane
//     made by ShiftRowsTo, so that every kernel entry is one contiguous axpy
//     or dot of length L*L, run on gonum's assembly for float32 and float64
//     (2x faster than the direct form at L = 16 in float32).
//   - The row kernels (RowCombine4To, RowDots4; rows.go) do a whole layer
//     from the same shifted-row copies as one small matrix product, four
//     output channels at a time with the sums in registers, reading the
//     weights in place through the coefficient offsets of a RowTable, and
//     fuse the LeakyReLU (or its VJP) into the store (Epilogue).
//     ShiftPlanesTo makes the copies of all planes of a layer in one call,
//     AddRowSums the bias gradients, TanhTo the output activation.
//   - Instruction sets, chosen once at run time from the CPU's features
//     (isa.go): AVX-512 (F, BW, DQ, VL; rows512_amd64.s, shift512_amd64.s,
//     sums512_amd64.s), else AVX2 with FMA (rows_amd64.s, shift_amd64.s),
//     else, and always with the build tag purego or off amd64, the
//     reference loops. The AVX-512 row kernels keep 16 ZMM sums (4 output
//     rows x 64 float32 or 32 float64 sites, or 4 x 4 rows for RowDots4,
//     reduced by a fixed tree of shuffles); sites beyond the last full tile
//     go to the AVX2 body, then to the reference loop. The tests run every
//     level the CPU supports against the reference loops (levels()).
//   - The assembly rounds once per multiply-add and sums in its own order,
//     so it agrees with the references to rounding, not bit for bit, but it
//     is deterministic: the same inputs give the same bits on every call.
//     The shifts only copy, so their assembly is exact.
//   - Every fast kernel has a plain reference loop beside it (ConvPlaneRef,
//     ConvPlaneAdjointRef, ConvWeightGradRef, AxpyRef, DotRef,
//     RowCombine4Ref, RowDots4Ref, ShiftRowsRef, Sum for AddRowSums), used
//     by the tests and benchmarks.
//   - Kernels accumulate into their destination unless the name ends in To.
//     They do not check shapes beyond what the Go runtime checks; package nn
//     does the checks. The exceptions are the functions with assembly
//     bodies, which check every bound they touch and panic ("kernels: ...").
//     Destination and source must not overlap unless the function says so.
//   - No kernel allocates.
package kernels

// Float is the set of floating-point element types the kernels work on.
type Float interface{ ~float32 | ~float64 }
