//go:build !amd64 || purego

package kernels

func shiftRows3F32(dst, src *float32, L int) {
	panic("kernels: no assembly row kernels on this platform")
}

func shiftRows3F64(dst, src *float64, L int) {
	panic("kernels: no assembly row kernels on this platform")
}
