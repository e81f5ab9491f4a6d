// Command latflow is lattice field theory Monte Carlo with normalizing
// flows: exact U(1) results, HMC for U(1) gauge theory and phi^4 theory,
// Gamma-method analysis of Arrow datasets, flow training with six gradient
// estimators, and their benchmark.
//
// Exit codes:
//
//	0  success
//	1  the run failed
//	2  bad usage (a flag out of range, an unknown theory, ...)
//	3  interrupted (SIGINT or SIGTERM); what was complete is kept
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
