//go:build !purego

#include "textflag.h"

// AVX-512 bodies of AddRowSums (elementwise.go): dst[i] += the sum of row i
// of src, rows of n elements back to back. Each row is summed in four
// vector accumulators over blocks of four vectors (64 float32 or 32
// float64), then (a0 + a1) + (a2 + a3), then its lanes by a fixed tree of
// halvings. The Go wrapper passes rows > 0 and n > 0, a multiple of the
// block.

// func addRowSumsF32AVX512(dst, src *float32, rows, n int)
TEXT ·addRowSumsF32AVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $2, CX

s32row:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX

s32x:
	VADDPS (SI)(AX*1), Z0, Z0
	VADDPS 64(SI)(AX*1), Z1, Z1
	VADDPS 128(SI)(AX*1), Z2, Z2
	VADDPS 192(SI)(AX*1), Z3, Z3
	ADDQ   $256, AX
	CMPQ   AX, CX
	JLT    s32x

	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VADDPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VADDSS        X1, X0, X0
	VADDSS        (DI), X0, X0
	VMOVSS        X0, (DI)
	ADDQ          CX, SI
	ADDQ          $4, DI
	DECQ          DX
	JNZ           s32row
	VZEROUPPER
	RET

// func addRowSumsF64AVX512(dst, src *float64, rows, n int)
TEXT ·addRowSumsF64AVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ n+24(FP), CX
	SHLQ $3, CX

s64row:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	XORQ   AX, AX

s64x:
	VADDPD (SI)(AX*1), Z0, Z0
	VADDPD 64(SI)(AX*1), Z1, Z1
	VADDPD 128(SI)(AX*1), Z2, Z2
	VADDPD 192(SI)(AX*1), Z3, Z3
	ADDQ   $256, AX
	CMPQ   AX, CX
	JLT    s64x

	VADDPD        Z1, Z0, Z0
	VADDPD        Z3, Z2, Z2
	VADDPD        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	VADDSD        (DI), X0, X0
	VMOVSD        X0, (DI)
	ADDQ          CX, SI
	ADDQ          $8, DI
	DECQ          DX
	JNZ           s64row
	VZEROUPPER
	RET
