//go:build !purego

#include "textflag.h"

// AVX-512 bodies of ShiftRowsTo and ShiftPlanesTo for K = 3 (see
// shifted.go): planes planes back to back, each written as the three copies
// of L+2 rows (halo row, the L rows, halo row). A row is c = L/w vectors
// C_0..C_{c-1} (w = 16 float32 or 8 float64); copy k1 = 0 (dst[x] =
// src[x-1]) has vector j = (last lane of C_{j-1 mod c}, C_j without its
// last lane), copy k1 = 2 (dst[x] = src[x+1]) has (C_j without its first
// lane, first lane of C_{j+1 mod c}): each one two-table permute
// (VPERMI2PS/PD; for L = w the neighbours are C_j itself). The ...AVX512VL
// bodies do the same with 256-bit vectors (w = 8 float32 or 4 float64) for
// the L that are not multiples of the 512-bit width. The Go wrappers pass
// L > 0, a multiple of w, and planes > 0.

DATA rotR512x32<>+0(SB)/4, $31
DATA rotR512x32<>+4(SB)/4, $0
DATA rotR512x32<>+8(SB)/4, $1
DATA rotR512x32<>+12(SB)/4, $2
DATA rotR512x32<>+16(SB)/4, $3
DATA rotR512x32<>+20(SB)/4, $4
DATA rotR512x32<>+24(SB)/4, $5
DATA rotR512x32<>+28(SB)/4, $6
DATA rotR512x32<>+32(SB)/4, $7
DATA rotR512x32<>+36(SB)/4, $8
DATA rotR512x32<>+40(SB)/4, $9
DATA rotR512x32<>+44(SB)/4, $10
DATA rotR512x32<>+48(SB)/4, $11
DATA rotR512x32<>+52(SB)/4, $12
DATA rotR512x32<>+56(SB)/4, $13
DATA rotR512x32<>+60(SB)/4, $14
GLOBL rotR512x32<>(SB), RODATA|NOPTR, $64

DATA rotL512x32<>+0(SB)/4, $1
DATA rotL512x32<>+4(SB)/4, $2
DATA rotL512x32<>+8(SB)/4, $3
DATA rotL512x32<>+12(SB)/4, $4
DATA rotL512x32<>+16(SB)/4, $5
DATA rotL512x32<>+20(SB)/4, $6
DATA rotL512x32<>+24(SB)/4, $7
DATA rotL512x32<>+28(SB)/4, $8
DATA rotL512x32<>+32(SB)/4, $9
DATA rotL512x32<>+36(SB)/4, $10
DATA rotL512x32<>+40(SB)/4, $11
DATA rotL512x32<>+44(SB)/4, $12
DATA rotL512x32<>+48(SB)/4, $13
DATA rotL512x32<>+52(SB)/4, $14
DATA rotL512x32<>+56(SB)/4, $15
DATA rotL512x32<>+60(SB)/4, $16
GLOBL rotL512x32<>(SB), RODATA|NOPTR, $64

DATA rotR512x64<>+0(SB)/8, $15
DATA rotR512x64<>+8(SB)/8, $0
DATA rotR512x64<>+16(SB)/8, $1
DATA rotR512x64<>+24(SB)/8, $2
DATA rotR512x64<>+32(SB)/8, $3
DATA rotR512x64<>+40(SB)/8, $4
DATA rotR512x64<>+48(SB)/8, $5
DATA rotR512x64<>+56(SB)/8, $6
GLOBL rotR512x64<>(SB), RODATA|NOPTR, $64

DATA rotL512x64<>+0(SB)/8, $1
DATA rotL512x64<>+8(SB)/8, $2
DATA rotL512x64<>+16(SB)/8, $3
DATA rotL512x64<>+24(SB)/8, $4
DATA rotL512x64<>+32(SB)/8, $5
DATA rotL512x64<>+40(SB)/8, $6
DATA rotL512x64<>+48(SB)/8, $7
DATA rotL512x64<>+56(SB)/8, $8
GLOBL rotL512x64<>(SB), RODATA|NOPTR, $64

