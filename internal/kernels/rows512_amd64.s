//go:build !purego

#include "textflag.h"

// AVX-512 bodies of RowCombine4To and RowDots4 (see rows.go), with the
// register layout of the AVX2 ones (rows_amd64.s) widened: 32 ZMM
// registers hold twice the sums. The Go wrappers check every bound and pass
// n > 0, a multiple of the tile width, 1 <= m <= 4 and np >= 1; tab points
// to the RowTable's pairs (source offset, coefficient offset) of row p at
// 8p bytes.
//
// rowCombine4: 4 output rows x 4 vectors of sites (64 float32 or 32
// float64) in Z0..Z15, row r in Z(4r)..Z(4r+3); per row p, four loads of
// the source row (Z16..Z19) and m broadcast coefficients (Z20..) feed 4m
// FMAs: the loop sums only the m rows it stores.
//
// rowDots4: 4 cotangent rows (Z16..Z19) x 4 source rows (Z20..Z23), the
// sum of cotangent row r and source row j in Z(4j+r); after the sites, the
// sixteen vectors are reduced by a fixed tree of shuffles and additions to
// one vector whose lane 4r+j (float32) holds sum (r, j), added to the
// gradient where the weights are, gw[cv[4r+j] + coef(p+j)], by a masked
// gather, add and scatter.

#define EPI_LEAKY 1
#define EPI_LEAKYVJP 2

// COMBINE_SETUP loads the pointers and the coefficient bases w + coff[r]
// (R12, R13, R14, CX); shift is log2 of the element size.
#define COMBINE_SETUP(shift, scale) \
	MOVQ    dst+0(FP), DI; \
	MOVQ    ld+8(FP), R9; \
	SHLQ    $shift, R9; \
	MOVQ    src+40(FP), SI; \
	MOVQ    y+72(FP), R10; \
	MOVQ    n+88(FP), R11; \
	MOVQ    tab+48(FP), DX; \
	MOVQ    w+24(FP), AX; \
	MOVQ    coff+32(FP), BX; \
	MOVLQSX 0(BX), R8; \
	LEAQ    (AX)(R8*scale), R12; \
	MOVLQSX 4(BX), R8; \
	LEAQ    (AX)(R8*scale), R13; \
	MOVLQSX 8(BX), R8; \
	LEAQ    (AX)(R8*scale), R14; \
	MOVLQSX 12(BX), R8; \
	LEAQ    (AX)(R8*scale), CX

// FMA4 adds the four source vectors Z16..Z19 times the coefficient in zc
// to the row of sums a..d.
#define FMA4(op, zc, a, b, c, d) op Z16, zc, a; op Z17, zc, b; op Z18, zc, c; op Z19, zc, d

// EPI applies the epilogue to the sixteen sums (AX = m, R8 = 3 ld): the
// leaky ReLU (max(v, slope v), the second operand on ties and NaN, as the
// AVX2 body), or its VJP (v times slope where !(y > 0), NaN included),
// reading y only for rows r < m.
#define LEAKY(mul, maxop, z) mul Z24, z, Z25; maxop Z25, z, z
#define VJP(mov, cmp, mul, z, mem) mov mem, Z25; cmp $0x1a, Z26, Z25, K1; mul Z24, z, K1, z

// func rowCombine4F32AVX512(dst *float32, ld, m int, w *float32, coff *[4]int32, src *float32, tab *int32, np int, bias, y *float32, epi, n int, slope float32)
TEXT ·rowCombine4F32AVX512(SB), NOSPLIT, $0-100
	COMBINE_SETUP(2, 4)
	VBROADCASTSS slope+96(FP), Z24
	VPXORD       Z26, Z26, Z26

c32tile:
	MOVQ         bias+64(FP), AX
	VBROADCASTSS 0(AX), Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	VBROADCASTSS 4(AX), Z4
	VMOVAPS      Z4, Z5
	VMOVAPS      Z4, Z6
	VMOVAPS      Z4, Z7
	VBROADCASTSS 8(AX), Z8
	VMOVAPS      Z8, Z9
	VMOVAPS      Z8, Z10
	VMOVAPS      Z8, Z11
	VBROADCASTSS 12(AX), Z12
	VMOVAPS      Z12, Z13
	VMOVAPS      Z12, Z14
	VMOVAPS      Z12, Z15
	XORQ         BX, BX
	// Only the m rows that are stored are summed.
	MOVQ         m+16(FP), AX
	CMPQ         AX, $3
	JEQ          c32p3
	JLT          c32small
	JMP          c32p4

