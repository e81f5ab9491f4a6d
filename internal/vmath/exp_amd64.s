//go:build !purego

#include "textflag.h"
#include "vmath_amd64.h"

// AVX2 + FMA bodies of Exp and Exp32 (exp.go), four float64 lanes at a
// time, each instruction the operation of exp1 (exp32One) it is commented
// with, so that the results are the reference's bits. The Go wrappers pass
// n > 0, a multiple of 4.

C4(expmin, $0xc087500000000000) // -746
C4(expmax, $0x4086300000000000) // 710
C4(log2e, $0x3ff71547652b82fe) // 1.4426950408889634
C4(ln2hi, $0x3fe62e42fefa39ef) // 0.6931471805599453
C4(ln2lo, $0x3c7abc9e3b39803f) // 2.3190468138462996e-17
C4(expmagic, $0x43380000000003ff) // 6.755399441056767e+15
C4(one, $0x3ff0000000000000) // 1
C4(half, $0x3fe0000000000000) // 0.5
C4(expc0, $0x3de6124613a86d09) // 1.6059043836821613e-10
C4(expc1, $0x3e21eed8eff8d898) // 2.08767569878681e-09
C4(expc2, $0x3e5ae64567f544e4) // 2.505210838544172e-08
C4(expc3, $0x3e927e4fb7789f5c) // 2.755731922398589e-07
C4(expc4, $0x3ec71de3a556c734) // 2.7557319223985893e-06
C4(expc5, $0x3efa01a01a01a01a) // 2.48015873015873e-05
C4(expc6, $0x3f2a01a01a01a01a) // 0.0001984126984126984
C4(expc7, $0x3f56c16c16c16c17) // 0.001388888888888889
C4(expc8, $0x3f81111111111111) // 0.008333333333333333
C4(expc9, $0x3fa5555555555555) // 0.041666666666666664
C4(expc10, $0x3fc5555555555555) // 0.16666666666666666
C4(expc11, $0x3fe0000000000000) // 0.5
C4(exp32min, $0xc05a000000000000) // -104
C4(exp32max, $0x4056400000000000) // 89

// EXPPOLY sets Y3 = p(r) for r in Y2: Horner with FMAs from expc0 (exp1's
// loop over expC), then twice p = p r + 1.
#define EXPPOLY \
	VMOVUPD      expc0<>(SB), Y3; \
	VFMADD213PD  expc1<>(SB), Y2, Y3; \
	VFMADD213PD  expc2<>(SB), Y2, Y3; \
	VFMADD213PD  expc3<>(SB), Y2, Y3; \
	VFMADD213PD  expc4<>(SB), Y2, Y3; \
	VFMADD213PD  expc5<>(SB), Y2, Y3; \
	VFMADD213PD  expc6<>(SB), Y2, Y3; \
	VFMADD213PD  expc7<>(SB), Y2, Y3; \
	VFMADD213PD  expc8<>(SB), Y2, Y3; \
	VFMADD213PD  expc9<>(SB), Y2, Y3; \
	VFMADD213PD  expc10<>(SB), Y2, Y3; \
	VFMADD213PD  expc11<>(SB), Y2, Y3; \
	VFMADD213PD  one<>(SB), Y2, Y3; \
	VFMADD213PD  one<>(SB), Y2, Y3

// func expAVX2(dst, x *float64, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	VMOVUPD expmin<>(SB), Y12
	VMOVUPD expmax<>(SB), Y13

expLoop:
	VMOVUPD (SI)(AX*8), Y0
	// x = min(max(x, expMin), expMax), NaN kept (x is the second source).
	VMAXPD       Y0, Y12, Y0
	VMINPD       Y0, Y13, Y0
	// k = roundEven(x log2e)
	VMULPD       log2e<>(SB), Y0, Y1
	VROUNDPD     $0, Y1, Y1
	// r = fma(-k, ln2Hi, x); r = fma(-k, ln2Lo, r)
	VMOVAPD      Y0, Y2
	VFNMADD231PD ln2hi<>(SB), Y1, Y2
	VFNMADD231PD ln2lo<>(SB), Y1, Y2
	EXPPOLY
	// k1 = roundEven(0.5 k), k2 = k - k1
	VMULPD       half<>(SB), Y1, Y4
	VROUNDPD     $0, Y4, Y4
	VSUBPD       Y4, Y1, Y5
	// s = bits(k + expMagic) << 52
	VADDPD       expmagic<>(SB), Y4, Y4
	VPSLLQ       $52, Y4, Y4
	VADDPD       expmagic<>(SB), Y5, Y5
	VPSLLQ       $52, Y5, Y5
	// p * s1 * s2
	VMULPD       Y4, Y3, Y3
	VMULPD       Y5, Y3, Y3
	VMOVUPD      Y3, (DI)(AX*8)
	ADDQ         $4, AX
	CMPQ         AX, CX
	JLT          expLoop
	VZEROUPPER
	RET

// func exp32AVX2(dst, x *float32, n int)
TEXT ·exp32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	VMOVUPD exp32min<>(SB), Y12
	VMOVUPD exp32max<>(SB), Y13

exp32Loop:
	VCVTPS2PD    (SI)(AX*4), Y0
	VMAXPD       Y0, Y12, Y0
	VMINPD       Y0, Y13, Y0
	VMULPD       log2e<>(SB), Y0, Y1
	VROUNDPD     $0, Y1, Y1
	VMOVAPD      Y0, Y2
	VFNMADD231PD ln2hi<>(SB), Y1, Y2
	// exp32C is expC from expc5 on (1/8! down to 1/2).
	VMOVUPD      expc5<>(SB), Y3
	VFMADD213PD  expc6<>(SB), Y2, Y3
	VFMADD213PD  expc7<>(SB), Y2, Y3
	VFMADD213PD  expc8<>(SB), Y2, Y3
	VFMADD213PD  expc9<>(SB), Y2, Y3
	VFMADD213PD  expc10<>(SB), Y2, Y3
	VFMADD213PD  expc11<>(SB), Y2, Y3
	VFMADD213PD  one<>(SB), Y2, Y3
	VFMADD213PD  one<>(SB), Y2, Y3
	VADDPD       expmagic<>(SB), Y1, Y1
	VPSLLQ       $52, Y1, Y1
	VMULPD       Y1, Y3, Y3
	VCVTPD2PSY   Y3, X3
	VMOVUPS      X3, (DI)(AX*4)
	ADDQ         $4, AX
	CMPQ         AX, CX
	JLT          exp32Loop
	VZEROUPPER
	RET
