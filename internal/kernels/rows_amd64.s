//go:build !purego

#include "textflag.h"

// AVX2 + FMA bodies of RowCombine4To and RowDots4 (see rows.go). The Go
// wrappers check every bound and pass n > 0, a multiple of the tile width
// (16 float32 or 8 float64 sites), 1 <= m <= 4 and np >= 1. tab points to
// the RowTable's pairs (source offset, coefficient offset) of row p at
// 8p bytes.
//
// rowCombine4: 4 output rows x 2 vectors of sites in Y0..Y7 (row r in
// Y(2r), Y(2r+1)); per row p, two loads of the source row and four
// broadcast coefficients, w[coef(p) + coff[r]] read through the bases
// R12, R13, R14 and CX = w + coff[r], feed eight FMAs.
//
// rowDots4: 4 cotangent rows x 2 source rows (pairs of table entries) in Y8..Y15 (row r, source j in
// Y(8+2r+j)); per vector of sites, six loads feed eight FMAs; the lanes are
// summed at the end of the pair of source rows.

// Epilogue codes, as the Epilogue constants in rows.go.
#define EPI_LEAKY 1
#define EPI_LEAKYVJP 2

// func rowCombine4F32AVX2(dst *float32, ld, m int, w *float32, coff *[4]int32, src *float32, tab *int32, np int, bias, y *float32, epi, n int, slope float32)
TEXT ·rowCombine4F32AVX2(SB), NOSPLIT, $0-100
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), R9
	SHLQ $2, R9
	MOVQ src+40(FP), SI
	MOVQ y+72(FP), R10
	MOVQ n+88(FP), R11
	MOVQ tab+48(FP), DX
	// Coefficient bases w + coff[r].
	MOVQ    w+24(FP), AX
	MOVQ    coff+32(FP), BX
	MOVLQSX 0(BX), R8
	LEAQ    (AX)(R8*4), R12
	MOVLQSX 4(BX), R8
	LEAQ    (AX)(R8*4), R13
	MOVLQSX 8(BX), R8
	LEAQ    (AX)(R8*4), R14
	MOVLQSX 12(BX), R8
	LEAQ    (AX)(R8*4), CX
	VBROADCASTSS slope+96(FP), Y15
	VXORPS Y14, Y14, Y14

f32tile:
	MOVQ bias+64(FP), AX
	VBROADCASTSS 0(AX), Y0
	VMOVAPS Y0, Y1
	VBROADCASTSS 4(AX), Y2
	VMOVAPS Y2, Y3
	VBROADCASTSS 8(AX), Y4
	VMOVAPS Y4, Y5
	VBROADCASTSS 12(AX), Y6
	VMOVAPS Y6, Y7
	XORQ BX, BX

f32p:
	MOVLQSX (DX)(BX*8), AX
	MOVLQSX 4(DX)(BX*8), R8
	VMOVUPS (SI)(AX*4), Y8
	VMOVUPS 32(SI)(AX*4), Y9
	VBROADCASTSS (R12)(R8*4), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (R13)(R8*4), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (R14)(R8*4), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (CX)(R8*4), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	INCQ BX
	CMPQ BX, np+56(FP)
	JLT  f32p

	// R8 = 3 ld, AX = m.
	LEAQ (R9)(R9*2), R8
	MOVQ m+16(FP), AX
	MOVQ epi+80(FP), BX
	CMPQ BX, $EPI_LEAKY
	JEQ  f32leaky
	CMPQ BX, $EPI_LEAKYVJP
	JEQ  f32vjp
	JMP  f32store

f32leaky:
	// max(v, slope*v) is v for v > 0 and slope*v otherwise (slope < 1);
	// on ties (+-0) and NaN VMAXPS returns its second operand, slope*v.