c32small:
	CMPQ AX, $2
	JEQ  c32p2
	JMP  c32p1

c32p4:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPS      (SI)(AX*4), Z16
	VMOVUPS      64(SI)(AX*4), Z17
	VMOVUPS      128(SI)(AX*4), Z18
	VMOVUPS      192(SI)(AX*4), Z19
	VBROADCASTSS (R12)(R8*4), Z20
	VBROADCASTSS (R13)(R8*4), Z21
	VBROADCASTSS (R14)(R8*4), Z22
	VBROADCASTSS (CX)(R8*4), Z23
	FMA4(VFMADD231PS, Z20, Z0, Z1, Z2, Z3)
	FMA4(VFMADD231PS, Z21, Z4, Z5, Z6, Z7)
	FMA4(VFMADD231PS, Z22, Z8, Z9, Z10, Z11)
	FMA4(VFMADD231PS, Z23, Z12, Z13, Z14, Z15)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c32p4
	JMP          c32epi

c32p3:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPS      (SI)(AX*4), Z16
	VMOVUPS      64(SI)(AX*4), Z17
	VMOVUPS      128(SI)(AX*4), Z18
	VMOVUPS      192(SI)(AX*4), Z19
	VBROADCASTSS (R12)(R8*4), Z20
	VBROADCASTSS (R13)(R8*4), Z21
	VBROADCASTSS (R14)(R8*4), Z22
	FMA4(VFMADD231PS, Z20, Z0, Z1, Z2, Z3)
	FMA4(VFMADD231PS, Z21, Z4, Z5, Z6, Z7)
	FMA4(VFMADD231PS, Z22, Z8, Z9, Z10, Z11)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c32p3
	JMP          c32epi

c32p2:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPS      (SI)(AX*4), Z16
	VMOVUPS      64(SI)(AX*4), Z17
	VMOVUPS      128(SI)(AX*4), Z18
	VMOVUPS      192(SI)(AX*4), Z19
	VBROADCASTSS (R12)(R8*4), Z20
	VBROADCASTSS (R13)(R8*4), Z21
	FMA4(VFMADD231PS, Z20, Z0, Z1, Z2, Z3)
	FMA4(VFMADD231PS, Z21, Z4, Z5, Z6, Z7)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c32p2
	JMP          c32epi

c32p1:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPS      (SI)(AX*4), Z16
	VMOVUPS      64(SI)(AX*4), Z17
	VMOVUPS      128(SI)(AX*4), Z18
	VMOVUPS      192(SI)(AX*4), Z19
	VBROADCASTSS (R12)(R8*4), Z20
	FMA4(VFMADD231PS, Z20, Z0, Z1, Z2, Z3)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c32p1
	JMP          c32epi

c32epi:
	LEAQ (R9)(R9*2), R8
	MOVQ m+16(FP), AX
	MOVQ epi+80(FP), BX
	CMPQ BX, $EPI_LEAKY
	JEQ  c32leaky
	CMPQ BX, $EPI_LEAKYVJP
	JEQ  c32vjp
	JMP  c32store

c32leaky:
	LEAKY(VMULPS, VMAXPS, Z0)
	LEAKY(VMULPS, VMAXPS, Z1)
	LEAKY(VMULPS, VMAXPS, Z2)
	LEAKY(VMULPS, VMAXPS, Z3)
	LEAKY(VMULPS, VMAXPS, Z4)
	LEAKY(VMULPS, VMAXPS, Z5)
	LEAKY(VMULPS, VMAXPS, Z6)
	LEAKY(VMULPS, VMAXPS, Z7)
	LEAKY(VMULPS, VMAXPS, Z8)
	LEAKY(VMULPS, VMAXPS, Z9)
	LEAKY(VMULPS, VMAXPS, Z10)
	LEAKY(VMULPS, VMAXPS, Z11)
	LEAKY(VMULPS, VMAXPS, Z12)
	LEAKY(VMULPS, VMAXPS, Z13)
	LEAKY(VMULPS, VMAXPS, Z14)
	LEAKY(VMULPS, VMAXPS, Z15)
	JMP c32store