DATA rotR256x32<>+0(SB)/4, $15
DATA rotR256x32<>+4(SB)/4, $0
DATA rotR256x32<>+8(SB)/4, $1
DATA rotR256x32<>+12(SB)/4, $2
DATA rotR256x32<>+16(SB)/4, $3
DATA rotR256x32<>+20(SB)/4, $4
DATA rotR256x32<>+24(SB)/4, $5
DATA rotR256x32<>+28(SB)/4, $6
GLOBL rotR256x32<>(SB), RODATA|NOPTR, $32

DATA rotL256x32<>+0(SB)/4, $1
DATA rotL256x32<>+4(SB)/4, $2
DATA rotL256x32<>+8(SB)/4, $3
DATA rotL256x32<>+12(SB)/4, $4
DATA rotL256x32<>+16(SB)/4, $5
DATA rotL256x32<>+20(SB)/4, $6
DATA rotL256x32<>+24(SB)/4, $7
DATA rotL256x32<>+28(SB)/4, $8
GLOBL rotL256x32<>(SB), RODATA|NOPTR, $32

DATA rotR256x64<>+0(SB)/8, $7
DATA rotR256x64<>+8(SB)/8, $0
DATA rotR256x64<>+16(SB)/8, $1
DATA rotR256x64<>+24(SB)/8, $2
GLOBL rotR256x64<>(SB), RODATA|NOPTR, $32

DATA rotL256x64<>+0(SB)/8, $1
DATA rotL256x64<>+8(SB)/8, $2
DATA rotL256x64<>+16(SB)/8, $3
DATA rotL256x64<>+24(SB)/8, $4
GLOBL rotL256x64<>(SB), RODATA|NOPTR, $32

// SHIFTROW writes the three copies of the source row at AX to the rows at
// DI (copy 0), DI+R8 (copy 1) and DI+2 R8 (copy 2); R9 is the row length
// in bytes, R11 the offset of its last vector. Uses BX, CX, DX, R12.
#define SHIFTROW(p, mov, mova, perm, vb, r0, r1, r2, r3, r4, ri, rl) \
	XORQ    DX, DX; \
p: \
	LEAQ    -vb(DX), BX; \
	TESTQ   DX, DX; \
	CMOVQEQ R11, BX; \
	LEAQ    vb(DX), CX; \
	CMPQ    DX, R11; \
	CMOVQEQ R13, CX; \
	mov     (AX)(DX*1), r0; \
	mov     (AX)(BX*1), r1; \
	mov     (AX)(CX*1), r2; \
	LEAQ    (DI)(R8*1), R12; \
	mov     r0, (R12)(DX*1); \
	mova    ri, r3; \
	perm    r1, r0, r3; \
	mov     r3, (DI)(DX*1); \
	mova    rl, r4; \
	perm    r2, r0, r4; \
	ADDQ    R8, R12; \
	mov     r4, (R12)(DX*1); \
	ADDQ    $vb, DX; \
	CMPQ    DX, R9; \
	JLT     p

// func shiftRows3F32AVX512(dst, src *float32, L, planes int)
TEXT ·shiftRows3F32AVX512(SB), NOSPLIT, $0-32
	// SI the source plane, DI the current row of copy 0, R8 the byte
	// stride between copies ((L+2) L elements), R9 the row length in
	// bytes, R10 the row counter, R11 the last vector's offset, R13 = 0,
	// R14 the planes left.
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    planes+24(FP), R14
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $2, R8
	SHLQ    $2, R9
	LEAQ    -64(R9), R11
	XORQ    R13, R13
	VMOVDQU32 rotR512x32<>(SB), Z14
	VMOVDQU32 rotL512x32<>(SB), Z15

