//go:build !unix

package flowtrain

import "math"

// processCPUSeconds returns NaN: the CPU time of the process is read with
// getrusage, which only Unix systems have.
func processCPUSeconds() float64 { return math.NaN() }