c32vjp:
	VJP(VMOVUPS, VCMPPS, VMULPS, Z0, (R10))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z1, 64(R10))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z2, 128(R10))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z3, 192(R10))
	CMPQ AX, $1
	JLE  c32store
	VJP(VMOVUPS, VCMPPS, VMULPS, Z4, (R10)(R9*1))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z5, 64(R10)(R9*1))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z6, 128(R10)(R9*1))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z7, 192(R10)(R9*1))
	CMPQ AX, $2
	JLE  c32store
	VJP(VMOVUPS, VCMPPS, VMULPS, Z8, (R10)(R9*2))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z9, 64(R10)(R9*2))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z10, 128(R10)(R9*2))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z11, 192(R10)(R9*2))
	CMPQ AX, $3
	JLE  c32store
	VJP(VMOVUPS, VCMPPS, VMULPS, Z12, (R10)(R8*1))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z13, 64(R10)(R8*1))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z14, 128(R10)(R8*1))
	VJP(VMOVUPS, VCMPPS, VMULPS, Z15, 192(R10)(R8*1))

c32store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	CMPQ    AX, $1
	JLE     c32next
	VMOVUPS Z4, (DI)(R9*1)
	VMOVUPS Z5, 64(DI)(R9*1)
	VMOVUPS Z6, 128(DI)(R9*1)
	VMOVUPS Z7, 192(DI)(R9*1)
	CMPQ    AX, $2
	JLE     c32next
	VMOVUPS Z8, (DI)(R9*2)
	VMOVUPS Z9, 64(DI)(R9*2)
	VMOVUPS Z10, 128(DI)(R9*2)
	VMOVUPS Z11, 192(DI)(R9*2)
	CMPQ    AX, $3
	JLE     c32next
	VMOVUPS Z12, (DI)(R8*1)
	VMOVUPS Z13, 64(DI)(R8*1)
	VMOVUPS Z14, 128(DI)(R8*1)
	VMOVUPS Z15, 192(DI)(R8*1)

c32next:
	ADDQ $256, SI
	ADDQ $256, DI
	ADDQ $256, R10
	SUBQ $64, R11
	JNZ  c32tile
	VZEROUPPER
	RET

// func rowCombine4F64AVX512(dst *float64, ld, m int, w *float64, coff *[4]int32, src *float64, tab *int32, np int, bias, y *float64, epi, n int, slope float64)
TEXT ·rowCombine4F64AVX512(SB), NOSPLIT, $0-104
	COMBINE_SETUP(3, 8)
	VBROADCASTSD slope+96(FP), Z24
	VPXORQ       Z26, Z26, Z26

c64tile:
	MOVQ         bias+64(FP), AX
	VBROADCASTSD 0(AX), Z0
	VMOVAPD      Z0, Z1
	VMOVAPD      Z0, Z2
	VMOVAPD      Z0, Z3
	VBROADCASTSD 8(AX), Z4
	VMOVAPD      Z4, Z5
	VMOVAPD      Z4, Z6
	VMOVAPD      Z4, Z7
	VBROADCASTSD 16(AX), Z8
	VMOVAPD      Z8, Z9
	VMOVAPD      Z8, Z10
	VMOVAPD      Z8, Z11
	VBROADCASTSD 24(AX), Z12
	VMOVAPD      Z12, Z13
	VMOVAPD      Z12, Z14
	VMOVAPD      Z12, Z15
	XORQ         BX, BX
	// Only the m rows that are stored are summed.
	MOVQ         m+16(FP), AX
	CMPQ         AX, $3
	JEQ          c64p3
	JLT          c64small
	JMP          c64p4

c64small:
	CMPQ AX, $2
	JEQ  c64p2
	JMP  c64p1