z32plane:
	// Halo row 0 is source row L-1.
	MOVQ  L+16(FP), AX
	DECQ  AX
	IMULQ R9, AX
	ADDQ  SI, AX
	SHIFTROW(z32h0, VMOVUPS, VMOVAPS, VPERMI2PS, 64, Z0, Z1, Z2, Z3, Z4, Z14, Z15)
	ADDQ  R9, DI
	// Rows 1..L are source rows 0..L-1.
	MOVQ  SI, AX
	MOVQ  L+16(FP), R10

z32rows:
	SHIFTROW(z32r, VMOVUPS, VMOVAPS, VPERMI2PS, 64, Z0, Z1, Z2, Z3, Z4, Z14, Z15)
	ADDQ  R9, DI
	ADDQ  R9, AX
	DECQ  R10
	JNZ   z32rows
	// Halo row L+1 is source row 0.
	MOVQ  SI, AX
	SHIFTROW(z32h1, VMOVUPS, VMOVAPS, VPERMI2PS, 64, Z0, Z1, Z2, Z3, Z4, Z14, Z15)
	// Next plane: the source moves by L rows, the destination from the
	// last row of copy 0 to the first row of the next plane's copies.
	MOVQ  L+16(FP), R10
	IMULQ R9, R10
	ADDQ  R10, SI
	LEAQ  (DI)(R9*1), DI
	LEAQ  (DI)(R8*2), DI
	DECQ  R14
	JNZ   z32plane
	VZEROUPPER
	RET

// func shiftRows3F64AVX512(dst, src *float64, L, planes int)
TEXT ·shiftRows3F64AVX512(SB), NOSPLIT, $0-32
	// SI the source plane, DI the current row of copy 0, R8 the byte
	// stride between copies ((L+2) L elements), R9 the row length in
	// bytes, R10 the row counter, R11 the last vector's offset, R13 = 0,
	// R14 the planes left.
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    planes+24(FP), R14
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $3, R8
	SHLQ    $3, R9
	LEAQ    -64(R9), R11
	XORQ    R13, R13
	VMOVDQU64 rotR512x64<>(SB), Z14
	VMOVDQU64 rotL512x64<>(SB), Z15

z64plane:
	// Halo row 0 is source row L-1.
	MOVQ  L+16(FP), AX
	DECQ  AX
	IMULQ R9, AX
	ADDQ  SI, AX
	SHIFTROW(z64h0, VMOVUPD, VMOVAPD, VPERMI2PD, 64, Z0, Z1, Z2, Z3, Z4, Z14, Z15)
	ADDQ  R9, DI
	// Rows 1..L are source rows 0..L-1.
	MOVQ  SI, AX
	MOVQ  L+16(FP), R10

z64rows:
	SHIFTROW(z64r, VMOVUPD, VMOVAPD, VPERMI2PD, 64, Z0, Z1, Z2, Z3, Z4, Z14, Z15)
	ADDQ  R9, DI
	ADDQ  R9, AX
	DECQ  R10
	JNZ   z64rows
	// Halo row L+1 is source row 0.
	MOVQ  SI, AX
	SHIFTROW(z64h1, VMOVUPD, VMOVAPD, VPERMI2PD, 64, Z0, Z1, Z2, Z3, Z4, Z14, Z15)
	// Next plane: the source moves by L rows, the destination from the
	// last row of copy 0 to the first row of the next plane's copies.
	MOVQ  L+16(FP), R10
	IMULQ R9, R10
	ADDQ  R10, SI
	LEAQ  (DI)(R9*1), DI
	LEAQ  (DI)(R8*2), DI
	DECQ  R14
	JNZ   z64plane
	VZEROUPPER
	RET

// func shiftRows3F32AVX512VL(dst, src *float32, L, planes int)
TEXT ·shiftRows3F32AVX512VL(SB), NOSPLIT, $0-32
	// SI the source plane, DI the current row of copy 0, R8 the byte
	// stride between copies ((L+2) L elements), R9 the row length in
	// bytes, R10 the row counter, R11 the last vector's offset, R13 = 0,
	// R14 the planes left.
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    planes+24(FP), R14
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $2, R8
	SHLQ    $2, R9
	LEAQ    -32(R9), R11
	XORQ    R13, R13
	VMOVDQU32 rotR256x32<>(SB), Y14
	VMOVDQU32 rotL256x32<>(SB), Y15