#define LEAKY32(ya) VMULPS Y15, ya, Y8; VMAXPS Y8, ya, ya
	LEAKY32(Y0)
	LEAKY32(Y1)
	LEAKY32(Y2)
	LEAKY32(Y3)
	LEAKY32(Y4)
	LEAKY32(Y5)
	LEAKY32(Y6)
	LEAKY32(Y7)
	JMP f32store

f32vjp:
	// v where y > 0 (ordered), slope*v otherwise; rows r >= m are not read.
#define VJP32(ya, yb, ymem0, ymem1) VMOVUPS ymem0, Y8; VMOVUPS ymem1, Y9; VCMPPS $0x1e, Y14, Y8, Y8; VCMPPS $0x1e, Y14, Y9, Y9; VMULPS Y15, ya, Y10; VMULPS Y15, yb, Y11; VBLENDVPS Y8, ya, Y10, ya; VBLENDVPS Y9, yb, Y11, yb
	VJP32(Y0, Y1, (R10), 32(R10))
	CMPQ AX, $1
	JLE  f32store
	VJP32(Y2, Y3, (R10)(R9*1), 32(R10)(R9*1))
	CMPQ AX, $2
	JLE  f32store
	VJP32(Y4, Y5, (R10)(R9*2), 32(R10)(R9*2))
	CMPQ AX, $3
	JLE  f32store
	VJP32(Y6, Y7, (R10)(R8*1), 32(R10)(R8*1))

f32store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	CMPQ    AX, $1
	JLE     f32next
	VMOVUPS Y2, (DI)(R9*1)
	VMOVUPS Y3, 32(DI)(R9*1)
	CMPQ    AX, $2
	JLE     f32next
	VMOVUPS Y4, (DI)(R9*2)
	VMOVUPS Y5, 32(DI)(R9*2)
	CMPQ    AX, $3
	JLE     f32next
	VMOVUPS Y6, (DI)(R8*1)
	VMOVUPS Y7, 32(DI)(R8*1)

f32next:
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R10
	SUBQ $16, R11
	JNZ  f32tile
	VZEROUPPER
	RET

// func rowCombine4F64AVX2(dst *float64, ld, m int, w *float64, coff *[4]int32, src *float64, tab *int32, np int, bias, y *float64, epi, n int, slope float64)
TEXT ·rowCombine4F64AVX2(SB), NOSPLIT, $0-104
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), R9
	SHLQ $3, R9
	MOVQ src+40(FP), SI
	MOVQ y+72(FP), R10
	MOVQ n+88(FP), R11
	MOVQ tab+48(FP), DX
	MOVQ    w+24(FP), AX
	MOVQ    coff+32(FP), BX
	MOVLQSX 0(BX), R8
	LEAQ    (AX)(R8*8), R12
	MOVLQSX 4(BX), R8
	LEAQ    (AX)(R8*8), R13
	MOVLQSX 8(BX), R8
	LEAQ    (AX)(R8*8), R14
	MOVLQSX 12(BX), R8
	LEAQ    (AX)(R8*8), CX
	VBROADCASTSD slope+96(FP), Y15
	VXORPD Y14, Y14, Y14

f64tile:
	MOVQ bias+64(FP), AX
	VBROADCASTSD 0(AX), Y0
	VMOVAPD Y0, Y1
	VBROADCASTSD 8(AX), Y2
	VMOVAPD Y2, Y3
	VBROADCASTSD 16(AX), Y4
	VMOVAPD Y4, Y5
	VBROADCASTSD 24(AX), Y6
	VMOVAPD Y6, Y7
	XORQ BX, BX