c64p4:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPD      (SI)(AX*8), Z16
	VMOVUPD      64(SI)(AX*8), Z17
	VMOVUPD      128(SI)(AX*8), Z18
	VMOVUPD      192(SI)(AX*8), Z19
	VBROADCASTSD (R12)(R8*8), Z20
	VBROADCASTSD (R13)(R8*8), Z21
	VBROADCASTSD (R14)(R8*8), Z22
	VBROADCASTSD (CX)(R8*8), Z23
	FMA4(VFMADD231PD, Z20, Z0, Z1, Z2, Z3)
	FMA4(VFMADD231PD, Z21, Z4, Z5, Z6, Z7)
	FMA4(VFMADD231PD, Z22, Z8, Z9, Z10, Z11)
	FMA4(VFMADD231PD, Z23, Z12, Z13, Z14, Z15)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c64p4
	JMP          c64epi

c64p3:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPD      (SI)(AX*8), Z16
	VMOVUPD      64(SI)(AX*8), Z17
	VMOVUPD      128(SI)(AX*8), Z18
	VMOVUPD      192(SI)(AX*8), Z19
	VBROADCASTSD (R12)(R8*8), Z20
	VBROADCASTSD (R13)(R8*8), Z21
	VBROADCASTSD (R14)(R8*8), Z22
	FMA4(VFMADD231PD, Z20, Z0, Z1, Z2, Z3)
	FMA4(VFMADD231PD, Z21, Z4, Z5, Z6, Z7)
	FMA4(VFMADD231PD, Z22, Z8, Z9, Z10, Z11)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c64p3
	JMP          c64epi

c64p2:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPD      (SI)(AX*8), Z16
	VMOVUPD      64(SI)(AX*8), Z17
	VMOVUPD      128(SI)(AX*8), Z18
	VMOVUPD      192(SI)(AX*8), Z19
	VBROADCASTSD (R12)(R8*8), Z20
	VBROADCASTSD (R13)(R8*8), Z21
	FMA4(VFMADD231PD, Z20, Z0, Z1, Z2, Z3)
	FMA4(VFMADD231PD, Z21, Z4, Z5, Z6, Z7)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c64p2
	JMP          c64epi

c64p1:
	MOVLQSX      (DX)(BX*8), AX
	MOVLQSX      4(DX)(BX*8), R8
	VMOVUPD      (SI)(AX*8), Z16
	VMOVUPD      64(SI)(AX*8), Z17
	VMOVUPD      128(SI)(AX*8), Z18
	VMOVUPD      192(SI)(AX*8), Z19
	VBROADCASTSD (R12)(R8*8), Z20
	FMA4(VFMADD231PD, Z20, Z0, Z1, Z2, Z3)
	INCQ         BX
	CMPQ         BX, np+56(FP)
	JLT          c64p1
	JMP          c64epi

c64epi:
	LEAQ (R9)(R9*2), R8
	MOVQ m+16(FP), AX
	MOVQ epi+80(FP), BX
	CMPQ BX, $EPI_LEAKY
	JEQ  c64leaky
	CMPQ BX, $EPI_LEAKYVJP
	JEQ  c64vjp
	JMP  c64store

c64leaky:
	LEAKY(VMULPD, VMAXPD, Z0)
	LEAKY(VMULPD, VMAXPD, Z1)
	LEAKY(VMULPD, VMAXPD, Z2)
	LEAKY(VMULPD, VMAXPD, Z3)
	LEAKY(VMULPD, VMAXPD, Z4)
	LEAKY(VMULPD, VMAXPD, Z5)
	LEAKY(VMULPD, VMAXPD, Z6)
	LEAKY(VMULPD, VMAXPD, Z7)
	LEAKY(VMULPD, VMAXPD, Z8)
	LEAKY(VMULPD, VMAXPD, Z9)
	LEAKY(VMULPD, VMAXPD, Z10)
	LEAKY(VMULPD, VMAXPD, Z11)
	LEAKY(VMULPD, VMAXPD, Z12)
	LEAKY(VMULPD, VMAXPD, Z13)
	LEAKY(VMULPD, VMAXPD, Z14)
	LEAKY(VMULPD, VMAXPD, Z15)
	JMP c64store

