//go:build unix

package flowtrain

import (
	"math"
	"syscall"
)

// processCPUSeconds returns the CPU time the process has used so far, user
// plus system (getrusage RUSAGE_SELF), in seconds; NaN if the system does
// not tell.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + 1e-6*float64(t.Usec) }
	return tv(ru.Utime) + tv(ru.Stime)
}