f64p:
	MOVLQSX (DX)(BX*8), AX
	MOVLQSX 4(DX)(BX*8), R8
	VMOVUPD (SI)(AX*8), Y8
	VMOVUPD 32(SI)(AX*8), Y9
	VBROADCASTSD (R12)(R8*8), Y10
	VFMADD231PD Y8, Y10, Y0
	VFMADD231PD Y9, Y10, Y1
	VBROADCASTSD (R13)(R8*8), Y11
	VFMADD231PD Y8, Y11, Y2
	VFMADD231PD Y9, Y11, Y3
	VBROADCASTSD (R14)(R8*8), Y12
	VFMADD231PD Y8, Y12, Y4
	VFMADD231PD Y9, Y12, Y5
	VBROADCASTSD (CX)(R8*8), Y13
	VFMADD231PD Y8, Y13, Y6
	VFMADD231PD Y9, Y13, Y7
	INCQ BX
	CMPQ BX, np+56(FP)
	JLT  f64p

	LEAQ (R9)(R9*2), R8
	MOVQ m+16(FP), AX
	MOVQ epi+80(FP), BX
	CMPQ BX, $EPI_LEAKY
	JEQ  f64leaky
	CMPQ BX, $EPI_LEAKYVJP
	JEQ  f64vjp
	JMP  f64store

f64leaky:
#define LEAKY64(ya) VMULPD Y15, ya, Y8; VMAXPD Y8, ya, ya
	LEAKY64(Y0)
	LEAKY64(Y1)
	LEAKY64(Y2)
	LEAKY64(Y3)
	LEAKY64(Y4)
	LEAKY64(Y5)
	LEAKY64(Y6)
	LEAKY64(Y7)
	JMP f64store

f64vjp:
#define VJP64(ya, yb, ymem0, ymem1) VMOVUPD ymem0, Y8; VMOVUPD ymem1, Y9; VCMPPD $0x1e, Y14, Y8, Y8; VCMPPD $0x1e, Y14, Y9, Y9; VMULPD Y15, ya, Y10; VMULPD Y15, yb, Y11; VBLENDVPD Y8, ya, Y10, ya; VBLENDVPD Y9, yb, Y11, yb
	VJP64(Y0, Y1, (R10), 32(R10))
	CMPQ AX, $1
	JLE  f64store
	VJP64(Y2, Y3, (R10)(R9*1), 32(R10)(R9*1))
	CMPQ AX, $2
	JLE  f64store
	VJP64(Y4, Y5, (R10)(R9*2), 32(R10)(R9*2))
	CMPQ AX, $3
	JLE  f64store
	VJP64(Y6, Y7, (R10)(R8*1), 32(R10)(R8*1))

f64store:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	CMPQ    AX, $1
	JLE     f64next
	VMOVUPD Y2, (DI)(R9*1)
	VMOVUPD Y3, 32(DI)(R9*1)
	CMPQ    AX, $2
	JLE     f64next
	VMOVUPD Y4, (DI)(R9*2)
	VMOVUPD Y5, 32(DI)(R9*2)
	CMPQ    AX, $3
	JLE     f64next
	VMOVUPD Y6, (DI)(R8*1)
	VMOVUPD Y7, 32(DI)(R8*1)

f64next:
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R10
	SUBQ $8, R11
	JNZ  f64tile
	VZEROUPPER
	RET

// ADDR(j, r) sets AX = coef(p + j/8) + coff[r/4], the index in gw of the
// sum of cotangent row r/4 and table entry j/8 (DX at the pair of p, R12 at
// coff).
#define ADDR(j, r) MOVLQSX j(DX), AX; MOVLQSX r(R12), BX; ADDQ BX, AX

// Sum of the lanes of a Y register into the low element of its X half,
// with X4 as scratch.
#define HSUM32(y, x) VEXTRACTF128 $1, y, X4; VADDPS X4, x, x; VPERMILPS $0x4e, x, X4; VADDPS X4, x, x; VPERMILPS $0xb1, x, X4; VADDSS X4, x, x
#define HSUM64(y, x) VEXTRACTF128 $1, y, X4; VADDPD X4, x, x; VPERMILPD $1, x, X4; VADDSD X4, x, x

