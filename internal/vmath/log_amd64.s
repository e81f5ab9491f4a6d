//go:build !purego

#include "textflag.h"
#include "vmath_amd64.h"

// AVX2 + FMA body of Log (log.go), four lanes at a time, each step the
// operation of log1 it is commented with. The Go wrapper passes n > 0, a
// multiple of 4.

C4(half, $0x3fe0000000000000) // 0.5
C4(one, $0x3ff0000000000000) // 1
C4(two, $0x4000000000000000) // 2
C4(minnormal, $0x0010000000000000) // 2.2250738585072014e-308
C4(two52, $0x4330000000000000) // 4.503599627370496e+15
C4(fiftytwo, $0x404a000000000000) // 52
C4(kbias, $0x43300000000003ff) // 4.503599627371519e+15
C4(sqrt2, $0x3ff6a09e667f3bcd) // 1.4142135623730951
C4(ln2hilog, $0x3fe62e42fee00000) // 0.6931471803691238
C4(ln2lolog, $0x3dea39ef35793c76) // 1.9082149292705877e-10
C4(logl1, $0x3fe5555555555593) // 0.6666666666666735
C4(logl2, $0x3fd999999997fa04) // 0.3999999999940942
C4(logl3, $0x3fd2492494229359) // 0.2857142874366239
C4(logl4, $0x3fcc71c51d8e78af) // 0.22222198432149784
C4(logl5, $0x3fc7466496cb03de) // 0.1818357216161805
C4(logl6, $0x3fc39a09d078c69f) // 0.15313837699209373
C4(logl7, $0x3fc2f112df3e5244) // 0.14798198605116586
C4(neginf, $0xfff0000000000000) // -Inf
C4(posinf, $0x7ff0000000000000) // +Inf
C4(nan, $0x7ff8000000000001) // NaN
C4(mantmask, $0x000fffffffffffff)

// func logAVX2(dst, x *float64, n int)
TEXT ·logAVX2(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   n+16(FP), CX
	XORQ   AX, AX
	VXORPD Y15, Y15, Y15

logLoop:
	VMOVUPD (SI)(AX*8), Y0
	// Subnormal (or negative): xs, adj = x 2^52, 52
	VCMPPD    $0x11, minnormal<>(SB), Y0, Y1
	VMULPD    two52<>(SB), Y0, Y2
	VBLENDVPD Y1, Y2, Y0, Y2
	VANDPD    fiftytwo<>(SB), Y1, Y1
	// m = mantissa of xs in [1, 2); k = exponent - adj
	VANDPD    mantmask<>(SB), Y2, Y3
	VORPD     one<>(SB), Y3, Y3
	VPSRLQ    $52, Y2, Y4
	VPOR      two52<>(SB), Y4, Y4
	VSUBPD    kbias<>(SB), Y4, Y4
	VSUBPD    Y1, Y4, Y4
	// m > sqrt2: m, k = 0.5 m, k + 1
	VCMPPD    $0x1e, sqrt2<>(SB), Y3, Y1
	VMULPD    half<>(SB), Y3, Y2
	VBLENDVPD Y1, Y2, Y3, Y3
	VADDPD    one<>(SB), Y4, Y2
	VBLENDVPD Y1, Y2, Y4, Y4
	// f = m - 1; s = f/(2 + f)
	VSUBPD    one<>(SB), Y3, Y3
	VADDPD    two<>(SB), Y3, Y5
	VDIVPD    Y5, Y3, Y5
	// s2, s4
	VMULPD    Y5, Y5, Y6
	VMULPD    Y6, Y6, Y7
	// t1 = s2 fma(s4, fma(s4, fma(s4, L7, L5), L3), L1)
	VMOVUPD     logl7<>(SB), Y8
	VFMADD213PD logl5<>(SB), Y7, Y8
	VFMADD213PD logl3<>(SB), Y7, Y8
	VFMADD213PD logl1<>(SB), Y7, Y8
	VMULPD      Y8, Y6, Y8
	// t2 = s4 fma(s4, fma(s4, L6, L4), L2)
	VMOVUPD     logl6<>(SB), Y9
	VFMADD213PD logl4<>(SB), Y7, Y9
	VFMADD213PD logl2<>(SB), Y7, Y9
	VMULPD      Y9, Y7, Y9
	// R = t1 + t2; hfsq = 0.5 f f
	VADDPD      Y9, Y8, Y8
	VMULPD      half<>(SB), Y3, Y9
	VMULPD      Y3, Y9, Y9
	// r = k ln2Hi - ((hfsq - fma(s, hfsq + R, k ln2Lo)) - f)
	VADDPD      Y8, Y9, Y8
	VMULPD      ln2lolog<>(SB), Y4, Y10
	VFMADD231PD Y8, Y5, Y10
	VSUBPD      Y10, Y9, Y10
	VSUBPD      Y3, Y10, Y10
	VMULPD      ln2hilog<>(SB), Y4, Y11
	VSUBPD      Y10, Y11, Y11
	// x < 0: NaN; x == 0: -Inf; x == +Inf or NaN: x
	VCMPPD    $0x11, Y15, Y0, Y1
	VBLENDVPD Y1, nan<>(SB), Y11, Y11
	VCMPPD    $0, Y15, Y0, Y1
	VBLENDVPD Y1, neginf<>(SB), Y11, Y11
	VCMPPD    $0, posinf<>(SB), Y0, Y1
	VCMPPD    $3, Y0, Y0, Y2
	VORPD     Y2, Y1, Y1
	VBLENDVPD Y1, Y0, Y11, Y11
	VMOVUPD   Y11, (DI)(AX*8)
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       logLoop
	VZEROUPPER
	RET
