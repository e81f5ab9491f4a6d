//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// detect returns AVX-512 where the CPU and the OS support its F, BW, DQ and
// VL subsets (x/sys/cpu checks that the OS saves the ZMM state), else AVX2
// with FMA, else the reference loops.
func detect() isa {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL:
		return isaAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return isaAVX2
	}
	return isaGo
}
