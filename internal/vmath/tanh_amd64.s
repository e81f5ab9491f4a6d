//go:build !purego

#include "textflag.h"
#include "vmath_amd64.h"

// AVX2 + FMA body of Tanh32 (tanh.go), four float64 lanes at a time, each
// step the operation of tanh32One it is commented with. The Go wrapper
// passes n > 0, a multiple of 4.

C4(log2e, $0x3ff71547652b82fe) // 1.4426950408889634
C4(ln2hi, $0x3fe62e42fefa39ef) // 0.6931471805599453
C4(ln2lo, $0x3c7abc9e3b39803f) // 2.3190468138462996e-17
C4(expmagic, $0x43380000000003ff) // 6.755399441056767e+15
C4(one, $0x3ff0000000000000) // 1
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
C4(absmask, $0x7fffffffffffffff)
C4(signmask, $0x8000000000000000)
C4(twenty, $0x4034000000000000)
C4(two, $0x4000000000000000)
C4(tiny, $0x3f30000000000000)

// func tanh32AVX2(dst, x *float32, n int)
TEXT ·tanh32AVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	XORQ    AX, AX
	VMOVUPD twenty<>(SB), Y13

tanhLoop:
	VCVTPS2PD    (SI)(AX*4), Y0
	// ax = |x|; y = 2 min(ax, 20), NaN kept (ax is the second source)
	VANDPD       absmask<>(SB), Y0, Y1
	VMINPD       Y1, Y13, Y2
	VMULPD       two<>(SB), Y2, Y2
	// k = roundEven(y log2e); r = fma(-k, ln2Hi, y); r = fma(-k, ln2Lo, r)
	VMULPD       log2e<>(SB), Y2, Y4
	VROUNDPD     $0, Y4, Y4
	VFNMADD231PD ln2hi<>(SB), Y4, Y2
	VFNMADD231PD ln2lo<>(SB), Y4, Y2
	// p: Horner over expC, then twice p r + 1
	VMOVUPD      expc0<>(SB), Y3
	VFMADD213PD  expc1<>(SB), Y2, Y3
	VFMADD213PD  expc2<>(SB), Y2, Y3
	VFMADD213PD  expc3<>(SB), Y2, Y3
	VFMADD213PD  expc4<>(SB), Y2, Y3
	VFMADD213PD  expc5<>(SB), Y2, Y3
	VFMADD213PD  expc6<>(SB), Y2, Y3
	VFMADD213PD  expc7<>(SB), Y2, Y3
	VFMADD213PD  expc8<>(SB), Y2, Y3
	VFMADD213PD  expc9<>(SB), Y2, Y3
	VFMADD213PD  expc10<>(SB), Y2, Y3
	VFMADD213PD  expc11<>(SB), Y2, Y3
	VFMADD213PD  one<>(SB), Y2, Y3
	VFMADD213PD  one<>(SB), Y2, Y3
	// t = p 2^k; v = (t - 1)/(t + 1) with the sign of x
	VADDPD       expmagic<>(SB), Y4, Y4
	VPSLLQ       $52, Y4, Y4
	VMULPD       Y4, Y3, Y3
	VSUBPD       one<>(SB), Y3, Y5
	VADDPD       one<>(SB), Y3, Y6
	VDIVPD       Y6, Y5, Y5
	VANDPD       signmask<>(SB), Y0, Y6
	VORPD        Y6, Y5, Y5
	// ax < 2^-12: x
	VCMPPD       $0x11, tiny<>(SB), Y1, Y6
	VBLENDVPD    Y6, Y0, Y5, Y5
	VCVTPD2PSY   Y5, X5
	VMOVUPS      X5, (DI)(AX*4)
	ADDQ         $4, AX
	CMPQ         AX, CX
	JLT          tanhLoop
	VZEROUPPER
	RET
