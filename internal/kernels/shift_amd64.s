//go:build !purego

#include "textflag.h"

// AVX2 bodies of ShiftRowsTo for K = 3 (see shifted.go): one pass over the
// L+2 rows of the copies, each read once from its source row and written
// to the three copies, unshifted and rotated by one site either way. A row
// is c = L/w vectors C_0..C_{c-1} (w = 8 float32 or 4 float64); copy k1 = 0
// (dst[x] = src[x-1]) has vector j = rotR(C_j) with lane 0 from
// rotR(C_{j-1 mod c}), copy k1 = 2 (dst[x] = src[x+1]) has
// rotL(C_j) with the last lane from rotL(C_{j+1 mod c}). The Go wrappers
// pass L > 0, a multiple of w.

DATA rotR32<>+0(SB)/4, $7
DATA rotR32<>+4(SB)/4, $0
DATA rotR32<>+8(SB)/4, $1
DATA rotR32<>+12(SB)/4, $2
DATA rotR32<>+16(SB)/4, $3
DATA rotR32<>+20(SB)/4, $4
DATA rotR32<>+24(SB)/4, $5
DATA rotR32<>+28(SB)/4, $6
GLOBL rotR32<>(SB), RODATA|NOPTR, $32

DATA rotL32<>+0(SB)/4, $1
DATA rotL32<>+4(SB)/4, $2
DATA rotL32<>+8(SB)/4, $3
DATA rotL32<>+12(SB)/4, $4
DATA rotL32<>+16(SB)/4, $5
DATA rotL32<>+20(SB)/4, $6
DATA rotL32<>+24(SB)/4, $7
DATA rotL32<>+28(SB)/4, $0
GLOBL rotL32<>(SB), RODATA|NOPTR, $32

// Register use of both bodies: SI src, DI the row of copy 0, R8 the byte
// stride between copies ((L+2)*L elements), R9 the row length in bytes,
// R10 the row counter q = 0..L+1, AX the source row, DX the vector offset
// j within the row, BX/CX the neighbours' offsets, R11 the last vector's
// offset (R9 - 32).

// func shiftRows3F32AVX2(dst, src *float32, L int)
TEXT ·shiftRows3F32AVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $2, R8
	SHLQ    $2, R9
	LEAQ    -32(R9), R11
	VMOVDQU rotR32<>(SB), Y14
	VMOVDQU rotL32<>(SB), Y15
	XORQ    R10, R10

s32row:
	// Source row (q-1) mod L: row L-1 for q = 0, row 0 for q = L+1.
	MOVQ  R10, AX
	DECQ  AX
	IMULQ R9, AX
	MOVQ  R10, BX
	TESTQ BX, BX
	JNZ   s32notfirst
	MOVQ  R9, AX
	IMULQ L+16(FP), AX
	SUBQ  R9, AX

s32notfirst:
	MOVQ L+16(FP), BX
	INCQ BX
	CMPQ R10, BX
	JNE  s32src
	XORQ AX, AX

s32src:
	ADDQ SI, AX
	XORQ DX, DX

s32vec:
	// BX = offset of vector j-1, CX = of vector j+1 (periodic).
	LEAQ    -32(DX), BX
	TESTQ   DX, DX
	CMOVQEQ R11, BX
	LEAQ    32(DX), CX
	CMPQ    DX, R11
	JNE     s32load
	XORQ    CX, CX

s32load:
	VMOVUPS   (AX)(DX*1), Y0
	VMOVUPS   (AX)(BX*1), Y1
	VMOVUPS   (AX)(CX*1), Y2
	LEAQ      (DI)(R8*1), BX
	VMOVUPS   Y0, (BX)(DX*1)
	VPERMPS   Y0, Y14, Y3
	VPERMPS   Y1, Y14, Y4
	VBLENDPS  $0x01, Y4, Y3, Y5
	VMOVUPS   Y5, (DI)(DX*1)
	VPERMPS   Y0, Y15, Y6
	VPERMPS   Y2, Y15, Y7
	VBLENDPS  $0x80, Y7, Y6, Y8
	LEAQ      (BX)(R8*1), BX
	VMOVUPS   Y8, (BX)(DX*1)
	ADDQ      $32, DX
	CMPQ      DX, R9
	JLT       s32vec

	ADDQ R9, DI
	INCQ R10
	MOVQ L+16(FP), BX
	ADDQ $2, BX
	CMPQ R10, BX
	JLT  s32row
	VZEROUPPER
	RET

// func shiftRows3F64AVX2(dst, src *float64, L int)
TEXT ·shiftRows3F64AVX2(SB), NOSPLIT, $0-24
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  L+16(FP), R9
	MOVQ  R9, R8
	ADDQ  $2, R8
	IMULQ R9, R8
	SHLQ  $3, R8
	SHLQ  $3, R9
	LEAQ  -32(R9), R11
	XORQ  R10, R10

s64row:
	MOVQ  R10, AX
	DECQ  AX
	IMULQ R9, AX
	MOVQ  R10, BX
	TESTQ BX, BX
	JNZ   s64notfirst
	MOVQ  R9, AX
	IMULQ L+16(FP), AX
	SUBQ  R9, AX

s64notfirst:
	MOVQ L+16(FP), BX
	INCQ BX
	CMPQ R10, BX
	JNE  s64src
	XORQ AX, AX

s64src:
	ADDQ SI, AX
	XORQ DX, DX

s64vec:
	LEAQ    -32(DX), BX
	TESTQ   DX, DX
	CMOVQEQ R11, BX
	LEAQ    32(DX), CX
	CMPQ    DX, R11
	JNE     s64load
	XORQ    CX, CX

s64load:
	VMOVUPD  (AX)(DX*1), Y0
	VMOVUPD  (AX)(BX*1), Y1
	VMOVUPD  (AX)(CX*1), Y2
	LEAQ     (DI)(R8*1), BX
	VMOVUPD  Y0, (BX)(DX*1)
	VPERMPD  $0x93, Y0, Y3
	VPERMPD  $0x93, Y1, Y4
	VBLENDPD $0x01, Y4, Y3, Y5
	VMOVUPD  Y5, (DI)(DX*1)
	VPERMPD  $0x39, Y0, Y6
	VPERMPD  $0x39, Y2, Y7
	VBLENDPD $0x08, Y7, Y6, Y8
	LEAQ     (BX)(R8*1), BX
	VMOVUPD  Y8, (BX)(DX*1)
	ADDQ     $32, DX
	CMPQ     DX, R9
	JLT      s64vec

	ADDQ R9, DI
	INCQ R10
	MOVQ L+16(FP), BX
	ADDQ $2, BX
	CMPQ R10, BX
	JLT  s64row
	VZEROUPPER
	RET