// func rowDots4F32AVX2(gw *float32, coff *[4]int32, m int, cot *float32, ld int, src *float32, tab *int32, np, n int)
TEXT ·rowDots4F32AVX2(SB), NOSPLIT, $0-72
	MOVQ n+64(FP), CX
	SHLQ $2, CX
	// Row pointers one past the end; the loop index runs from -n to 0.
	MOVQ src+40(FP), SI
	ADDQ CX, SI
	MOVQ cot+24(FP), R8
	ADDQ CX, R8
	MOVQ ld+32(FP), AX
	SHLQ $2, AX
	MOVQ m+16(FP), R13
	// Rows r >= m read row 0 (their sums are dropped).
	MOVQ R8, R9
	MOVQ R8, R10
	MOVQ R8, R11
	CMPQ R13, $1
	JLE  d32rows
	LEAQ (R8)(AX*1), R9
	CMPQ R13, $2
	JLE  d32rows
	LEAQ (R8)(AX*2), R10
	CMPQ R13, $3
	JLE  d32rows
	LEAQ (R10)(AX*1), R11

d32rows:
	MOVQ gw+0(FP), DI
	MOVQ coff+8(FP), R12
	MOVQ tab+48(FP), DX
	MOVQ np+56(FP), R14

d32pair:
	MOVLQSX (DX), AX
	MOVQ    AX, BX
	CMPQ    R14, $2
	JLT     d32single
	MOVLQSX 8(DX), BX

d32single:
	LEAQ   (SI)(AX*4), AX
	LEAQ   (SI)(BX*4), BX
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	MOVQ   n+64(FP), CX
	SHLQ   $2, CX
	NEGQ   CX

d32x:
	VMOVUPS     (AX)(CX*1), Y4
	VMOVUPS     (BX)(CX*1), Y5
	VMOVUPS     (R8)(CX*1), Y0
	VMOVUPS     (R9)(CX*1), Y1
	VMOVUPS     (R10)(CX*1), Y2
	VMOVUPS     (R11)(CX*1), Y3
	VFMADD231PS Y4, Y0, Y8
	VFMADD231PS Y5, Y0, Y9
	VFMADD231PS Y4, Y1, Y10
	VFMADD231PS Y5, Y1, Y11
	VFMADD231PS Y4, Y2, Y12
	VFMADD231PS Y5, Y2, Y13
	VFMADD231PS Y4, Y3, Y14
	VFMADD231PS Y5, Y3, Y15
	ADDQ        $32, CX
	JNZ         d32x

	// gw[r*ldw + p] += sum for r < m, then column p+1 if p+1 < np.
#define STORE32(y, x, addr) HSUM32(y, x); VADDSS addr, x, x; VMOVSS x, addr
	// gw[coff[r] + coef(p+j)] += sum (r, j): coef(p) at 4(DX), coef(p+1)
	// at 12(DX).
	ADDR(4, 0)
	STORE32(Y8, X8, (DI)(AX*4))
	CMPQ R13, $1
	JLE  d32col1
	ADDR(4, 4)
	STORE32(Y10, X10, (DI)(AX*4))
	CMPQ R13, $2
	JLE  d32col1
	ADDR(4, 8)
	STORE32(Y12, X12, (DI)(AX*4))
	CMPQ R13, $3
	JLE  d32col1
	ADDR(4, 12)
	STORE32(Y14, X14, (DI)(AX*4))

d32col1:
	CMPQ R14, $2
	JLT  d32next
	ADDR(12, 0)
	STORE32(Y9, X9, (DI)(AX*4))
	CMPQ R13, $1
	JLE  d32next
	ADDR(12, 4)
	STORE32(Y11, X11, (DI)(AX*4))
	CMPQ R13, $2
	JLE  d32next
	ADDR(12, 8)
	STORE32(Y13, X13, (DI)(AX*4))
	CMPQ R13, $3
	JLE  d32next
	ADDR(12, 12)
	STORE32(Y15, X15, (DI)(AX*4))

d32next:
	ADDQ $16, DX
	SUBQ $2, R14
	JG   d32pair
	VZEROUPPER
	RET