c64vjp:
	VJP(VMOVUPD, VCMPPD, VMULPD, Z0, (R10))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z1, 64(R10))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z2, 128(R10))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z3, 192(R10))
	CMPQ AX, $1
	JLE  c64store
	VJP(VMOVUPD, VCMPPD, VMULPD, Z4, (R10)(R9*1))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z5, 64(R10)(R9*1))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z6, 128(R10)(R9*1))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z7, 192(R10)(R9*1))
	CMPQ AX, $2
	JLE  c64store
	VJP(VMOVUPD, VCMPPD, VMULPD, Z8, (R10)(R9*2))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z9, 64(R10)(R9*2))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z10, 128(R10)(R9*2))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z11, 192(R10)(R9*2))
	CMPQ AX, $3
	JLE  c64store
	VJP(VMOVUPD, VCMPPD, VMULPD, Z12, (R10)(R8*1))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z13, 64(R10)(R8*1))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z14, 128(R10)(R8*1))
	VJP(VMOVUPD, VCMPPD, VMULPD, Z15, 192(R10)(R8*1))

c64store:
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	CMPQ    AX, $1
	JLE     c64next
	VMOVUPD Z4, (DI)(R9*1)
	VMOVUPD Z5, 64(DI)(R9*1)
	VMOVUPD Z6, 128(DI)(R9*1)
	VMOVUPD Z7, 192(DI)(R9*1)
	CMPQ    AX, $2
	JLE     c64next
	VMOVUPD Z8, (DI)(R9*2)
	VMOVUPD Z9, 64(DI)(R9*2)
	VMOVUPD Z10, 128(DI)(R9*2)
	VMOVUPD Z11, 192(DI)(R9*2)
	CMPQ    AX, $3
	JLE     c64next
	VMOVUPD Z12, (DI)(R8*1)
	VMOVUPD Z13, 64(DI)(R8*1)
	VMOVUPD Z14, 128(DI)(R8*1)
	VMOVUPD Z15, 192(DI)(R8*1)

c64next:
	ADDQ $256, SI
	ADDQ $256, DI
	ADDQ $256, R10
	SUBQ $32, R11
	JNZ  c64tile
	VZEROUPPER
	RET

// HALVES(a, b, d): d = [a.q0+a.q2, a.q1+a.q3, b.q0+b.q2, b.q1+b.q3] in
// 128-bit quarters q: the lanes of a summed pairwise in the low half, of b
// in the high half.
#define HALVES(shuf, add, a, b, d) shuf $0x44, b, a, Z24; shuf $0xee, b, a, Z25; add Z25, Z24, d
// QUARTERS(a, b, d), for a and b from HALVES of four vectors: quarter q
// of d sums to the total of the q-th of them.
#define QUARTERS(shuf, add, a, b, d) shuf $0x88, b, a, Z24; shuf $0xdd, b, a, Z25; add Z25, Z24, d

// func rowDots4F32AVX512(gw *float32, cv *[16]int32, m int, cot *float32, ld int, src *float32, tab, coefs *int32, np, n int)
TEXT ·rowDots4F32AVX512(SB), NOSPLIT, $0-80
	// Row pointers one past the end of the sites; the loop index runs from
	// -n to 0. Cotangent rows r >= m read row 0 (their sums are not stored).
	MOVQ n+72(FP), CX
	SHLQ $2, CX
	MOVQ src+40(FP), SI
	ADDQ CX, SI
	MOVQ cot+24(FP), R8
	ADDQ CX, R8
	MOVQ ld+32(FP), AX
	SHLQ $2, AX
	MOVQ m+16(FP), BX
	MOVQ R8, R9
	MOVQ R8, R10
	MOVQ R8, R11
	CMPQ BX, $1
	JLE  d32rows
	LEAQ (R8)(AX*1), R9
	CMPQ BX, $2
	JLE  d32rows
	LEAQ (R8)(AX*2), R10
	CMPQ BX, $3
	JLE  d32rows
	LEAQ (R10)(AX*1), R11

d32rows:
	MOVQ gw+0(FP), DI
	MOVQ tab+48(FP), DX
	MOVQ np+64(FP), R14

d32group:
	// K1 = the lanes 4r+j of the sums to store: rows r < m and table
	// entries j < min(np left, 4).
	MOVQ  R14, CX
	CMPQ  CX, $4
	JLE   d32mask
	MOVQ  $4, CX

