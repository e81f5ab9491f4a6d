package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"latflow/ensemble"
	"latflow/fermion"
	"latflow/lattice"
)

// Flag names shared by several subcommands.
const (
	flagTheory      = "theory"
	flagL           = "L"
	flagBeta        = "beta"
	flagM2          = "m2"
	flagLambda      = "lambda"
	flagKappa       = "kappa"
	flagN           = "n"
	flagTherm       = "therm"
	flagTau         = "tau"
	flagMDSteps     = "md-steps"
	flagTauJitter   = "tau-jitter"
	flagStart       = "start"
	flagSeed        = "seed"
	flagChains      = "chains"
	flagChainOffset = "chain-offset"
	flagJSON        = "json"
	flagOut         = "out"
	flagSaveEvery   = "save-every"
	flagSaveFloat32 = "save-float32"
	flagTraceFile   = "trace-file"
	flagThreads     = "threads"
	flagPartRows    = "part-rows"
	flagMaxTime     = "max-time"
	flagMaxCPUTime  = "max-cpu-time"
	flagEval        = "eval"
	flagResume      = "resume"
	flagForce       = "force"
)

// Flag names of latflow sample.
const (
	flagModel      = "model"
	flagProposal   = "proposal"
	flagConstraint = "constraint"
	flagExact      = "exact"
	flagHMCEvery   = "hmc-every"
)

// Flag names of latflow train and latflow bench.
const (
	flagObjective       = "objective"
	flagGradient        = "gradient"
	flagSteps           = "steps"
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
	flagMaxSkips        = "max-skips"
	flagRepeat          = "repeat"
	flagBase            = "base"
	flagBaseBeta        = "base-beta"
	flagBaseMode        = "base-mode"
	flagLayerInit       = "layer-init"
	flagInit            = "init"
	flagAddLayers       = "add-layers"
	flagEvalEvery       = "eval-every"
	flagVariance        = "variance"
	flagSamples         = "samples"
)

// The phi4 flow levers of train (issue 18): the momentum-space Gaussian
// base's propagator, and Z2 symmetrization of the proposal.
const (
	flagBasePropagator = "base-propagator"
	flagZ2             = "z2"
	// --coupling affine|spline, with --spline-bins K and --spline-bound B for the
	// rational-quadratic spline coupling.
	flagCoupling    = "coupling"
	flagSplineBins  = "spline-bins"
	flagSplineBound = "spline-bound"
	// --zero-mode-bins K and --zero-mode-bound B: the phi^4 zero-mode
	// spline layer.
	flagZeroModeBins  = "zero-mode-bins"
	flagZeroModeBound = "zero-mode-bound"
	// --blocks B1,B2,...: phi^4 block couplings.
	flagBlocks   = "blocks"
	flagSpectral = "spectral"
)

// Theories known to latflow.
const (
	theoryU1        = ensemble.U1
	theoryPhi4      = ensemble.Phi4
	theorySchwinger = ensemble.Schwinger
)

// Bounds of flags that size a run.
const (
	maxChains  = 1024
	maxThreads = 1024
)

// flagSet records which flags were given on the command line, for the
// options whose meaning depends on it (a coupling of the other
// parametrization, leapfrog steps fixed or tuned).
type flagSet map[string]bool

// targetOptions are the flags that name the target ensemble: --theory,
// --L and the couplings.
type targetOptions struct {
	theory                  string
	L                       int
	beta, m2, lambda, kappa float64
	set                     flagSet
}

func (o *targetOptions) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagTheory, Value: theoryU1, Destination: &o.theory, Usage: "theory: u1, phi4 or schwinger (U(1) with two flavours of Wilson fermions)"},
		&cli.IntFlag{Name: flagL, Value: 16, Destination: &o.L, Usage: fmt.Sprintf("lattice extent L (u1: multiple of 4; phi4 and schwinger: even; 4 <= L <= 4096; schwinger in sample: L <= %d, the exact determinant)", fermion.MaxDenseL)},
		&cli.Float64Flag{Name: flagBeta, Value: 3.0, Destination: &o.beta, Usage: "u1 and schwinger: gauge coupling beta (0 < beta <= 1e6)"},
		&cli.Float64Flag{Name: flagM2, Value: -4, Destination: &o.m2, Usage: "phi4 standard parametrization: mass term m2 (finite)"},
		&cli.Float64Flag{Name: flagLambda, Value: 8, Destination: &o.lambda, Usage: "phi4: quartic coupling lambda >= 0 (at 0 the field is free and needs m2 > 0 or kappa < 0.25)"},
		&cli.Float64Flag{Name: flagKappa, Destination: &o.kappa, Usage: fmt.Sprintf("phi4 hopping parametrization: hopping parameter kappa >= 0 (use with --lambda); schwinger: Wilson hopping parameter, 0 < kappa <= %g (bare mass 1/(2 kappa) - 2; critical near 0.25 to 0.28)", ensemble.MaxSchwingerKappa)},
	}
}