// func rowDots4F64AVX2(gw *float64, coff *[4]int32, m int, cot *float64, ld int, src *float64, tab *int32, np, n int)
TEXT ·rowDots4F64AVX2(SB), NOSPLIT, $0-72
	MOVQ n+64(FP), CX
	SHLQ $3, CX
	MOVQ src+40(FP), SI
	ADDQ CX, SI
	MOVQ cot+24(FP), R8
	ADDQ CX, R8
	MOVQ ld+32(FP), AX
	SHLQ $3, AX
	MOVQ m+16(FP), R13
	MOVQ R8, R9
	MOVQ R8, R10
	MOVQ R8, R11
	CMPQ R13, $1
	JLE  d64rows
	LEAQ (R8)(AX*1), R9
	CMPQ R13, $2
	JLE  d64rows
	LEAQ (R8)(AX*2), R10
	CMPQ R13, $3
	JLE  d64rows
	LEAQ (R10)(AX*1), R11

d64rows:
	MOVQ gw+0(FP), DI
	MOVQ coff+8(FP), R12
	MOVQ tab+48(FP), DX
	MOVQ np+56(FP), R14

d64pair:
	MOVLQSX (DX), AX
	MOVQ    AX, BX
	CMPQ    R14, $2
	JLT     d64single
	MOVLQSX 8(DX), BX

d64single:
	LEAQ   (SI)(AX*8), AX
	LEAQ   (SI)(BX*8), BX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15
	MOVQ   n+64(FP), CX
	SHLQ   $3, CX
	NEGQ   CX

d64x:
	VMOVUPD     (AX)(CX*1), Y4
	VMOVUPD     (BX)(CX*1), Y5
	VMOVUPD     (R8)(CX*1), Y0
	VMOVUPD     (R9)(CX*1), Y1
	VMOVUPD     (R10)(CX*1), Y2
	VMOVUPD     (R11)(CX*1), Y3
	VFMADD231PD Y4, Y0, Y8
	VFMADD231PD Y5, Y0, Y9
	VFMADD231PD Y4, Y1, Y10
	VFMADD231PD Y5, Y1, Y11
	VFMADD231PD Y4, Y2, Y12
	VFMADD231PD Y5, Y2, Y13
	VFMADD231PD Y4, Y3, Y14
	VFMADD231PD Y5, Y3, Y15
	ADDQ        $32, CX
	JNZ         d64x

#define STORE64(y, x, addr) HSUM64(y, x); VADDSD addr, x, x; VMOVSD x, addr
	// gw[coff[r] + coef(p+j)] += sum (r, j): coef(p) at 4(DX), coef(p+1)
	// at 12(DX).
	ADDR(4, 0)
	STORE64(Y8, X8, (DI)(AX*8))
	CMPQ R13, $1
	JLE  d64col1
	ADDR(4, 4)
	STORE64(Y10, X10, (DI)(AX*8))
	CMPQ R13, $2
	JLE  d64col1
	ADDR(4, 8)
	STORE64(Y12, X12, (DI)(AX*8))
	CMPQ R13, $3
	JLE  d64col1
	ADDR(4, 12)
	STORE64(Y14, X14, (DI)(AX*8))

d64col1:
	CMPQ R14, $2
	JLT  d64next
	ADDR(12, 0)
	STORE64(Y9, X9, (DI)(AX*8))
	CMPQ R13, $1
	JLE  d64next
	ADDR(12, 4)
	STORE64(Y11, X11, (DI)(AX*8))
	CMPQ R13, $2
	JLE  d64next
	ADDR(12, 8)
	STORE64(Y13, X13, (DI)(AX*8))
	CMPQ R13, $3
	JLE  d64next
	ADDR(12, 12)
	STORE64(Y15, X15, (DI)(AX*8))

d64next:
	ADDQ $16, DX
	SUBQ $2, R14
	JG   d64pair
	VZEROUPPER
	RET
