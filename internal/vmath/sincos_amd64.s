//go:build !purego

#include "textflag.h"
#include "vmath_amd64.h"

// AVX2 + FMA body of Sincos (sincos.go), four lanes at a time, each step
// the operation of sincos1 it is commented with. The Go wrapper passes
// n > 0, a multiple of 4, and redoes with math.Sincos the elements that
// the returned flag reports (|x| > SincosMax or NaN).

C4(half, $0x3fe0000000000000) // 0.5
C4(one, $0x3ff0000000000000) // 1
C4(sincosmax, $0x41c0000000000000) // 5.36870912e+08
C4(twooverpi, $0x3fe45f306dc9c883) // 0.6366197723675814
C4(pio2a, $0x3ff921fb54442d18) // 1.5707963267948966
C4(pio2b, $0x3c91a62633145c07) // 6.123233995736766e-17
C4(pio2c, $0xb91f1976b7ed8fbc) // -1.4973849048591698e-33
C4(roundmagic, $0x4338000000000000) // 6.755399441055744e+15
C4(sinc0, $0x3de5d8fd1fd19ccd) // 1.5896230157654656e-10
C4(sinc1, $0xbe5ae5e5a9291f5d) // -2.5050747762857807e-08
C4(sinc2, $0x3ec71de3567d48a1) // 2.7557313621385722e-06
C4(sinc3, $0xbf2a01a019bfdf03) // -0.0001984126982958954
C4(sinc4, $0x3f8111111110f7d0) // 0.008333333333322118
C4(sinc5, $0xbfc5555555555548) // -0.1666666666666663
C4(cosc0, $0xbda8fa49a0861a9b) // -1.1358536521387682e-11
C4(cosc1, $0x3e21ee9d7b4e3f05) // 2.087570084197473e-09
C4(cosc2, $0xbe927e4f7eac4bc6) // -2.755731417929674e-07
C4(cosc3, $0x3efa01a019c844f5) // 2.4801587288851704e-05
C4(cosc4, $0xbf56c16c16c14f91) // -0.0013888888888873056
C4(cosc5, $0x3fa555555555554b) // 0.041666666666666595
C4(absmask, $0x7fffffffffffffff)
C4(int1, $1)
C4(int2, $2)

// func sincosAVX2(sin, cos, x *float64, n int) bool
TEXT ·sincosAVX2(SB), NOSPLIT, $0-33
	MOVQ   sin+0(FP), DI
	MOVQ   cos+8(FP), DX
	MOVQ   x+16(FP), SI
	MOVQ   n+24(FP), CX
	XORQ   AX, AX
	VXORPD Y15, Y15, Y15

scLoop:
	VMOVUPD (SI)(AX*8), Y0
	// Out of range: !(|x| <= SincosMax), NaN included.
	VANDPD       absmask<>(SB), Y0, Y1
	VCMPPD       $0x16, sincosmax<>(SB), Y1, Y1
	VORPD        Y1, Y15, Y15
	// t = x twoOverPi + roundMagic; q = t - roundMagic
	VMULPD       twooverpi<>(SB), Y0, Y14
	VADDPD       roundmagic<>(SB), Y14, Y14
	VSUBPD       roundmagic<>(SB), Y14, Y1
	// r1 = fma(-q, pio2A, x); rh = fma(-q, pio2B, r1)
	VFNMADD231PD pio2a<>(SB), Y1, Y0
	VMOVAPD      Y0, Y2
	VFNMADD231PD pio2b<>(SB), Y1, Y2
	// rl = fma(-q, pio2B, r1 - rh); rl = fma(-q, pio2C, rl)
	VSUBPD       Y2, Y0, Y3
	VFNMADD231PD pio2b<>(SB), Y1, Y3
	VFNMADD231PD pio2c<>(SB), Y1, Y3
	// z = rh rh
	VMULPD       Y2, Y2, Y4
	// ps: Horner over sinC[0..4]; pc: over cosC[0..5]
	VMOVUPD      sinc0<>(SB), Y5
	VMOVUPD      cosc0<>(SB), Y6
	VFMADD213PD  sinc1<>(SB), Y4, Y5
	VFMADD213PD  cosc1<>(SB), Y4, Y6
	VFMADD213PD  sinc2<>(SB), Y4, Y5
	VFMADD213PD  cosc2<>(SB), Y4, Y6
	VFMADD213PD  sinc3<>(SB), Y4, Y5
	VFMADD213PD  cosc3<>(SB), Y4, Y6
	VFMADD213PD  sinc4<>(SB), Y4, Y5
	VFMADD213PD  cosc4<>(SB), Y4, Y6
	VFMADD213PD  cosc5<>(SB), Y4, Y6
	// v = z rh
	VMULPD       Y2, Y4, Y7
	// a = fma(-v, ps, 0.5 rl)
	VMULPD       half<>(SB), Y3, Y8
	VFNMADD231PD Y5, Y7, Y8
	// b = fma(z, a, -rl): a = z a - rl
	VFMSUB213PD  Y3, Y4, Y8
	// s = rh - fma(-v, S1, b)
	VFNMADD231PD sinc5<>(SB), Y7, Y8
	VSUBPD       Y8, Y2, Y9
	// hz = 0.5 z; w = 1 - hz
	VMULPD       half<>(SB), Y4, Y10
	VMOVUPD      one<>(SB), Y11
	VSUBPD       Y10, Y11, Y12
	// u = fma(z z, pc, (1 - w) - hz)
	VSUBPD       Y12, Y11, Y11
	VSUBPD       Y10, Y11, Y11
	VMULPD       Y4, Y4, Y13
	VFMADD231PD  Y6, Y13, Y11
	// c = w + fma(-rh, rl, u)
	VFNMADD231PD Y3, Y2, Y11
	VADDPD       Y11, Y12, Y11
	// Quadrant from the bits of t: swap where bit 0 (moved to the sign),
	// negate sin where bit 1, cos where bit 1 of q + 1.
	VPSLLQ       $63, Y14, Y0
	VBLENDVPD    Y0, Y11, Y9, Y1
	VBLENDVPD    Y0, Y9, Y11, Y2
	VPAND        int2<>(SB), Y14, Y3
	VPSLLQ       $62, Y3, Y3
	VXORPD       Y3, Y1, Y1
	VPADDQ       int1<>(SB), Y14, Y3
	VPAND        int2<>(SB), Y3, Y3
	VPSLLQ       $62, Y3, Y3
	VXORPD       Y3, Y2, Y2
	VMOVUPD      Y1, (DI)(AX*8)
	VMOVUPD      Y2, (DX)(AX*8)
	ADDQ         $4, AX
	CMPQ         AX, CX
	JLT          scLoop
	VMOVMSKPD    Y15, AX
	TESTL        AX, AX
	SETNE        ret+32(FP)
	VZEROUPPER
	RET