d32mask:
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	MOVL  AX, CX
	SHLL  $4, CX
	ORL   CX, AX
	MOVL  AX, CX
	SHLL  $8, CX
	ORL   CX, AX
	MOVQ  m+16(FP), CX
	SHLQ  $2, CX
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	ANDL  BX, AX
	KMOVW AX, K1
	// Source rows j = 0..3 of the group in AX, BX, R12, R13 (rows past np
	// read row j = 0).
	MOVLQSX (DX), AX
	MOVQ    AX, BX
	MOVQ    AX, R12
	MOVQ    AX, R13
	CMPQ    R14, $2
	JLT     d32ptrs
	MOVLQSX 8(DX), BX
	CMPQ    R14, $3
	JLT     d32ptrs
	MOVLQSX 16(DX), R12
	CMPQ    R14, $4
	JLT     d32ptrs
	MOVLQSX 24(DX), R13

d32ptrs:
	LEAQ  (SI)(AX*4), AX
	LEAQ  (SI)(BX*4), BX
	LEAQ  (SI)(R12*4), R12
	LEAQ  (SI)(R13*4), R13
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	MOVQ   n+72(FP), CX
	SHLQ   $2, CX
	NEGQ   CX

d32x:
	// Z(4j+r) += cotangent row r * source row j.
	VMOVUPS (R8)(CX*1), Z16
	VMOVUPS (R9)(CX*1), Z17
	VMOVUPS (R10)(CX*1), Z18
	VMOVUPS (R11)(CX*1), Z19
	VMOVUPS (AX)(CX*1), Z20
	VMOVUPS (BX)(CX*1), Z21
	VMOVUPS (R12)(CX*1), Z22
	VMOVUPS (R13)(CX*1), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z20, Z1
	VFMADD231PS Z18, Z20, Z2
	VFMADD231PS Z19, Z20, Z3
	VFMADD231PS Z16, Z21, Z4
	VFMADD231PS Z17, Z21, Z5
	VFMADD231PS Z18, Z21, Z6
	VFMADD231PS Z19, Z21, Z7
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z18, Z22, Z10
	VFMADD231PS Z19, Z22, Z11
	VFMADD231PS Z16, Z23, Z12
	VFMADD231PS Z17, Z23, Z13
	VFMADD231PS Z18, Z23, Z14
	VFMADD231PS Z19, Z23, Z15
	ADDQ  $64, CX
	JNZ   d32x

	// Reduction: Z16..Z23 = pairs of vectors with their 256-bit halves
	// summed, Z0..Z3 = S_g, whose 128-bit quarter q sums to the total of
	// Z(4g+q) (source row j = g, cotangent row r = q).
	HALVES(VSHUFF32X4, VADDPS, Z0, Z1, Z16)
	HALVES(VSHUFF32X4, VADDPS, Z2, Z3, Z17)
	HALVES(VSHUFF32X4, VADDPS, Z4, Z5, Z18)
	HALVES(VSHUFF32X4, VADDPS, Z6, Z7, Z19)
	HALVES(VSHUFF32X4, VADDPS, Z8, Z9, Z20)
	HALVES(VSHUFF32X4, VADDPS, Z10, Z11, Z21)
	HALVES(VSHUFF32X4, VADDPS, Z12, Z13, Z22)
	HALVES(VSHUFF32X4, VADDPS, Z14, Z15, Z23)
	QUARTERS(VSHUFF32X4, VADDPS, Z16, Z17, Z0)
	QUARTERS(VSHUFF32X4, VADDPS, Z18, Z19, Z1)
	QUARTERS(VSHUFF32X4, VADDPS, Z20, Z21, Z2)
	QUARTERS(VSHUFF32X4, VADDPS, Z22, Z23, Z3)
	// Within each quarter, lanes of S0..S3 to one vector Z6 whose lane
	// 4q+g is the total of Z(4g+q): lane 4r+j holds the sum (r, j).
	VUNPCKLPS Z1, Z0, Z24
	VUNPCKHPS Z1, Z0, Z25
	VADDPS    Z25, Z24, Z4
	VUNPCKLPS Z3, Z2, Z24
	VUNPCKHPS Z3, Z2, Z25
	VADDPS    Z25, Z24, Z5
	VUNPCKLPD Z5, Z4, Z24
	VUNPCKHPD Z5, Z4, Z25
	VADDPS    Z25, Z24, Z6

	// gw[cv[4r+j] + coef(p+j)] += lane 4r+j under K1: the indices are
	// the four coefficient offsets of the group, in every quarter, plus cv.
	MOVQ             DX, AX
	SUBQ             tab+48(FP), AX
	SHRQ             $1, AX
	ADDQ             coefs+56(FP), AX
	VBROADCASTI32X4  (AX), Z9
	MOVQ             cv+8(FP), BX
	VPADDD           (BX), Z9, Z9
	KMOVW            K1, K2
	VGATHERDPS       (DI)(Z9*4), K2, Z8
	VADDPS           Z6, Z8, Z8
	KMOVW            K1, K3
	VSCATTERDPS      Z8, K3, (DI)(Z9*4)