// target validates the flags and returns the target they name, refusing an
// unknown theory, an L the theory's flow cannot take, couplings of the
// other theory, mixed phi^4 parametrizations and couplings out of range.
func (o *targetOptions) target() (ensemble.Target, error) {
	if err := ensemble.CheckTheory(o.theory); err != nil {
		return ensemble.Target{}, usagef("--%s must be %q, %q or %q, got %q", flagTheory, theoryU1, theoryPhi4, theorySchwinger, o.theory)
	}
	if err := checkL(o.theory, o.L); err != nil {
		return ensemble.Target{}, err
	}
	var t ensemble.Target
	switch o.theory {
	case theoryU1:
		for _, f := range []string{flagM2, flagLambda, flagKappa} {
			if o.set[f] {
				return t, usagef("--%s applies to --%s %s only, not to %s", f, flagTheory, theoryPhi4, theoryU1)
			}
		}
		if !(o.beta > 0) || o.beta > ensemble.MaxBeta {
			return t, usagef("--%s must be positive (0 < beta <= %g), got %g", flagBeta, ensemble.MaxBeta, o.beta)
		}
		t = ensemble.NewU1(o.L, o.beta)
	case theorySchwinger:
		for _, f := range []string{flagM2, flagLambda} {
			if o.set[f] {
				return t, usagef("--%s applies to --%s %s only, not to %s (which takes --%s and --%s)", f, flagTheory, theoryPhi4, theorySchwinger, flagBeta, flagKappa)
			}
		}
		if !(o.beta > 0) || o.beta > ensemble.MaxBeta {
			return t, usagef("--%s must be positive (0 < beta <= %g), got %g", flagBeta, ensemble.MaxBeta, o.beta)
		}
		if !o.set[flagKappa] {
			return t, usagef("--%s %s needs --%s (the Wilson hopping parameter, 0 < kappa <= %g)", flagTheory, theorySchwinger, flagKappa, ensemble.MaxSchwingerKappa)
		}
		if !(o.kappa > 0) || o.kappa > ensemble.MaxSchwingerKappa {
			return t, usagef("--%s must be in 0 < kappa <= %g for --%s %s (bare mass 1/(2 kappa) - 2 >= -1), got %g", flagKappa, ensemble.MaxSchwingerKappa, flagTheory, theorySchwinger, o.kappa)
		}
		t = ensemble.NewSchwinger(o.L, o.beta, o.kappa)
	default:
		if o.set[flagBeta] {
			return t, usagef("--%s applies to --%s %s only; phi4 takes --%s/--%s or --%s/--%s", flagBeta, flagTheory, theoryU1, flagM2, flagLambda, flagKappa, flagLambda)
		}
		if !(o.lambda >= 0) || o.lambda > ensemble.MaxCoupling {
			return t, usagef("--%s must be zero or positive and at most %g, got %g", flagLambda, ensemble.MaxCoupling, o.lambda)
		}
		if o.set[flagKappa] {
			if o.set[flagM2] {
				return t, usagef("--%s (hopping parametrization) and --%s (standard parametrization) cannot be mixed; give --%s with --%s, or --%s with --%s", flagKappa, flagM2, flagKappa, flagLambda, flagM2, flagLambda)
			}
			if !o.set[flagLambda] {
				return t, usagef("--%s needs --%s in the hopping parametrization (the default --%s belongs to the standard one)", flagKappa, flagLambda, flagLambda)
			}
			if !(o.kappa >= 0) || o.kappa > ensemble.MaxCoupling {
				return t, usagef("--%s must be zero or positive and at most %g, got %g", flagKappa, ensemble.MaxCoupling, o.kappa)
			}
			t = ensemble.NewPhi4Hopping(o.L, o.kappa, o.lambda)
		} else {
			if !(math.Abs(o.m2) <= ensemble.MaxCoupling) {
				return t, usagef("--%s must be finite with |m2| <= %g, got %g", flagM2, ensemble.MaxCoupling, o.m2)
			}
			t = ensemble.NewPhi4Standard(o.L, o.m2, o.lambda)
		}
	}
	if err := t.Validate(); err != nil {
		if errors.Is(err, ensemble.ErrUnboundedAction) {
			return t, o.unbounded(t)
		}
		return t, usagef("%v", err)
	}
	return t, nil
}

// unbounded is the error of phi^4 flags at --lambda 0 whose action is
// unbounded below (ensemble.ErrUnboundedAction), naming the flags.
func (o *targetOptions) unbounded(t ensemble.Target) error {
	flag, v, need := flagM2, o.m2, "--"+flagM2+" > 0"
	if phi4Param(t) == lattice.Hopping {
		flag, v, need = flagKappa, o.kappa, "--"+flagKappa+" < 0.25"
	}
	given := fmt.Sprintf("--%s %g", flag, v)
	if !o.set[flag] {
		given += " (the default)"
	}
	return usagef("--%s 0 with %s: the action is unbounded below (or flat) along the constant field, so there is no ensemble to sample; "+
		"at --%s 0 the field is free and needs %s; otherwise give a positive --%s", flagLambda, given, flagLambda, need, flagLambda)
}

func jsonFlag(dst *bool) cli.Flag {
	return &cli.BoolFlag{Name: flagJSON, Destination: dst, Usage: "print the results as JSON on stdout"}
}

// checkL validates the lattice extent for a theory: 4 <= L <= MaxL, a
// multiple of 4 for U(1) (the flow's stripe masks), even for phi^4
// (checkerboards) and the Schwinger model (even-odd preconditioning).
func checkL(theory string, L int) error {
	if L < ensemble.MinL || L > ensemble.MaxL {
		return usagef("--%s must be between %d and %d, got %d", flagL, ensemble.MinL, ensemble.MaxL, L)
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
	case theorySchwinger:
		if L%2 != 0 {
			return usagef("--%s must be even for --%s %s (even-odd preconditioning of the Dirac operator), got %d", flagL, flagTheory, theorySchwinger, L)
		}
	}
	return nil
}

// phi4Param returns the parametrization of a phi^4 target.
func phi4Param(t ensemble.Target) lattice.Parametrization {
	if t.Parametrization == lattice.Hopping.String() {
		return lattice.Hopping
	}
	return lattice.Standard
}
