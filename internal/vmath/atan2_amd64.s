//go:build !purego

#include "textflag.h"
#include "vmath_amd64.h"

// AVX2 + FMA body of Atan2 (atan2.go), four lanes at a time, each step
// the operation of atan21 it is commented with; the branches of atan21 are
// blends. The Go wrapper passes n > 0, a multiple of 4.

C4(half, $0x3fe0000000000000) // 0.5
C4(one, $0x3ff0000000000000) // 1
C4(atansplit, $0x3ff83e0f83e0f83e) // 1.5151515151515151
C4(two1022, $0x7fd0000000000000) // 4.49423283715579e+307
C4(two, $0x4000000000000000) // 2
C4(four, $0x4010000000000000) // 4
C4(pio4hi, $0x3fe921fb54442d18) // 0.7853981633974483
C4(pio4lo, $0x3c81a62633145c07) // 3.061616997868383e-17
C4(atanp0, $0xbfec007fa1f72594) // -0.8750608600031904
C4(atanp1, $0xc03028545b6b807a) // -16.157537187333652
C4(atanp2, $0xc052c08c36880273) // -75.00855792314705
C4(atanp3, $0xc05eb8bf2d05ba25) // -122.88666844901361
C4(atanp4, $0xc0503669fd28ec8e) // -64.85021904942025
C4(atanq0, $0x4038dbc45b14603c) // 24.858464901423062
C4(atanq1, $0x4064a0dd43b8fa25) // 165.02700983169885
C4(atanq2, $0x407b0e18d2e2be3b) // 432.88106049129027
C4(atanq3, $0x407e563f13b049ea) // 485.3903996359137
C4(atanq4, $0x4068519efbbd62ec) // 194.5506571482614
C4(posinf, $0x7ff0000000000000) // +Inf
C4(absmask, $0x7fffffffffffffff)
C4(signmask, $0x8000000000000000)

// func atan2AVX2(dst, y, x *float64, n int)
TEXT ·atan2AVX2(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   x+16(FP), DX
	MOVQ   n+24(FP), CX
	XORQ   AX, AX
	VXORPD Y15, Y15, Y15

atLoop:
	VMOVUPD (DX)(AX*8), Y0 // x
	VMOVUPD (SI)(AX*8), Y1 // y
	// ax, ay; swap = ay > ax; a, b = max, min
	VANDPD    absmask<>(SB), Y0, Y2
	VANDPD    absmask<>(SB), Y1, Y3
	VCMPPD    $0x1e, Y2, Y3, Y4
	VBLENDVPD Y4, Y3, Y2, Y5
	VBLENDVPD Y4, Y2, Y3, Y6
	// red = b atanSplit > a
	VMULPD    atansplit<>(SB), Y6, Y7
	VCMPPD    $0x1e, Y5, Y7, Y7
	// h = 0.5 where a >= 2^1022, else 1; bh, ah = b h, a h
	VCMPPD    $0x1d, two1022<>(SB), Y5, Y8
	VMOVUPD   one<>(SB), Y9
	VBLENDVPD Y8, half<>(SB), Y9, Y8
	VMULPD    Y8, Y6, Y9
	VMULPD    Y8, Y5, Y8
	// num, den = red ? (bh - ah, bh + ah) : (b, a); u = num/den
	VSUBPD    Y8, Y9, Y10
	VADDPD    Y8, Y9, Y11
	VBLENDVPD Y7, Y10, Y6, Y10
	VBLENDVPD Y7, Y11, Y5, Y11
	VDIVPD    Y11, Y10, Y10
	// b = +Inf: red, u = true, 0. a = 0: u = 0.
	VCMPPD    $0, posinf<>(SB), Y6, Y8
	VORPD     Y8, Y7, Y7
	VANDNPD   Y10, Y8, Y10
	VCMPPD    $0, Y15, Y5, Y8
	VANDNPD   Y10, Y8, Y10
	// z = u u; pz, qz; t = z pz / qz; th = fma(u, t, u)
	VMULPD      Y10, Y10, Y11
	VMOVUPD     atanp0<>(SB), Y12
	VFMADD213PD atanp1<>(SB), Y11, Y12
	VFMADD213PD atanp2<>(SB), Y11, Y12
	VFMADD213PD atanp3<>(SB), Y11, Y12
	VFMADD213PD atanp4<>(SB), Y11, Y12
	VADDPD      atanq0<>(SB), Y11, Y13
	VFMADD213PD atanq1<>(SB), Y11, Y13
	VFMADD213PD atanq2<>(SB), Y11, Y13
	VFMADD213PD atanq3<>(SB), Y11, Y13
	VFMADD213PD atanq4<>(SB), Y11, Y13
	VMULPD      Y12, Y11, Y12
	VDIVPD      Y13, Y12, Y12
	VFMADD213PD Y10, Y10, Y12
	// k = red ? 1 : 0
	VANDPD    one<>(SB), Y7, Y13
	// swap: k, th = 2 - k, -th
	VMOVUPD   two<>(SB), Y8
	VSUBPD    Y13, Y8, Y8
	VBLENDVPD Y4, Y8, Y13, Y13
	VANDPD    signmask<>(SB), Y4, Y8
	VXORPD    Y8, Y12, Y12
	// sign of x: k, th = 4 - k, -th (the blend reads the sign bit of x)
	VMOVUPD   four<>(SB), Y8
	VSUBPD    Y13, Y8, Y8
	VBLENDVPD Y0, Y8, Y13, Y13
	VANDPD    signmask<>(SB), Y0, Y8
	VXORPD    Y8, Y12, Y12
	// r = fma(k, pio4Hi, fma(k, pio4Lo, th)) with the sign of y
	VFMADD231PD pio4lo<>(SB), Y13, Y12
	VFMADD231PD pio4hi<>(SB), Y13, Y12
	VANDPD      signmask<>(SB), Y1, Y8
	VORPD       Y8, Y12, Y12
	// NaN in: x + y
	VCMPPD    $3, Y0, Y1, Y8
	VADDPD    Y0, Y1, Y9
	VBLENDVPD Y8, Y9, Y12, Y12
	VMOVUPD   Y12, (DI)(AX*8)
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       atLoop
	VZEROUPPER
	RET