d32next:
	ADDQ $32, DX
	SUBQ $4, R14
	JG   d32group
	VZEROUPPER
	RET

// func rowDots4F64AVX512(gw *float64, cv *[16]int32, m int, cot *float64, ld int, src *float64, tab, coefs *int32, np, n int)
TEXT ·rowDots4F64AVX512(SB), NOSPLIT, $0-80
	// Row pointers one past the end of the sites; the loop index runs from
	// -n to 0. Cotangent rows r >= m read row 0 (their sums are not stored).
	MOVQ n+72(FP), CX
	SHLQ $3, CX
	MOVQ src+40(FP), SI
	ADDQ CX, SI
	MOVQ cot+24(FP), R8
	ADDQ CX, R8
	MOVQ ld+32(FP), AX
	SHLQ $3, AX
	MOVQ m+16(FP), BX
	MOVQ R8, R9
	MOVQ R8, R10
	MOVQ R8, R11
	CMPQ BX, $1
	JLE  d64rows
	LEAQ (R8)(AX*1), R9
	CMPQ BX, $2
	JLE  d64rows
	LEAQ (R8)(AX*2), R10
	CMPQ BX, $3
	JLE  d64rows
	LEAQ (R10)(AX*1), R11

d64rows:
	MOVQ gw+0(FP), DI
	MOVQ tab+48(FP), DX
	MOVQ np+64(FP), R14

d64group:
	// K1 = the lanes 4r+j of the sums to store: rows r < m and table
	// entries j < min(np left, 4).
	MOVQ  R14, CX
	CMPQ  CX, $4
	JLE   d64mask
	MOVQ  $4, CX

d64mask:
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	MOVL  AX, CX
	SHLL  $4, CX
	ORL   CX, AX
	MOVL  AX, CX
	SHLL  $8, CX
	ORL   CX, AX
	MOVQ  m+16(FP), CX
	SHLQ  $2, CX
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	ANDL  BX, AX
	KMOVW AX, K1
	// Source rows j = 0..3 of the group in AX, BX, R12, R13 (rows past np
	// read row j = 0).
	MOVLQSX (DX), AX
	MOVQ    AX, BX
	MOVQ    AX, R12
	MOVQ    AX, R13
	CMPQ    R14, $2
	JLT     d64ptrs
	MOVLQSX 8(DX), BX
	CMPQ    R14, $3
	JLT     d64ptrs
	MOVLQSX 16(DX), R12
	CMPQ    R14, $4
	JLT     d64ptrs
	MOVLQSX 24(DX), R13

d64ptrs:
	LEAQ  (SI)(AX*8), AX
	LEAQ  (SI)(BX*8), BX
	LEAQ  (SI)(R12*8), R12
	LEAQ  (SI)(R13*8), R13
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	MOVQ   n+72(FP), CX
	SHLQ   $3, CX
	NEGQ   CX

