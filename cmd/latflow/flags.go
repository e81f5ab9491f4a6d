package main

import (
	"github.com/urfave/cli/v2"
)

// Flag names shared by several subcommands.
const (
	flagTheory    = "theory"
	flagL         = "L"
	flagBeta      = "beta"
	flagM2        = "m2"
	flagLambda    = "lambda"
	flagKappa     = "kappa"
	flagN         = "n"
	flagTherm     = "therm"
	flagTau       = "tau"
	flagSteps     = "steps"
	flagSeed      = "seed"
	flagChains    = "chains"
	flagJSON      = "json"
	flagOut       = "out"
	flagSaveEvery = "save-every"
	flagTraceFile = "trace-file"
	flagThreads   = "threads"
	flagPartRows  = "part-rows"
	flagMaxTime   = "max-time"
	flagEval      = "eval"
)

// Flag names of latflow train and latflow bench.
const (
	flagObjective       = "objective"
	flagGradient        = "gradient"
	flagBatch           = "batch"
	flagLR              = "lr"
	flagSchedule        = "schedule"
	flagClip            = "clip"
	flagData            = "data"
	flagLayers          = "layers"
	flagMixtures        = "mixtures"
	flagHidden          = "hidden"
	flagKernel          = "kernel"
	flagPrecision       = "precision"
	flagCheckpointEvery = "checkpoint-every"
	flagResume          = "resume"
	flagForce           = "force"
	flagMaxSkips        = "max-skips"
	flagRepeat          = "repeat"
)

// Theories known to latflow.
const (
	theoryU1   = "u1"
	theoryPhi4 = "phi4"
)

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: flagJSON, Usage: "print the results as JSON on stdout"}
}

// checkL validates the lattice extent for a theory: L >= 4, a multiple of 4
// for U(1) (the flow's stripe masks) and even for phi^4 (checkerboards).
func checkL(theory string, L int) error {
	if L < 4 {
		return usagef("--%s must be at least 4, got %d", flagL, L)
	}
	switch theory {
	case theoryU1:
		if L%4 != 0 {
			return usagef("--%s must be a multiple of 4 for --%s %s (stripe masks), got %d", flagL, flagTheory, theoryU1, L)
		}
	case theoryPhi4:
		if L%2 != 0 {
			return usagef("--%s must be even for --%s %s (checkerboard masks), got %d", flagL, flagTheory, theoryPhi4, L)
		}
	}
	return nil
}

func checkBeta(beta float64) error {
	if !(beta > 0) || beta > 1e6 {
		return usagef("--%s must be positive (0 < beta <= 1e6), got %g", flagBeta, beta)
	}
	return nil
}

func checkTheory(theory string) error {
	switch theory {
	case theoryU1, theoryPhi4:
		return nil
	}
	return usagef("--%s must be %q or %q, got %q", flagTheory, theoryU1, theoryPhi4, theory)
}
