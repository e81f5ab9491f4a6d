//go:build !purego

#include "textflag.h"

// AVX-512 bodies of ShiftRowsTo for K = 3 (see shifted.go), the structure
// of shift_amd64.s with whole ZMM vectors: a row is c = L/w vectors
// C_0..C_{c-1} (w = 16 float32 or 8 float64); copy k1 = 0 (dst[x] =
// src[x-1]) has vector j = (last lane of C_{j-1 mod c}, C_j without its
// last lane), copy k1 = 2 (dst[x] = src[x+1]) has (C_j without its first
// lane, first lane of C_{j+1 mod c}), each one two-table permute
// (VPERMI2PS/PD; for L = w the neighbours are C_j itself). The Go wrappers
// pass L > 0, a multiple of w.

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

// func shiftRows3F32AVX512(dst, src *float32, L int)
TEXT ·shiftRows3F32AVX512(SB), NOSPLIT, $0-24
	// SI src, DI the row of copy 0, R8 the byte stride between copies
	// ((L+2)*L elements), R9 the row length in bytes, R10 the row counter
	// q = 0..L+1, AX the source row, DX the vector offset j within the row,
	// BX/CX the neighbours' offsets, R11 the last vector's offset.
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $2, R8
	SHLQ    $2, R9
	LEAQ    -64(R9), R11
	VMOVDQU32 rotR512x32<>(SB), Z14
	VMOVDQU32 rotL512x32<>(SB), Z15
	XORQ    R10, R10

z32row:
	// Source row (q-1) mod L: row L-1 for q = 0, row 0 for q = L+1.
	MOVQ  R10, AX
	DECQ  AX
	IMULQ R9, AX
	TESTQ R10, R10
	JNZ   z32notfirst
	MOVQ  R9, AX
	IMULQ L+16(FP), AX
	SUBQ  R9, AX

z32notfirst:
	MOVQ L+16(FP), BX
	INCQ BX
	CMPQ R10, BX
	JNE  z32src
	XORQ AX, AX

z32src:
	ADDQ SI, AX
	XORQ DX, DX

z32vec:
	LEAQ    -64(DX), BX
	TESTQ   DX, DX
	CMOVQEQ R11, BX
	LEAQ    64(DX), CX
	CMPQ    DX, R11
	JNE     z32load
	XORQ    CX, CX

z32load:
	VMOVUPS   (AX)(DX*1), Z0
	VMOVUPS   (AX)(BX*1), Z1
	VMOVUPS   (AX)(CX*1), Z2
	LEAQ    (DI)(R8*1), BX
	VMOVUPS   Z0, (BX)(DX*1)
	VMOVAPS  Z14, Z3
	VPERMI2PS  Z1, Z0, Z3
	VMOVUPS   Z3, (DI)(DX*1)
	VMOVAPS  Z15, Z4
	VPERMI2PS  Z2, Z0, Z4
	LEAQ    (BX)(R8*1), BX
	VMOVUPS   Z4, (BX)(DX*1)
	ADDQ    $64, DX
	CMPQ    DX, R9
	JLT     z32vec

	ADDQ R9, DI
	INCQ R10
	MOVQ L+16(FP), BX
	ADDQ $2, BX
	CMPQ R10, BX
	JLT  z32row
	VZEROUPPER
	RET

// func shiftRows3F64AVX512(dst, src *float64, L int)
TEXT ·shiftRows3F64AVX512(SB), NOSPLIT, $0-24
	// SI src, DI the row of copy 0, R8 the byte stride between copies
	// ((L+2)*L elements), R9 the row length in bytes, R10 the row counter
	// q = 0..L+1, AX the source row, DX the vector offset j within the row,
	// BX/CX the neighbours' offsets, R11 the last vector's offset.
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    L+16(FP), R9
	MOVQ    R9, R8
	ADDQ    $2, R8
	IMULQ   R9, R8
	SHLQ    $3, R8
	SHLQ    $3, R9
	LEAQ    -64(R9), R11
	VMOVDQU64 rotR512x64<>(SB), Z14
	VMOVDQU64 rotL512x64<>(SB), Z15
	XORQ    R10, R10

z64row:
	// Source row (q-1) mod L: row L-1 for q = 0, row 0 for q = L+1.
	MOVQ  R10, AX
	DECQ  AX
	IMULQ R9, AX
	TESTQ R10, R10
	JNZ   z64notfirst
	MOVQ  R9, AX
	IMULQ L+16(FP), AX
	SUBQ  R9, AX

z64notfirst:
	MOVQ L+16(FP), BX
	INCQ BX
	CMPQ R10, BX
	JNE  z64src
	XORQ AX, AX

z64src:
	ADDQ SI, AX
	XORQ DX, DX

z64vec:
	LEAQ    -64(DX), BX
	TESTQ   DX, DX
	CMOVQEQ R11, BX
	LEAQ    64(DX), CX
	CMPQ    DX, R11
	JNE     z64load
	XORQ    CX, CX

z64load:
	VMOVUPD   (AX)(DX*1), Z0
	VMOVUPD   (AX)(BX*1), Z1
	VMOVUPD   (AX)(CX*1), Z2
	LEAQ    (DI)(R8*1), BX
	VMOVUPD   Z0, (BX)(DX*1)
	VMOVAPD  Z14, Z3
	VPERMI2PD  Z1, Z0, Z3
	VMOVUPD   Z3, (DI)(DX*1)
	VMOVAPD  Z15, Z4
	VPERMI2PD  Z2, Z0, Z4
	LEAQ    (BX)(R8*1), BX
	VMOVUPD   Z4, (BX)(DX*1)
	ADDQ    $64, DX
	CMPQ    DX, R9
	JLT     z64vec

	ADDQ R9, DI
	INCQ R10
	MOVQ L+16(FP), BX
	ADDQ $2, BX
	CMPQ R10, BX
	JLT  z64row
	VZEROUPPER
	RET