d64x:
	// Z(4j+r) += cotangent row r * source row j.
	VMOVUPD (R8)(CX*1), Z16
	VMOVUPD (R9)(CX*1), Z17
	VMOVUPD (R10)(CX*1), Z18
	VMOVUPD (R11)(CX*1), Z19
	VMOVUPD (AX)(CX*1), Z20
	VMOVUPD (BX)(CX*1), Z21
	VMOVUPD (R12)(CX*1), Z22
	VMOVUPD (R13)(CX*1), Z23
	VFMADD231PD Z16, Z20, Z0
	VFMADD231PD Z17, Z20, Z1
	VFMADD231PD Z18, Z20, Z2
	VFMADD231PD Z19, Z20, Z3
	VFMADD231PD Z16, Z21, Z4
	VFMADD231PD Z17, Z21, Z5
	VFMADD231PD Z18, Z21, Z6
	VFMADD231PD Z19, Z21, Z7
	VFMADD231PD Z16, Z22, Z8
	VFMADD231PD Z17, Z22, Z9
	VFMADD231PD Z18, Z22, Z10
	VFMADD231PD Z19, Z22, Z11
	VFMADD231PD Z16, Z23, Z12
	VFMADD231PD Z17, Z23, Z13
	VFMADD231PD Z18, Z23, Z14
	VFMADD231PD Z19, Z23, Z15
	ADDQ  $64, CX
	JNZ   d64x

	// Reduction: Z16..Z23 = pairs of vectors with their 256-bit halves
	// summed, Z0..Z3 = S_g, whose 128-bit quarter q sums to the total of
	// Z(4g+q) (source row j = g, cotangent row r = q).
	HALVES(VSHUFF64X2, VADDPD, Z0, Z1, Z16)
	HALVES(VSHUFF64X2, VADDPD, Z2, Z3, Z17)
	HALVES(VSHUFF64X2, VADDPD, Z4, Z5, Z18)
	HALVES(VSHUFF64X2, VADDPD, Z6, Z7, Z19)
	HALVES(VSHUFF64X2, VADDPD, Z8, Z9, Z20)
	HALVES(VSHUFF64X2, VADDPD, Z10, Z11, Z21)
	HALVES(VSHUFF64X2, VADDPD, Z12, Z13, Z22)
	HALVES(VSHUFF64X2, VADDPD, Z14, Z15, Z23)
	QUARTERS(VSHUFF64X2, VADDPD, Z16, Z17, Z0)
	QUARTERS(VSHUFF64X2, VADDPD, Z18, Z19, Z1)
	QUARTERS(VSHUFF64X2, VADDPD, Z20, Z21, Z2)
	QUARTERS(VSHUFF64X2, VADDPD, Z22, Z23, Z3)
	// Within each quarter (two lanes): Z4 lane 2q+g is the total of
	// Z(4g+q) for g = 0, 1, Z5 the same for g = 2, 3; row r = q is
	// (Z4.q, Z5.q), gathered into Z6 (rows 0, 1) and Z7 (rows 2, 3), four
	// lanes j = 0..3 per row.
	VUNPCKLPD  Z1, Z0, Z24
	VUNPCKHPD  Z1, Z0, Z25
	VADDPD     Z25, Z24, Z4
	VUNPCKLPD  Z3, Z2, Z24
	VUNPCKHPD  Z3, Z2, Z25
	VADDPD     Z25, Z24, Z5
	VSHUFF64X2 $0x44, Z5, Z4, Z24
	VSHUFF64X2 $0xd8, Z24, Z24, Z6
	VSHUFF64X2 $0xee, Z5, Z4, Z24
	VSHUFF64X2 $0xd8, Z24, Z24, Z7

	// gw[cv[4r+j] + coef(p+j)] += the sum (r, j) under K1: Z6 holds rows
	// 0, 1 (lanes 0..7 of the indices), Z7 rows 2, 3 (lanes 8..15).
	MOVQ             DX, AX
	SUBQ             tab+48(FP), AX
	SHRQ             $1, AX
	ADDQ             coefs+56(FP), AX
	VBROADCASTI32X4  (AX), Z9
	MOVQ             cv+8(FP), BX
	VPADDD           (BX), Z9, Z9
	VEXTRACTI32X8    $1, Z9, Y10
	KMOVW            K1, K2
	VGATHERDPD       (DI)(Y9*8), K2, Z8
	VADDPD           Z6, Z8, Z8
	KMOVW            K1, K3
	VSCATTERDPD      Z8, K3, (DI)(Y9*8)
	KSHIFTRW         $8, K1, K4
	KMOVW            K4, K2
	VGATHERDPD       (DI)(Y10*8), K2, Z8
	VADDPD           Z7, Z8, Z8
	KMOVW            K4, K3
	VSCATTERDPD      Z8, K3, (DI)(Y10*8)

d64next:
	ADDQ $32, DX
	SUBQ $4, R14
	JG   d64group
	VZEROUPPER
	RET