y32plane:
	// Halo row 0 is source row L-1.
	MOVQ  L+16(FP), AX
	DECQ  AX
	IMULQ R9, AX
	ADDQ  SI, AX
	SHIFTROW(y32h0, VMOVUPS, VMOVAPS, VPERMI2PS, 32, Y0, Y1, Y2, Y3, Y4, Y14, Y15)
	ADDQ  R9, DI
	// Rows 1..L are source rows 0..L-1.
	MOVQ  SI, AX
	MOVQ  L+16(FP), R10

y32rows:
	SHIFTROW(y32r, VMOVUPS, VMOVAPS, VPERMI2PS, 32, Y0, Y1, Y2, Y3, Y4, Y14, Y15)
	ADDQ  R9, DI
	ADDQ  R9, AX
	DECQ  R10
	JNZ   y32rows
	// Halo row L+1 is source row 0.
	MOVQ  SI, AX
	SHIFTROW(y32h1, VMOVUPS, VMOVAPS, VPERMI2PS, 32, Y0, Y1, Y2, Y3, Y4, Y14, Y15)
	// Next plane: the source moves by L rows, the destination from the
	// last row of copy 0 to the first row of the next plane's copies.
	MOVQ  L+16(FP), R10
	IMULQ R9, R10
	ADDQ  R10, SI
	LEAQ  (DI)(R9*1), DI
	LEAQ  (DI)(R8*2), DI
	DECQ  R14
	JNZ   y32plane
	VZEROUPPER
	RET

// func shiftRows3F64AVX512VL(dst, src *float64, L, planes int)
TEXT ·shiftRows3F64AVX512VL(SB), NOSPLIT, $0-32
	// SI the source plane, DI the current row of copy 0, R8 the byte
	// stride between copies ((L+2) L elements), R9 the row length in
	// bytes, R10 the row counter, R11 the last vector's offset, R13 = 0,
	// R14 the planes left.
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    planes+24(FP), R14
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $3, R8
	SHLQ    $3, R9
	LEAQ    -32(R9), R11
	XORQ    R13, R13
	VMOVDQU64 rotR256x64<>(SB), Y14
	VMOVDQU64 rotL256x64<>(SB), Y15

y64plane:
	// Halo row 0 is source row L-1.
	MOVQ  L+16(FP), AX
	DECQ  AX
	IMULQ R9, AX
	ADDQ  SI, AX
	SHIFTROW(y64h0, VMOVUPD, VMOVAPD, VPERMI2PD, 32, Y0, Y1, Y2, Y3, Y4, Y14, Y15)
	ADDQ  R9, DI
	// Rows 1..L are source rows 0..L-1.
	MOVQ  SI, AX
	MOVQ  L+16(FP), R10

y64rows:
	SHIFTROW(y64r, VMOVUPD, VMOVAPD, VPERMI2PD, 32, Y0, Y1, Y2, Y3, Y4, Y14, Y15)
	ADDQ  R9, DI
	ADDQ  R9, AX
	DECQ  R10
	JNZ   y64rows
	// Halo row L+1 is source row 0.
	MOVQ  SI, AX
	SHIFTROW(y64h1, VMOVUPD, VMOVAPD, VPERMI2PD, 32, Y0, Y1, Y2, Y3, Y4, Y14, Y15)
	// Next plane: the source moves by L rows, the destination from the
	// last row of copy 0 to the first row of the next plane's copies.
	MOVQ  L+16(FP), R10
	IMULQ R9, R10
	ADDQ  R10, SI
	LEAQ  (DI)(R9*1), DI
	LEAQ  (DI)(R8*2), DI
	DECQ  R14
	JNZ   y64plane
	VZEROUPPER
	RET
