package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/fermion"
	"latflow/flow"
	"latflow/flowtrain"
	"latflow/internal/atomicfile"
	"latflow/nn"
	"latflow/sampler"
	"latflow/telemetry"
)

// Files of a training run, derived from --out.
const (
	checkpointSuffix = ".ckpt"      // OUT.ckpt
	trainLogSuffix   = ".log.arrow" // OUT.log.arrow
)

// Precisions accepted by --precision.
const (
	precisionFloat64 = "float64"
	precisionFloat32 = "float32"
)

// trainSpanSteps is the number of training steps per "steps" span;
// freshSamples the fresh samples of an ess_fresh measurement every
// defaultEvalEvery steps.
const (
	trainSpanSteps   = 100
	freshSamples     = 4096
	defaultEvalEvery = 500
)

// freshSeedOffset separates the seed of the ess_fresh samples from the
// training's.
const freshSeedOffset = 0x5eed

// growSeedOffset is the second word of the PCG stream that draws the
// layers of --add-layers; the block couplings of --blocks with --init draw
// from growSeedOffset+1.
const growSeedOffset = 0x960

// Bounds of the training flags that size a run.
const (
	maxTrainBatch = 1 << 16
	maxLayers     = 1024
	maxMixtures   = 64
	maxChannels   = 1024
	maxEval       = 1 << 26
)

// The defaults of latflow train for U(1) are the recipe of the shipped
// model u1-L16-beta3 (models/, README "Training"). With flow.DefaultConfig's
// 24 layers and 6 mixtures and lr 1e-3, the earlier defaults, one step on
// the plaquette base at L=16, beta=3 took the acceptance on 100000
// proposals from the base's 0.990 to 0.599 (8 layers, 2 mixtures at lr
// 1e-3: 0.854; this recipe: 0.982). phi^4 keeps flow.DefaultConfig and lr 1e-3,
// the shipped phi^4 model's.
const (
	u1DefaultLayers   = 8
	u1DefaultMixtures = 2
	u1DefaultLR       = 1e-4
	phi4DefaultLR     = 1e-3
)

// archOptions are the flow architecture flags; unset ones take
// flow.DefaultConfig, with the U(1) recipe's layers and mixtures.
type archOptions struct {
	layers, mixtures, kernel  int
	hidden, precision         string
	base, baseMode, layerInit string
	baseBeta                  float64
	// phi4 levers: --base-propagator DIR, --z2.
	basePropagator string
	z2             bool
	// --coupling, --spline-bins, --spline-bound.
	coupling    string
	bins        int
	splineBound float64
	// --zero-mode-bins, --zero-mode-bound.
	zeroModeBins  int
	zeroModeBound float64
	// --blocks.
	blocks string
	// spectral is --spectral: nodes per pi of a spectral layer (0: none).
	spectral int
	set      flagSet
}

func (o *archOptions) flags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: flagLayers, Destination: &o.layers, DefaultText: fmt.Sprintf("%d for u1 (the shipped model's), 16 for phi4", u1DefaultLayers),
			Usage: fmt.Sprintf("coupling layers (1 to %d)", maxLayers)},
		&cli.IntFlag{Name: flagMixtures, Destination: &o.mixtures, DefaultText: fmt.Sprintf("%d, the shipped model's", u1DefaultMixtures),
			Usage: fmt.Sprintf("u1: non-compact projections mixed per coupling (1 to %d)", maxMixtures)},
		&cli.StringFlag{Name: flagHidden, Value: "8,8", Destination: &o.hidden, Usage: "hidden channels of each conditioner CNN, comma-separated (\"\": none)"},
		&cli.IntFlag{Name: flagKernel, Value: 3, Destination: &o.kernel, Usage: "odd convolution kernel size, at most L"},
		&cli.StringFlag{Name: flagPrecision, Value: precisionFloat32, Destination: &o.precision, Usage: "flow arithmetic: float32 (about twice as fast, the same ESS at equal steps) or float64 (parameters and Adam are kept in float64)"},
		&cli.StringFlag{Name: flagBase, Usage: "base distribution: u1: uniform or plaquettes (independent plaquettes, see latflow sample --proposal plaquettes); phi4: normal or gauss-k (a Gaussian diagonal in momentum space with the propagator of --base-propagator) (default: plaquettes for u1, normal for phi4)", Destination: &o.base},
		&cli.Float64Flag{Name: flagBaseBeta, Destination: &o.baseBeta, DefaultText: "the target's --beta",
			Usage: fmt.Sprintf("with --base plaquettes: the beta of the base (0 < base-beta <= %g)", ensemble.MaxBeta)},
		&cli.StringFlag{Name: flagBaseMode, Destination: &o.baseMode, Usage: "with --base plaquettes: how the plaquettes meet sum P = 0 mod 2pi, random (one plaquette fixed by it, chosen for each sample), fixed (always the last) or spread (the default: all drawn, each shifted by the same amount; the highest acceptance)"},
		&cli.StringFlag{Name: flagBasePropagator, Destination: &o.basePropagator, Usage: "with --base gauss-k: dataset `DIR` written by latflow hmc --save-every K --out DIR at the flow's L; the base's G(k) = <|phi_k|^2> is measured on its configurations and stored in the model"},
		&cli.BoolFlag{Name: flagZ2, Destination: &o.z2, Usage: "phi4: propose from the Z2-symmetrized flow (q(phi) + q(-phi))/2 (sampling and evaluation; training trains q); with --init it sets this for the model trained on, the one flow flag --init allows"},
		&cli.StringFlag{Name: flagCoupling, Value: flow.CouplingAffine, Destination: &o.coupling,
			Usage: "phi4: coupling layers, affine (RealNVP, y = x exp(s) + t) or spline (monotone rational-quadratic spline, Durkan et al. 2019, with --spline-bins and --spline-bound)"},
		&cli.IntFlag{Name: flagSplineBins, Value: defaultSplineBins, Destination: &o.bins,
			Usage: fmt.Sprintf("with --coupling spline: bins of each spline (%d to %d)", flow.MinSplineBins, flow.MaxSplineBins)},
		&cli.Float64Flag{Name: flagSplineBound, Value: defaultSplineBound, Destination: &o.splineBound,
			Usage: fmt.Sprintf("with --coupling spline: the spline acts on [-B, B], the identity outside (0 < B <= %g)", float64(flow.MaxSplineBound))},
		&cli.IntFlag{Name: flagZeroModeBins, Destination: &o.zeroModeBins,
			Usage: fmt.Sprintf("phi4: append a layer that reshapes the magnetization m (the field's mean, a spline f with K bins; y = x + f(m) - m), K from %d to %d, 0 for none; with --init it adds the layer, as the identity, to a model without one", flow.MinSplineBins, flow.MaxSplineBins)},
		&cli.Float64Flag{Name: flagZeroModeBound, Value: defaultZeroModeBound, Destination: &o.zeroModeBound,
			Usage: fmt.Sprintf("with --zero-mode-bins: the spline of m acts on [-B, B], the identity outside (0 < B <= %g)", float64(flow.MaxSplineBound))},
		&cli.StringFlag{Name: flagBlocks, Destination: &o.blocks,
			Usage: "phi4: after the couplings, one block coupling per entry, a comma-separated list of block sizes `B1,B2,...` such as 4,4,2,2: a coupling layer (of --coupling, --hidden, --kernel) of the lattice of the BxB block averages, which moves them and keeps the fluctuations within each block; L/B must be even and at least --kernel. With --init they are added after the model's own block couplings, as the identity"},
		&cli.IntFlag{Name: flagSpectral, Destination: &o.spectral,
			Usage: fmt.Sprintf("phi4: after the block couplings, a linear layer that scales each momentum mode phi_k by exp(theta(k)), theta bilinear between nodes pi/N apart over the Brillouin zone (N from 1 to %d, 0 for none; the same parameters at every L). With --init it adds the layer, as the identity, to a model without one, or refines the model's own to N nodes (a multiple of its count; the same map)", flow.MaxSpectralNodes)},
		&cli.StringFlag{Name: flagLayerInit, Destination: &o.layerInit, Usage: "coupling layers start as random (the PyTorch initialization) or identity (the flow starts as its base; the default with --base plaquettes)"},
	}
}

// config returns the flow architecture for the target and the precision.
func (o *archOptions) config(t ensemble.Target) (flow.Config, string, error) {
	// The Schwinger model trains the U(1) flow (stripe masks: L a multiple
	// of 4) against the exact determinant (a dense LU: L <= MaxDenseL).
	if t.Theory == theorySchwinger && (t.L%4 != 0 || t.L > fermion.MaxDenseL) {
		return flow.Config{}, "", usagef("--%s must be a multiple of 4 and at most %d for train --%s %s (the U(1) flow's stripe masks, the exact determinant's dense LU), got %d",
			flagL, fermion.MaxDenseL, flagTheory, theorySchwinger, t.L)
	}
	cfg := flow.DefaultConfig(flow.TheoryFor(t.Theory), t.L)
	if t.Gauge() {
		cfg.Layers, cfg.Mixtures = u1DefaultLayers, u1DefaultMixtures
	}
	if o.set[flagLayers] {
		cfg.Layers = o.layers
		if cfg.Layers < 1 || cfg.Layers > maxLayers {
			return cfg, "", usagef("--%s must be between 1 and %d, got %d", flagLayers, maxLayers, cfg.Layers)
		}
	}
	if o.set[flagMixtures] {
		if !t.Gauge() {
			return cfg, "", usagef("--%s applies to --%s %s or %s only", flagMixtures, flagTheory, theoryU1, theorySchwinger)
		}
		cfg.Mixtures = o.mixtures
		if cfg.Mixtures < 1 || cfg.Mixtures > maxMixtures {
			return cfg, "", usagef("--%s must be between 1 and %d, got %d", flagMixtures, maxMixtures, cfg.Mixtures)
		}
	}
	hidden, err := parseHidden(o.hidden)
	if err != nil {
		return cfg, "", err
	}
	cfg.Hidden = hidden
	cfg.Kernel = o.kernel
	if cfg.Kernel < 1 || cfg.Kernel%2 == 0 || cfg.Kernel > t.L {
		return cfg, "", usagef("--%s must be odd with 1 <= kernel <= L=%d, got %d", flagKernel, t.L, cfg.Kernel)
	}
	// U(1) flows start from the independent-plaquette base, as identity
	// maps of it, unless told otherwise: at equal training time it wins by
	// orders of magnitude (README, "Training").
	base, layerInit := o.base, o.layerInit
	if !o.set[flagBase] && t.Gauge() {
		base = flow.BasePlaquettes
	}
	if !o.set[flagLayerInit] && base == flow.BasePlaquettes {
		layerInit = flow.InitIdentity
	}
	switch {
	case o.set[flagBaseBeta] && base != flow.BasePlaquettes:
		return cfg, "", usagef("--%s applies to --%s %s only", flagBaseBeta, flagBase, flow.BasePlaquettes)
	case o.set[flagBaseMode] && base != flow.BasePlaquettes:
		return cfg, "", usagef("--%s applies to --%s %s only", flagBaseMode, flagBase, flow.BasePlaquettes)
	case base == flow.BasePlaquettes && !t.Gauge():
		return cfg, "", usagef("--%s %s is a base for --%s %s or %s only", flagBase, flow.BasePlaquettes, flagTheory, theoryU1, theorySchwinger)
	}
	if err := o.phi4Levers(&cfg, t, base); err != nil {
		return cfg, "", err
	}
	cfg.Base, cfg.BaseMode, cfg.Init = base, o.baseMode, layerInit
	if base == flow.BasePlaquettes {
		if !o.set[flagBaseMode] {
			cfg.BaseMode = flow.BaseModeSpread
		}
		cfg.BaseBeta = t.Couplings[ensemble.Beta]
		if o.set[flagBaseBeta] {
			// Bounded like --beta: beyond MaxBeta exp(beta cos P) leaves
			// float64 and every training step is skipped.
			if !(o.baseBeta > 0) || o.baseBeta > ensemble.MaxBeta {
				return cfg, "", usagef("--%s must be positive (0 < base-beta <= %g), got %g", flagBaseBeta, ensemble.MaxBeta, o.baseBeta)
			}
			cfg.BaseBeta = o.baseBeta
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", usagef("flow architecture: %v", err)
	}
	if o.precision != precisionFloat64 && o.precision != precisionFloat32 {
		return cfg, "", usagef("--%s must be %s or %s, got %q", flagPrecision, precisionFloat64, precisionFloat32, o.precision)
	}
	return cfg, o.precision, nil
}

// phi4Levers sets the phi4 flow levers of cfg: --z2 and, for --base
// gauss-k, the propagator measured on the --base-propagator dataset.
func (o *archOptions) phi4Levers(cfg *flow.Config, t ensemble.Target, base string) error {
	switch {
	case o.z2 && t.Theory != theoryPhi4:
		return usagef("--%s applies to --%s %s only", flagZ2, flagTheory, theoryPhi4)
	case base == flow.BaseGaussK && t.Theory != theoryPhi4:
		return usagef("--%s %s is a base for --%s %s only", flagBase, flow.BaseGaussK, flagTheory, theoryPhi4)
	case o.set[flagBasePropagator] && base != flow.BaseGaussK && !o.set[flagInit]: // with --init: checked against the model
		return usagef("--%s applies to --%s %s only", flagBasePropagator, flagBase, flow.BaseGaussK)
	case base == flow.BaseGaussK && o.basePropagator == "":
		return usagef("--%s %s needs --%s DIR, a dataset written by latflow hmc --%s K --%s DIR at --%s %d",
			flagBase, flow.BaseGaussK, flagBasePropagator, flagSaveEvery, flagOut, flagL, t.L)
	}
	cfg.Z2 = o.z2
	if err := o.setCoupling(cfg, t); err != nil {
		return err
	}
	if err := o.setZeroMode(cfg, t); err != nil {
		return err
	}
	blocks, err := o.parseBlocks(t)
	if err != nil {
		return err
	}
	cfg.Blocks = blocks
	if cfg.Spectral, err = o.parseSpectral(t); err != nil {
		return err
	}
	if base != flow.BaseGaussK {
		return nil
	}
	G, err := o.measurePropagator(t)
	if err != nil {
		return err
	}
	cfg.BasePropagator = G
	return nil
}

// measurePropagator returns G(k) = <|phi_k|^2> measured on the
// configurations of the --base-propagator dataset, which must hold t's
// theory at t's L.
func (o *archOptions) measurePropagator(t ensemble.Target) ([]float64, error) {
	ds, err := dataset.OpenWith(dataset.OpenOptions{Configs: true}, o.basePropagator)
	if err != nil {
		return nil, usagef("--%s: %v", flagBasePropagator, err)
	}
	if m := ds.Meta; m.Theory != t.Theory || m.L != t.L {
		return nil, usagef("--%s %s holds %s at L=%d, want %s at --%s %d", flagBasePropagator, o.basePropagator, m.Theory, m.L, t.Theory, flagL, t.L)
	}
	configs := make([]float64, 0, len(ds.Configs())*t.L*t.L)
	for _, c := range ds.Configs() {
		configs = append(configs, c...)
	}
	G := make([]float64, t.L*t.L)
	if err := flow.MeasurePropagator(G, t.L, configs); err != nil {
		return nil, usagef("--%s %s: %v (write configurations with latflow hmc --%s K)", flagBasePropagator, o.basePropagator, err, flagSaveEvery)
	}
	return G, nil
}

// The defaults of --spline-bins, --spline-bound and --zero-mode-bound.
const (
	defaultSplineBins    = 8
	defaultSplineBound   = 5
	defaultZeroModeBound = 2
)

// setZeroMode sets the zero-mode layer of cfg from --zero-mode-bins and
// --zero-mode-bound.
func (o *archOptions) setZeroMode(cfg *flow.Config, t ensemble.Target) error {
	if !o.set[flagZeroModeBins] || o.zeroModeBins == 0 {
		if o.set[flagZeroModeBound] {
			return usagef("--%s applies with --%s K only", flagZeroModeBound, flagZeroModeBins)
		}
		return nil
	}
	if t.Theory != theoryPhi4 {
		return usagef("--%s applies to --%s %s only", flagZeroModeBins, flagTheory, theoryPhi4)
	}
	if o.zeroModeBins < flow.MinSplineBins || o.zeroModeBins > flow.MaxSplineBins {
		return usagef("--%s must be 0 (none) or between %d and %d, got %d", flagZeroModeBins, flow.MinSplineBins, flow.MaxSplineBins, o.zeroModeBins)
	}
	if !(o.zeroModeBound > 0) || o.zeroModeBound > flow.MaxSplineBound {
		return usagef("--%s must be positive and at most %g (0 < B <= %g), got %g", flagZeroModeBound, float64(flow.MaxSplineBound), float64(flow.MaxSplineBound), o.zeroModeBound)
	}
	cfg.ZeroModeBins, cfg.ZeroModeBound = o.zeroModeBins, o.zeroModeBound
	return nil
}

// parseSpectral checks --spectral N for the target t.
func (o *archOptions) parseSpectral(t ensemble.Target) (int, error) {
	if !o.set[flagSpectral] || o.spectral == 0 {
		return 0, nil
	}
	if t.Theory != theoryPhi4 {
		return 0, usagef("--%s applies to --%s %s only", flagSpectral, flagTheory, theoryPhi4)
	}
	if o.spectral < 1 || o.spectral > flow.MaxSpectralNodes {
		return 0, usagef("--%s must be 0 (none) or between 1 and %d nodes per pi, got %d", flagSpectral, flow.MaxSpectralNodes, o.spectral)
	}
	return o.spectral, nil
}

// setCoupling sets the coupling of cfg from --coupling, --spline-bins and
// --spline-bound.
func (o *archOptions) setCoupling(cfg *flow.Config, t ensemble.Target) error {
	switch o.coupling {
	case "", flow.CouplingAffine: // "": an archOptions not filled by the flags
		if o.set[flagSplineBins] || o.set[flagSplineBound] {
			return usagef("--%s and --%s apply to --%s %s only", flagSplineBins, flagSplineBound, flagCoupling, flow.CouplingSpline)
		}
		return nil
	case flow.CouplingSpline:
	default:
		return usagef("--%s must be %s or %s, got %q", flagCoupling, flow.CouplingAffine, flow.CouplingSpline, o.coupling)
	}
	if t.Theory != theoryPhi4 {
		return usagef("--%s %s applies to --%s %s only", flagCoupling, flow.CouplingSpline, flagTheory, theoryPhi4)
	}
	if o.bins < flow.MinSplineBins || o.bins > flow.MaxSplineBins {
		return usagef("--%s must be between %d and %d, got %d", flagSplineBins, flow.MinSplineBins, flow.MaxSplineBins, o.bins)
	}
	if !(o.splineBound > 0) || o.splineBound > flow.MaxSplineBound {
		return usagef("--%s must be positive and at most %g (0 < B <= %g), got %g", flagSplineBound, float64(flow.MaxSplineBound), float64(flow.MaxSplineBound), o.splineBound)
	}
	cfg.Coupling, cfg.Bins, cfg.SplineBound = flow.CouplingSpline, o.bins, o.splineBound
	return nil
}

// parseBlocks parses --blocks "4,2" (empty: no block couplings) for the
// target t; Config.Validate checks each size against L.
func (o *archOptions) parseBlocks(t ensemble.Target) ([]int, error) {
	s := strings.TrimSpace(o.blocks)
	if s == "" {
		if o.set[flagBlocks] {
			return nil, usagef("--%s must be comma-separated block sizes such as 4,2, got %q", flagBlocks, o.blocks)
		}
		return nil, nil
	}
	if t.Theory != theoryPhi4 {
		return nil, usagef("--%s applies to --%s %s only", flagBlocks, flagTheory, theoryPhi4)
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || b < 2 || t.L%b != 0 || (t.L/b)%2 != 0 {
			return nil, usagef("--%s must be comma-separated block sizes B >= 2 with L/B even (L=%d), got %q", flagBlocks, t.L, o.blocks)
		}
		out = append(out, b)
	}
	if len(out) > maxLayers {
		return nil, usagef("--%s: at most %d block couplings, got %d", flagBlocks, maxLayers, len(out))
	}
	return out, nil
}

// parseHidden parses --hidden "8,8" (empty: no hidden layer).
func parseHidden(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxChannels {
			return nil, usagef("--%s must be comma-separated channel counts between 1 and %d such as 8,8, got %q", flagHidden, maxChannels, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// trainOptions are the flags of latflow train.
type trainOptions struct {
	target                        targetOptions
	arch                          archOptions
	objective, gradient, schedule string
	steps, batch, every, maxSkips int
	threads, eval                 int
	lr, clip                      float64
	data                          cli.StringSlice
	out, traceFile                string
	resume, force, json           bool
	seed                          uint64
	maxTime                       time.Duration
	maxCPUTime                    time.Duration
	initModel                     string
	addLayers                     int
	evalEvery                     int
	command                       string // the command line, for the model's provenance
	set                           flagSet
}

func trainCommand() *cli.Command {
	o := &trainOptions{}
	return &cli.Command{
		Name:      "train",
		UsageText: trainUsage,
		Usage:     "train a normalizing flow for U(1) gauge theory, the Schwinger model (a U(1) flow) or phi^4 theory",
		Description: "Trains the gauge-equivariant flow (u1) or the RealNVP flow (phi4) by Adam on the reverse KL\n" +
			"(samples from the flow) or the forward KL (configurations of an HMC dataset, --data), with the\n" +
			"standard, drop-in path or fast path gradient, and saves the model to --out.\n\n" +
			"Files: --out OUT is the model; OUT.ckpt is the checkpoint, written every --checkpoint-every\n" +
			"steps and on SIGINT/SIGTERM (a finished run keeps the one of the last multiple); OUT.log.arrow\n" +
			"is the training log (Arrow IPC: step, loss, grad_norm, ess, std_logw, lr, wall_seconds,\n" +
			"skipped, ess_fresh, acc_fresh, cpu_seconds), rewritten whole with each checkpoint and at the\n" +
			"end; cpu_seconds is the process's CPU time (user + system), which with --threads 1 on a\n" +
			"loaded machine is the time on one core, where wall_seconds counts the other processes too. A run in which no\n" +
			"step updated the parameters (all skipped, or stopped before) writes none of them and exits 1\n" +
			"(3 if interrupted). An existing OUT, OUT.ckpt or OUT.log.arrow is not overwritten unless\n" +
			"--force (which starts afresh) or --resume (which continues from OUT.ckpt and needs the same\n" +
			"parameters; --threads, --checkpoint-every and --max-skips may change). While a run works it\n" +
			"holds the lock OUT.lock: a second run with the same --out refuses. A run removes the\n" +
			"temporary files (.OUT.tmpN) that an earlier run of OUT left behind when killed while writing.\n\n" +
			"Bit for bit: the same flags and --seed, or a run resumed any number of times, give a model\n" +
			"with the same architecture and parameters bit for bit. Its provenance also records the date,\n" +
			"the wall and CPU times (wall_seconds, total_wall_seconds, total_cpu_seconds) and the\n" +
			"evaluation's samples per second, which differ from run to run (as do the log's wall_seconds\n" +
			"and cpu_seconds columns), and the command line (of a resumed run: the --resume one).\n\n" +
			"Defaults: for u1 they are the recipe of the shipped model u1-L16-beta3 (8 layers, 2 mixtures,\n" +
			"hidden 8,8, the plaquette base with identity layers, float32, batch 64, lr 1e-4, seed 1) but\n" +
			"for --steps: it took 6000 steps (198 s on one core), the default 1000 is a quicker start.\n" +
			"One step of this recipe at L=16, beta=3 keeps the acceptance near the plaquette base's (0.982,\n" +
			"the base 0.990, on 100000 proposals); at lr 1e-3 it falls to 0.854, and to 0.599 with 24\n" +
			"layers and 6 mixtures. For phi4 the defaults are a quicker start than the shipped model's\n" +
			"--hidden 16,16 --batch 128 --schedule cosine --steps 45000 (48 minutes). latflow models\n" +
			"prints each shipped model's command.\n\n" +
			"The per-batch ESS of the log and the progress line is optimistic: with heavy-tailed weights a\n" +
			"batch rarely holds the rare large weights. --eval N measures ESS and independence-Metropolis\n" +
			"acceptance on N fresh samples, which is what latflow sample will see; --eval-every K writes\n" +
			"the ESS of 4096 fresh samples into the log's ess_fresh column every K steps, and into\n" +
			"acc_fresh the acceptance of an independence-Metropolis chain run over the same samples in\n" +
			"the order drawn.\n\n" +
			"--init FILE starts from a trained model's parameters (architecture and base included), e.g.\n" +
			"a flow trained at a smaller L or another beta; the model's provenance keeps both runs, and\n" +
			"its total_wall_seconds and total_cpu_seconds add FILE's totals to this run's training time\n" +
			"(a chain of transfers adds up; a model without them contributes its wall_seconds).\n\n" +
			"A step whose loss or gradient is not finite is skipped (reported on stderr, counted in the\n" +
			"log); --max-skips in a row stop the run and keep the last checkpoint. The forward objective\n" +
			"draws each batch uniformly at random, with replacement, from all saved configurations.\n" +
			"The flow is initialized from the PCG stream (--seed, 0) and trained with (--seed, 1).",
		Flags: append(append(o.target.flags(), o.arch.flags()...),
			&cli.StringFlag{Name: flagObjective, Value: flowtrain.Reverse.String(), Destination: &o.objective, Usage: "KL direction: reverse (samples from the flow) or forward (samples from --data)"},
			&cli.StringFlag{Name: flagGradient, Value: flowtrain.FastPath.String(), Destination: &o.gradient, Usage: "gradient estimator: standard, dropin-path or fast-path"},
			&cli.IntFlag{Name: flagSteps, Value: 1000, Destination: &o.steps, Usage: "training steps (> 0)"},
			&cli.IntFlag{Name: flagBatch, Value: 64, Destination: &o.batch, Usage: fmt.Sprintf("samples per step (1 to %d)", maxTrainBatch)},
			&cli.Float64Flag{Name: flagLR, Destination: &o.lr, DefaultText: fmt.Sprintf("%g for u1, %g for phi4: the shipped models'", u1DefaultLR, phi4DefaultLR),
				Usage: "Adam learning rate (> 0)"},
			&cli.StringFlag{Name: flagSchedule, Value: "constant", Destination: &o.schedule, Usage: "learning-rate schedule: " + flowtrain.ScheduleNames},
			&cli.Float64Flag{Name: flagClip, Destination: &o.clip, Usage: "clip the gradient norm to this value (0: no clipping)"},
			&cli.StringSliceFlag{Name: flagData, Destination: &o.data, Usage: "forward objective: dataset `DIR` written by latflow hmc --save-every K --out DIR (repeatable)"},
			&cli.StringFlag{Name: flagOut, Destination: &o.out, Usage: "model file to write (required); the checkpoint and the log are named after it"},
			&cli.IntFlag{Name: flagCheckpointEvery, Value: 100, Destination: &o.every, Usage: "write the checkpoint every K steps (0: only on interrupt)"},
			&cli.BoolFlag{Name: flagResume, Destination: &o.resume, Usage: "continue from the checkpoint OUT.ckpt"},
			&cli.BoolFlag{Name: flagForce, Destination: &o.force, Usage: "overwrite an existing model, checkpoint, log and --trace-file and start afresh"},
			&cli.IntFlag{Name: flagMaxSkips, Value: flowtrain.DefaultMaxSkips, Destination: &o.maxSkips, Usage: "skipped (non-finite) steps in a row that stop the run (>= 1)"},
			&cli.Uint64Flag{Name: flagSeed, Value: 1, Destination: &o.seed, Usage: "random seed; the same seed and flags give the same parameters bit for bit (the provenance's date and timings differ)"},
			&cli.IntFlag{Name: flagThreads, Destination: &o.threads, Usage: "worker goroutines (0: GOMAXPROCS); results do not depend on it"},
			&cli.StringFlag{Name: flagTraceFile, Destination: &o.traceFile, Usage: "write OpenTelemetry spans to `FILE` as OTLP JSON lines (the Collector's otlpjsonfile format), which must not exist unless --force (OTLP/HTTP: set OTEL_EXPORTER_OTLP_ENDPOINT)"},
			&cli.DurationFlag{Name: flagMaxTime, Destination: &o.maxTime, Usage: "stop training normally after this wall time (e.g. 10m; 0: no limit); the model records the steps done"},
			&cli.DurationFlag{Name: flagMaxCPUTime, Destination: &o.maxCPUTime, Usage: "stop training normally once the training's CPU time (the log's cpu_seconds, summed over --resume) reaches this (e.g. 3m; 0: no limit); with --threads 1 the same budget on one core for runs compared on a shared machine"},
			&cli.StringFlag{Name: flagInit, Destination: &o.initModel, Usage: "start from the parameters of model `FILE` (its architecture and base; a flow trained at another L or beta transfers), recorded in the provenance"},
			&cli.IntFlag{Name: flagAddLayers, Destination: &o.addLayers, Usage: "with --init: add N coupling layers after the model's own (before a zero-mode layer), started as the identity, so training goes on from the model's distribution with more capacity"},
			&cli.IntFlag{Name: flagEvalEvery, Value: defaultEvalEvery, Destination: &o.evalEvery, Usage: fmt.Sprintf("every K steps, measure the ESS and independence-Metropolis acceptance of %d fresh flow samples into the log's ess_fresh and acc_fresh columns (0: never); the per-batch ess is optimistic", freshSamples)},
			&cli.IntFlag{Name: flagEval, Destination: &o.eval, Usage: fmt.Sprintf("after training, draw N fresh samples from the flow and report ESS and independence-Metropolis acceptance (0: none; at most %d)", maxEval)},
			jsonFlag(&o.json),
		),
		Action: func(c *cli.Context) (err error) {
			if o.set, err = parsed(c, false); err != nil {
				return err
			}
			o.target.set, o.arch.set = o.set, o.set
			o.command = commandLine(c)
			return runTrain(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// trainConfig is a validated train run.
type trainConfig struct {
	target    ensemble.Target
	init      *loadedModel // --init, or nil
	run       flowtrain.RunParams
	obj       flowtrain.Objective
	grad      flowtrain.GradientType
	workers   int
	out       string // the model, --out
	ckpt      string
	logPath   string
	data      [][]float64
	estimator string // "reverse fast-path"
}

// parseTrain validates the flags of latflow train (not yet the files).
func parseTrain(o *trainOptions) (*trainConfig, error) {
	t, err := o.target.target()
	if err != nil {
		return nil, err
	}
	arch, prec, err := o.arch.config(t)
	if err != nil {
		return nil, err
	}
	var init *loadedModel
	if o.set[flagAddLayers] && o.initModel == "" {
		return nil, usagef("--%s applies with --%s only (a new flow takes --%s)", flagAddLayers, flagInit, flagLayers)
	}
	if o.initModel != "" {
		// --z2 is not architecture (training trains q either way): it may
		// turn the symmetrized proposal on or off for the model trained on.
		// --base-propagator gives a gauss-k base the propagator of
		// the new L (or a new measurement at the same L).
		for _, f := range []string{flagLayers, flagMixtures, flagHidden, flagKernel, flagBase, flagBaseBeta, flagBaseMode, flagLayerInit, flagCoupling, flagSplineBins, flagSplineBound} {
			if o.set[f] {
				return nil, usagef("--%s and --%s exclude each other: the architecture comes from the model", f, flagInit)
			}
		}
		if init, err = loadModel(o.initModel, flow.TheoryFor(t.Theory), flagInit); err != nil {
			return nil, err
		}
		if flow.TheoryFor(init.Target.Theory) != flow.TheoryFor(t.Theory) {
			return nil, usagef("--%s %s is a flow for --%s %s, this run has --%s %s", flagInit, o.initModel, flagTheory, init.Target.Theory, flagTheory, t.Theory)
		}
		arch = init.Config
		arch.L = t.L
		if o.set[flagAddLayers] {
			if err := o.grow(init, &arch); err != nil {
				return nil, err
			}
		}
		if o.set[flagZ2] {
			if o.arch.z2 && t.Theory != theoryPhi4 {
				return nil, usagef("--%s applies to --%s %s only", flagZ2, flagTheory, theoryPhi4)
			}
			arch.Z2 = o.arch.z2
			init.Model.Config.Z2 = arch.Z2 // the flow is built from it
		}
		if o.set[flagZeroModeBins] || o.set[flagZeroModeBound] {
			if err := o.addZeroMode(init, &arch, t); err != nil {
				return nil, err
			}
		}
		if o.set[flagBasePropagator] {
			if arch.BaseName() != flow.BaseGaussK {
				return nil, usagef("--%s with --%s replaces the propagator of a model on the %s base; %s has the %s base",
					flagBasePropagator, flagInit, flow.BaseGaussK, o.initModel, arch.BaseName())
			}
			G, err := o.arch.measurePropagator(t)
			if err != nil {
				return nil, err
			}
			arch.BasePropagator = G
			init.Model.Config.BasePropagator = G
		}
		if err := arch.Validate(); err != nil {
			hint := ""
			if arch.BaseName() == flow.BaseGaussK && init.Config.L != t.L {
				hint = fmt.Sprintf(" (give its %s base the propagator of L=%d with --%s DIR)", flow.BaseGaussK, t.L, flagBasePropagator)
			}
			return nil, usagef("--%s %s cannot serve --%s %d: %v%s", flagInit, o.initModel, flagL, t.L, err, hint)
		}
		if o.set[flagBlocks] {
			if err := o.growBlocks(init, &arch, t); err != nil {
				return nil, err
			}
		}
		if o.set[flagSpectral] {
			if err := o.addSpectral(init, &arch, t); err != nil {
				return nil, err
			}
		}
	}
	obj, err := flowtrain.ParseObjective(o.objective)
	if err != nil {
		return nil, usagef("--%s must be reverse or forward, got %q", flagObjective, o.objective)
	}
	grad, err := flowtrain.ParseGradient(o.gradient)
	if err != nil {
		return nil, usagef("--%s must be standard, dropin-path or fast-path, got %q", flagGradient, o.gradient)
	}
	lr := o.lr
	if !o.set[flagLR] {
		lr = phi4DefaultLR
		if t.Gauge() {
			lr = u1DefaultLR
		}
	}
	dataDirs := o.data.Value()
	switch {
	case o.steps < 1:
		return nil, usagef("--%s must be positive, got %d", flagSteps, o.steps)
	case o.batch < 1 || o.batch > maxTrainBatch:
		return nil, usagef("--%s must be between 1 and %d, got %d", flagBatch, maxTrainBatch, o.batch)
	case !(lr > 0) || math.IsInf(lr, 1):
		return nil, usagef("--%s must be positive and finite, got %g", flagLR, lr)
	case !(o.clip >= 0) || math.IsInf(o.clip, 1):
		return nil, usagef("--%s must be zero (no clipping) or positive, got %g", flagClip, o.clip)
	case o.maxTime < 0:
		return nil, usagef("--%s must be zero (no limit) or positive, got %v", flagMaxTime, o.maxTime)
	case o.maxCPUTime < 0:
		return nil, usagef("--%s must be zero (no limit) or positive, got %v", flagMaxCPUTime, o.maxCPUTime)
	case o.eval < 0 || o.eval > maxEval:
		return nil, usagef("--%s must be zero (none) or between 1 and %d, got %d", flagEval, maxEval, o.eval)
	case o.threads < 0 || o.threads > maxThreads:
		return nil, usagef("--%s must be between 0 (GOMAXPROCS) and %d, got %d", flagThreads, maxThreads, o.threads)
	case o.every < 0:
		return nil, usagef("--%s must be zero (only on interrupt) or positive, got %d", flagCheckpointEvery, o.every)
	case o.evalEvery < 0:
		return nil, usagef("--%s must be zero (never) or positive, got %d", flagEvalEvery, o.evalEvery)
	case o.maxSkips < 1:
		return nil, usagef("--%s must be at least 1, got %d", flagMaxSkips, o.maxSkips)
	case obj == flowtrain.Forward && len(dataDirs) == 0:
		return nil, usagef("--%s forward needs --%s DIR (a dataset written by latflow hmc --save-every K --out DIR)", flagObjective, flagData)
	case obj == flowtrain.Reverse && len(dataDirs) > 0:
		return nil, usagef("--%s is used by --%s forward only; the reverse objective samples from the flow", flagData, flagObjective)
	case o.out == "":
		return nil, usagef("--%s FILE is required (the model file to write)", flagOut)
	case o.resume && o.force:
		return nil, usagef("--%s and --%s exclude each other: --%s continues the run, --%s starts afresh", flagResume, flagForce, flagResume, flagForce)
	}
	if err := checkMemory(trainMemory(arch, prec, o.batch, o.eval)); err != nil {
		return nil, err
	}
	if _, err := flowtrain.ParseSchedule(o.schedule, lr, o.steps); err != nil {
		return nil, usagef("--%s must be one of %s, got %q", flagSchedule, flowtrain.ScheduleNames, o.schedule)
	}
	cfg := &trainConfig{
		target: t, init: init, obj: obj, grad: grad, workers: o.threads,
		out: o.out, ckpt: o.out + checkpointSuffix, logPath: o.out + trainLogSuffix,
		estimator: obj.String() + " " + grad.String(),
	}
	if cfg.workers == 0 {
		cfg.workers = runtime.GOMAXPROCS(0)
	}
	cfg.run = flowtrain.RunParams{
		Version: Version, Target: t.Clone(),
		Config: arch, Precision: prec, Objective: obj.String(), Gradient: grad.String(),
		Batch: o.batch, LR: lr, Schedule: o.schedule, Steps: o.steps, Clip: o.clip, Seed: o.seed,
	}
	if init != nil {
		cfg.run.InitModel = init.sha256
	}
	return cfg, nil
}

// checkTrainFiles refuses to overwrite a previous run's files unless
// --force, and needs the checkpoint with --resume. It changes nothing:
// with --force the old checkpoint is removed only once every other input
// has been validated (removeStaleFiles).
func checkTrainFiles(o *trainOptions, cfg *trainConfig) error {
	dir := filepath.Dir(o.out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("--%s %s: directory %s does not exist", flagOut, o.out, dir)
	}
	if st, err := os.Stat(o.out); err == nil && st.IsDir() {
		return usagef("--%s %s is a directory, want a model file name", flagOut, o.out)
	}
	// One piece of advice for both directions: --resume where the
	// checkpoint is, --force where only a model or a log is.
	_, ckptErr := os.Lstat(cfg.ckpt)
	var other string // an existing model or log
	for _, p := range []string{o.out, cfg.logPath} {
		if _, err := os.Lstat(p); err == nil {
			other = p
			break
		}
	}
	if o.resume {
		if ckptErr != nil {
			if other != "" {
				return usagef("--%s: no checkpoint %s to continue from, but %s exists (its run finished or stopped without a checkpoint): start afresh with --%s",
					flagResume, cfg.ckpt, other, flagForce)
			}
			return usagef("--%s: no checkpoint %s to continue from (start without --%s)", flagResume, cfg.ckpt, flagResume)
		}
		return nil
	}
	if !o.force {
		switch {
		case ckptErr == nil:
			return usagef("--%s %s: %s exists; pass --%s to continue its run or --%s to start afresh (nothing was overwritten)",
				flagOut, o.out, cfg.ckpt, flagResume, flagForce)
		case other != "":
			return usagef("--%s %s: %s exists and there is no checkpoint %s to continue from; pass --%s to start afresh (nothing was overwritten)",
				flagOut, o.out, other, cfg.ckpt, flagForce)
		}
	}
	// The output directory must be writable before hours of training.
	probe, err := os.CreateTemp(dir, ".latflow-write-test-*")
	if err != nil {
		return usagef("--%s %s: directory %s is not writable: %v", flagOut, o.out, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// lockTrainOutput takes the lock of the run's output (OUT.lock), so that
// two runs with one --out cannot both train and the last silently replace
// the first. Under the lock it checks the files again (another run may
// have written them since checkTrainFiles).
func lockTrainOutput(o *trainOptions, cfg *trainConfig) (*flowtrain.OutputLock, error) {
	lock, err := flowtrain.LockOutput(o.out)
	var le *flowtrain.LockedError
	if errors.As(err, &le) {
		return nil, fmt.Errorf("train: --%s %s is being written by another latflow train (%s; lock %s); wait for it to finish or choose another --%s (nothing was changed)",
			flagOut, o.out, le.Holder, le.Lock, flagOut)
	}
	if err != nil {
		return nil, fmt.Errorf("train: --%s: %w", flagOut, err)
	}
	if err := checkTrainFiles(o, cfg); err != nil {
		lock.Unlock()
		return nil, err
	}
	return lock, nil
}

// removeStaleFiles removes, once every input has been validated and under
// the output's lock, the temporary files that an earlier run killed while
// writing (kill -9, a crash) left behind, and with --force the checkpoint
// of an earlier run, so that it cannot be resumed later as if it were this
// run's.
func removeStaleFiles(o *trainOptions, cfg *trainConfig) error {
	for _, p := range []string{o.out, cfg.ckpt, cfg.logPath} {
		if _, err := atomicfile.RemoveTemps(p); err != nil {
			return fmt.Errorf("train: --%s: %w", flagOut, err)
		}
	}
	if !o.force {
		return nil
	}
	if err := os.Remove(cfg.ckpt); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("train: --%s: %w", flagForce, err)
	}
	return nil
}

// loadTrainData reads the configurations of the --data datasets and checks
// that they belong to the run's target.
func loadTrainData(o *trainOptions, cfg *trainConfig) error {
	dataDirs := o.data.Value()
	dirs := strings.Join(dataDirs, ", ")
	ds, err := dataset.OpenWith(dataset.OpenOptions{Configs: true}, dataDirs...)
	if err != nil {
		return usagef("--%s: %v", flagData, err)
	}
	m := ds.Meta
	dt := ensemble.Target{Theory: m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization}
	if name, a, b := dt.Diff(cfg.target); name != "" {
		return usagef("--%s %s holds %s=%s, this run has --%s %s", flagData, dirs, name, a, name, b)
	}
	if ds.ConfigSize != cfg.target.Size() && ds.ConfigName != "" {
		return usagef("--%s %s holds configurations of %d values, want %d", flagData, dirs, ds.ConfigSize, cfg.target.Size())
	}
	cfg.data = ds.Configs()
	if len(cfg.data) == 0 {
		return usagef("--%s %s holds no configurations; write them with latflow hmc --%s K --%s DIR", flagData, dirs, flagSaveEvery, flagOut)
	}
	cfg.run.Data = dataDirs
	cfg.run.DataConfigs, cfg.run.DataDigest = len(cfg.data), flowtrain.DataDigest(cfg.data)
	return nil
}

// trainPlan is a train run that validate has checked, not yet started.
type trainPlan struct {
	cfg  *trainConfig
	ckpt *flowtrain.Checkpoint // with --resume: the checkpoint to continue
}

// validate is train's one validation path: the flags (parseTrain), the
// files it would write (checkTrainFiles), the --data datasets and, with
// --resume, the checkpoint and its parameters. It writes nothing and
// fills plan with the run.
func (o *trainOptions) validate(plan *trainPlan) error {
	cfg, err := parseTrain(o)
	if err != nil {
		return err
	}
	if err := checkTrainFiles(o, cfg); err != nil {
		return err
	}
	if cfg.obj == flowtrain.Forward {
		if err := loadTrainData(o, cfg); err != nil {
			return err
		}
	}
	var ckpt *flowtrain.Checkpoint
	if o.resume {
		if ckpt, err = flowtrain.LoadCheckpoint(cfg.ckpt); err != nil {
			return fmt.Errorf("train: --%s: %w", flagResume, err)
		}
		if name, saved, given := ckpt.Run.Mismatch(cfg.run); name != "" {
			return usagef("--%s: checkpoint %s was made with --%s %s, this run has --%s %s; give the same value to continue it",
				flagResume, cfg.ckpt, name, saved, name, given)
		}
	}
	*plan = trainPlan{cfg: cfg, ckpt: ckpt}
	return nil
}

func runTrain(ctx context.Context, o *trainOptions, stdout, stderr io.Writer) (err error) {
	var plan trainPlan
	if err := o.validate(&plan); err != nil {
		return err
	}
	cfg, ckpt := plan.cfg, plan.ckpt
	// The lock is the run's, not validate's: submit validates without
	// training, and the lock must be held until the model is written.
	lock, err := lockTrainOutput(o, cfg)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	ctx, tr, err := startTracing(ctx, o.traceFile, o.force, "train", &cfg.target)
	if err != nil {
		return err
	}
	defer func() { err = tr.finish(err) }()
	if err := removeStaleFiles(o, cfg); err != nil {
		return err
	}
	if cfg.run.Precision == precisionFloat32 {
		return trainWith[float32](ctx, o, cfg, ckpt, tr, stdout, stderr)
	}
	return trainWith[float64](ctx, o, cfg, ckpt, tr, stdout, stderr)
}

// trainWith builds the flow of element type T and trains it.
func trainWith[T nn.Float](ctx context.Context, o *trainOptions, cfg *trainConfig, ckpt *flowtrain.Checkpoint, tc *tracing, stdout, stderr io.Writer) (err error) {
	tracer := tc.Tracer
	run := cfg.run
	t := cfg.target
	var f *flow.Flow[T]
	if cfg.init != nil {
		f, err = flow.BuildAt[T](cfg.init.Model, t.L)
	} else {
		f, err = flow.New[T](run.Config, rand.New(rand.NewPCG(run.Seed, 0)))
	}
	if err != nil {
		return usagef("flow architecture: %v", err)
	}
	sched, err := flowtrain.ParseSchedule(run.Schedule, run.LR, run.Steps)
	if err != nil {
		return usagef("--%s: %v", flagSchedule, err)
	}
	act := t.Action(t.Geometry())
	tr, err := flowtrain.NewTrainer(f, act, rand.NewPCG(run.Seed, 1), flowtrain.Options{
		Objective: cfg.obj, Gradient: cfg.grad, Batch: run.Batch, Workers: cfg.workers,
		Schedule: sched, Clip: run.Clip, MaxSkips: o.maxSkips, Data: cfg.data,
	})
	if err != nil {
		return usagef("--%s %s --%s %s: %v", flagObjective, cfg.obj, flagGradient, cfg.grad, err)
	}
	if ckpt != nil {
		if err := tr.Restore(ckpt); err != nil {
			return fmt.Errorf("train: --%s %s: %w", flagResume, cfg.ckpt, err)
		}
	}

	span := tc.Span()
	span.SetAttributes(attribute.String("latflow.estimator", cfg.estimator),
		attribute.Int("latflow.batch", run.Batch), attribute.Int("latflow.steps_requested", run.Steps))
	// A span per block of trainSpanSteps steps, with its mean loss and ESS.
	blockStart, blockLoss, blockESS, blockN := time.Now(), 0.0, 0.0, 0
	lastFresh, lastAcc := math.NaN(), math.NaN()

	fmt.Fprintf(stderr, "latflow train: %s; %s; %s, batch %d, lr %g (%s), %d steps, seed %d\n",
		t, describeArch(run.Config, f.NumParams(), run.Precision), cfg.estimator, run.Batch, run.LR, run.Schedule, run.Steps, run.Seed)
	if ckpt != nil {
		fmt.Fprintf(stderr, "latflow train: continuing from step %d of %s\n", ckpt.Step, cfg.ckpt)
	}
	start := tr.StepsDone()
	prog := newProgress(stderr, "train", int64(run.Steps))
	prog.resumed(int64(start))
	t0 := time.Now()
	lastCkpt := -1
	if ckpt != nil {
		lastCkpt = ckpt.Step
	}
	var until time.Time
	if o.maxTime > 0 {
		until = t0.Add(o.maxTime)
		prog.setDeadline(until)
	}
	// The command lines of the run's sessions: those a resumed
	// checkpoint recorded, then this one.
	var commands []string
	if ckpt != nil {
		commands = slices.Clone(ckpt.Model.Provenance.Commands)
	}
	commands = append(commands, o.command)
	err = tr.Train(ctx, flowtrain.TrainOptions{
		Until: until, CPUBudget: o.maxCPUTime.Seconds(), Steps: run.Steps, Run: run, Checkpoint: cfg.ckpt, CheckpointEvery: o.every, Log: cfg.logPath,
		Commands:   commands,
		FreshEvery: o.evalEvery, FreshSamples: freshSamples, FreshSeed: run.Seed + freshSeedOffset,
		OnStep: func(r flowtrain.StepResult) {
			if r.Skipped {
				prog.printf("latflow train: step %d skipped (%d in a row, %d in all): %s\n", r.Step, r.SkipRun, tr.Skipped(), r.Reason)
			}
			rate := float64(tr.StepsDone()-start) / time.Since(t0).Seconds()
			if r.ESSFresh > 0 {
				lastFresh, lastAcc = r.ESSFresh, r.AccFresh
			}
			fresh, acc := "-", "-" // until the first --eval-every measurement
			if !math.IsNaN(lastFresh) {
				fresh, acc = fmt.Sprintf("%.3f", lastFresh), fmt.Sprintf("%.3f", lastAcc)
			}
			status := fmt.Sprintf("loss %.4g  std(log w) %.3g  batch ESS %.3f  fresh ESS %s  fresh acc %s  %.1f steps/s", r.Loss, r.StdLogW, r.ESS, fresh, acc, rate)
			if n := tr.Skipped(); n > 0 {
				status += fmt.Sprintf("  skipped %d", n)
			}
			prog.setStatus(status)
			prog.add(1)
			if !r.Skipped {
				blockLoss, blockESS, blockN = blockLoss+r.Loss, blockESS+r.ESS, blockN+1
			}
			if (r.Step+1)%trainSpanSteps == 0 {
				_, s := tracer.Start(ctx, "steps", trace.WithTimestamp(blockStart), trace.WithAttributes(
					attribute.Int64("latflow.first_step", r.Step+1-trainSpanSteps), attribute.Int64("latflow.last_step", r.Step),
					attribute.Float64("latflow.loss", blockLoss/float64(max(1, blockN))), attribute.Float64("latflow.batch_ess", blockESS/float64(max(1, blockN)))))
				s.End()
				blockStart, blockLoss, blockESS, blockN = time.Now(), 0, 0, 0
			}
		},
		OnSave: func(step int, d time.Duration) {
			lastCkpt = step
			_, s := tracer.Start(ctx, "checkpoint", trace.WithTimestamp(time.Now().Add(-d)),
				trace.WithAttributes(attribute.Int("latflow.step", step), attribute.String("latflow.file", cfg.ckpt)))
			s.End()
		},
	})
	prog.finish()
	// The run's totals: the steps done, and the last fresh ESS and
	// acceptance until an evaluation gives them on its own samples.
	totals := telemetry.Totals{Steps: int64(tr.StepsDone()), Acceptance: lastAcc, ESS: lastFresh, LogZ: math.NaN(), LogZError: math.NaN()}
	span.SetAttributes(totals.Attributes()...)
	span.SetAttributes(attribute.Int("latflow.skipped", tr.Skipped()))
	if err != nil {
		return trainFailure(ctx, err, cfg, tr.StepsDone(), lastCkpt)
	}
	switch {
	case tr.StepsDone() == 0:
		return fmt.Errorf("train: --%s %v or --%s %v stopped the run before its first step; nothing was written", flagMaxTime, o.maxTime, flagMaxCPUTime, o.maxCPUTime)
	case tr.Updates() == 0:
		// All steps skipped: the parameters are the initial ones, a model
		// of them would pass for a trained flow.
		return fmt.Errorf("train: none of the %d steps updated the parameters (every one was skipped, see the reasons above); nothing was written", tr.StepsDone())
	}
	if tr.StepsDone() < run.Steps {
		limit, value := flagMaxTime, o.maxTime
		if o.maxCPUTime > 0 && (o.maxTime == 0 || time.Since(t0) < o.maxTime) {
			limit, value = flagMaxCPUTime, o.maxCPUTime
		}
		fmt.Fprintf(stderr, "latflow train: --%s %v reached after step %d of %d\n", limit, value, tr.StepsDone(), run.Steps)
	}

	rep := newTrainReport(cfg, o, tr.Log(), f.NumParams(), tr.Skipped(), tr.Updates())
	m := tr.Model()
	m.Target = t.Clone()
	m.Provenance = flow.Provenance{Version: Version, Steps: tr.StepsDone(), Estimator: cfg.estimator, Seed: run.Seed,
		Date: time.Now().UTC(), Commands: commands, WallSeconds: rep.WallSeconds}
	var initProv *flow.Provenance
	if p := cfg.init; p != nil {
		// A continuation: the model's history comes first.
		m.Provenance.Commands = append(slices.Clone(p.Provenance.Commands), commands...)
		m.Provenance.Steps += p.Provenance.Steps
		m.Provenance.WallSeconds += p.Provenance.WallSeconds
		initProv = &p.Provenance
	}
	if log := tr.Log(); len(log) > 0 {
		last := log[len(log)-1]
		m.Provenance.TotalWallSeconds, m.Provenance.TotalCPUSeconds = provenanceTotals(last.WallSeconds, last.CPUSeconds, initProv)
	}
	if o.eval > 0 {
		prop := &sampler.FlowProposal[T]{Flow: f, Workers: cfg.workers}
		ev, err := sampler.Evaluate(ctx, prop, act, o.eval, run.Batch, cfg.workers, rand.NewPCG(run.Seed, 2), rand.NewPCG(run.Seed, 3))
		if err != nil {
			return fmt.Errorf("train: evaluation: %w", err)
		}
		rep.Eval, m.Provenance.Eval = &ev, &ev
		totals.ESS, totals.Acceptance = ev.ESS, ev.Acceptance
		span.SetAttributes(totals.Attributes()...)
	}
	if err := flow.Save(o.out, m); err != nil {
		return trainFailure(ctx, err, cfg, tr.StepsDone(), lastCkpt)
	}
	fmt.Fprintf(stderr, "latflow train: model saved to %s (log %s)\n", o.out, cfg.logPath)
	if o.json {
		return writeJSON(stdout, rep)
	}
	return rep.write(stdout)
}

// provenanceTotals returns the total_wall_seconds and total_cpu_seconds of
// a model's provenance: this run's wall and CPU seconds (over its resumed
// sessions; cpu NaN if unknown) plus, for a run started from a model with
// provenance init, that model's totals (flow.Provenance.TotalWall and
// TotalCPU). The CPU total is 0, left out of the JSON, where any of its
// terms is unknown: a smaller sum would pass for the cost.
func provenanceTotals(wall, cpu float64, init *flow.Provenance) (totalWall, totalCPU float64) {
	totalWall, totalCPU = wall, cpu
	if init != nil {
		totalWall += init.TotalWall()
		totalCPU += init.TotalCPU()
	}
	if !(totalCPU > 0) || math.IsInf(totalCPU, 0) {
		totalCPU = 0
	}
	return totalWall, totalCPU
}

// trainFailure is the error of a training run that failed after step
// done, with the last checkpoint written at step lastCkpt (-1: none). It
// says what is kept and how to go on, as checkTrainFiles would: --resume
// where the checkpoint is, --force where only a model or a log is, and
// nothing where no file was written.
func trainFailure(ctx context.Context, err error, cfg *trainConfig, done, lastCkpt int) error {
	kept := "no checkpoint was written"
	if lastCkpt >= 0 {
		kept = fmt.Sprintf("checkpoint %s (step %d) is kept", cfg.ckpt, lastCkpt)
	}
	next := "start again"
	if _, serr := os.Lstat(cfg.ckpt); serr == nil {
		next = fmt.Sprintf("continue with --%s (the parameters equal an uninterrupted run's)", flagResume)
	} else {
		for _, p := range []string{cfg.out, cfg.logPath} {
			if _, serr := os.Lstat(p); serr == nil {
				next = fmt.Sprintf("start afresh with --%s", flagForce)
			}
		}
	}
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return &interruptedError{msg: fmt.Sprintf("train: interrupted after step %d of %d; %s; %s",
			done, cfg.run.Steps, kept, next)}
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("train: %w; %s; free space and %s", err, kept, next)
	case errors.Is(err, flowtrain.ErrTooManySkips):
		// Other flags do not resume the checkpoint: a new run needs --force
		// once files exist.
		log, again := "", ""
		if _, serr := os.Stat(cfg.logPath); serr == nil {
			log = "; log " + cfg.logPath
		}
		if next != "start again" {
			again = fmt.Sprintf(", and start afresh with --%s", flagForce)
		}
		return fmt.Errorf("train: %w; %s%s (lower --%s or set --%s%s)", err, kept, log, flagLR, flagClip, again)
	}
	return fmt.Errorf("train: %w", err)
}

// describeArch is a one-line description of a flow architecture; params < 0
// and an empty precision are left out.
func describeArch(a flow.Config, params int, precision string) string {
	hidden := make([]string, len(a.Hidden))
	for i, h := range a.Hidden {
		hidden[i] = strconv.Itoa(h)
	}
	s := fmt.Sprintf("flow %d layers", a.Layers)
	if a.Theory == theoryU1 {
		s += fmt.Sprintf(", %d mixtures", a.Mixtures)
	}
	s += fmt.Sprintf(", hidden [%s], kernel %d", strings.Join(hidden, ","), a.Kernel)
	if b := a.BaseName(); b == flow.BasePlaquettes {
		mode := a.BaseMode
		if mode == "" {
			mode = flow.BaseModeRandom
		}
		s += fmt.Sprintf(", base plaquettes (beta %g, %s)", a.BaseBeta, mode)
	} else {
		s += ", base " + b
	}
	if a.Z2 {
		s += ", Z2-symmetrized"
	}
	if a.Coupling == flow.CouplingSpline {
		s += fmt.Sprintf(", spline couplings (%d bins on [-%g, %g])", a.Bins, a.SplineBound, a.SplineBound)
	}
	if len(a.Blocks) > 0 {
		s += fmt.Sprintf(", block couplings of blocks %v", a.Blocks)
	}
	if a.Spectral > 0 {
		s += fmt.Sprintf(", spectral layer (nodes pi/%d apart)", a.Spectral)
	}
	if a.ZeroModeBins > 0 {
		s += fmt.Sprintf(", zero-mode spline (%d bins on [-%g, %g])", a.ZeroModeBins, a.ZeroModeBound, a.ZeroModeBound)
	}
	if a.Init == flow.InitIdentity {
		s += ", identity init"
	}
	if params >= 0 {
		s += fmt.Sprintf(", %d parameters", params)
	}
	if precision != "" {
		s += ", " + precision
	}
	return s
}

// trainReport is the summary of a finished training run.
type trainReport struct {
	Description     string             `json:"description"`
	Theory          string             `json:"theory"`
	L               int                `json:"L"`
	Couplings       map[string]float64 `json:"couplings"`
	Parametrization string             `json:"parametrization,omitempty"`
	Flow            flow.Config        `json:"flow"`
	Params          int                `json:"params"`
	Precision       string             `json:"precision"`
	Estimator       string             `json:"estimator"`
	Batch           int                `json:"batch"`
	LR              float64            `json:"lr"`
	Schedule        string             `json:"schedule"`
	Seed            uint64             `json:"seed"`
	Steps           int                `json:"steps"`
	Skipped         int                `json:"skipped"`
	Updates         int                `json:"updates"`
	// Final are the means over the last tenth of the steps (not skipped).
	FinalSteps   int              `json:"final_steps"`
	FinalLoss    *float64         `json:"final_loss,omitempty"`
	FinalStdLogW *float64         `json:"final_std_logw,omitempty"`
	FinalESS     *float64         `json:"final_ess,omitempty"`
	WallSeconds  float64          `json:"wall_seconds"`
	CPUSeconds   float64          `json:"cpu_seconds,omitempty"`
	Eval         *flow.Evaluation `json:"evaluation,omitempty"`
	Model        string           `json:"model"`
	Checkpoint   string           `json:"checkpoint"`
	Log          string           `json:"log"`
}

func newTrainReport(cfg *trainConfig, o *trainOptions, log []flowtrain.LogRow, params, skipped, updates int) trainReport {
	run := cfg.run
	r := trainReport{
		Description: cfg.target.String(), Theory: run.Theory, L: run.L, Couplings: run.Couplings, Parametrization: run.Parametrization,
		Flow: run.Config, Params: params, Precision: run.Precision, Estimator: cfg.estimator,
		Batch: run.Batch, LR: run.LR, Schedule: run.Schedule, Seed: run.Seed,
		Steps: len(log), Skipped: skipped, Updates: updates,
		Model: o.out, Checkpoint: cfg.ckpt, Log: cfg.logPath,
	}
	if len(log) > 0 {
		r.WallSeconds = log[len(log)-1].WallSeconds
		if cpu := log[len(log)-1].CPUSeconds; cpu > 0 && !math.IsInf(cpu, 0) {
			r.CPUSeconds = cpu
		}
	}
	if t, ok := flowtrain.TailMeans(log); ok {
		r.FinalSteps, r.FinalLoss, r.FinalStdLogW, r.FinalESS = t.Steps, &t.Loss, &t.StdLogW, &t.ESS
	}
	return r
}

func (r trainReport) write(w io.Writer) error {
	fmt.Fprintln(w, r.Description)
	fmt.Fprintf(w, "%s; %s, batch %d, lr %g (%s), seed %d\n", describeArch(r.Flow, r.Params, r.Precision), r.Estimator, r.Batch, r.LR, r.Schedule, r.Seed)
	cpu := ""
	if r.CPUSeconds > 0 {
		cpu = fmt.Sprintf(" (CPU %.1f s)", r.CPUSeconds)
	}
	fmt.Fprintf(w, "steps %d (%d updates, %d skipped) in %.1f s%s\n", r.Steps, r.Updates, r.Skipped, r.WallSeconds, cpu)
	if r.FinalLoss != nil {
		fmt.Fprintf(w, "last %d steps: loss %.6g, std(log w) %.4g, batch ESS %.4f (per batch: optimistic)\n", r.FinalSteps, *r.FinalLoss, *r.FinalStdLogW, *r.FinalESS)
	}
	if e := r.Eval; e != nil {
		fmt.Fprintf(w, "evaluation on %d flow samples: ESS/N %.4f, independence Metropolis acceptance %.4f\n", e.Samples, e.ESS, e.Acceptance)
	}
	fmt.Fprintf(w, "model %s, log %s, checkpoint %s\n", r.Model, r.Log, r.Checkpoint)
	return nil
}

// grow adds the --add-layers coupling layers to the model of --init.
func (o *trainOptions) grow(init *loadedModel, arch *flow.Config) error {
	if most := maxLayers - init.Config.Layers; o.addLayers < 1 || o.addLayers > most {
		return usagef("--%s must be between 1 and %d (%s has %d of at most %d layers), got %d",
			flagAddLayers, most, o.initModel, init.Config.Layers, maxLayers, o.addLayers)
	}
	// The new conditioners' first convolutions are drawn from a stream of
	// their own, so --seed gives the same grown model on every run.
	g, err := flow.Grow(init.Model, o.addLayers, rand.New(rand.NewPCG(o.seed, growSeedOffset)))
	if err != nil {
		return err
	}
	init.Model = g
	arch.Layers = g.Config.Layers
	return nil
}

// growBlocks adds the block couplings of --blocks to the model of --init.
func (o *trainOptions) growBlocks(init *loadedModel, arch *flow.Config, t ensemble.Target) error {
	blocks, err := o.arch.parseBlocks(t)
	if err != nil {
		return err
	}
	// Grown at the L trained for (a block size may fit 2L and not L), with
	// the base the caller has checked there.
	m := init.Model
	m.Config.L = t.L
	g, err := flow.GrowBlocks(m, blocks, rand.New(rand.NewPCG(o.seed, growSeedOffset+1)))
	if err != nil {
		return usagef("--%s %s with --%s %s: %v", flagBlocks, o.arch.blocks, flagInit, o.initModel, err)
	}
	g.Config.L = init.Config.L
	init.Model = g
	arch.Blocks = g.Config.Blocks
	return nil
}

// addSpectral adds the spectral layer of --spectral to the model of --init,
// as the identity, or refines the model's own to N nodes per pi (the same
// map, N a multiple of its count).
func (o *trainOptions) addSpectral(init *loadedModel, arch *flow.Config, t ensemble.Target) error {
	N, err := o.arch.parseSpectral(t)
	if err != nil {
		return err
	}
	own := init.Config.Spectral
	switch {
	case own == N:
		return nil
	case N == 0:
		return usagef("--%s 0 with --%s: a spectral layer cannot be removed from a model", flagSpectral, flagInit)
	case own != 0 && N%own != 0:
		return usagef("--%s %d with --%s %s: the model's spectral layer has %d nodes per pi; refining it needs a multiple of %d", flagSpectral, N, flagInit, o.initModel, own, own)
	}
	// At the L trained for, with the base the caller has checked there.
	m := init.Model
	m.Config.L = t.L
	var g flow.Model
	if own == 0 {
		g, err = flow.GrowSpectral(m, N, rand.New(rand.NewPCG(o.seed, growSeedOffset+2)))
	} else {
		g, err = flow.RefineSpectral(m, N)
	}
	if err != nil {
		return err
	}
	g.Config.L = init.Config.L
	init.Model = g
	arch.Spectral = N
	return nil
}

// addZeroMode adds the zero-mode layer of --zero-mode-bins to the model of
// --init, as the identity (zero parameters after the model's own), so
// that training starts from the model's distribution.
func (o *trainOptions) addZeroMode(init *loadedModel, arch *flow.Config, t ensemble.Target) error {
	if init.Config.ZeroModeBins > 0 {
		return usagef("--%s with --%s adds a zero-mode layer; %s has one already (%d bins)",
			flagZeroModeBins, flagInit, o.initModel, init.Config.ZeroModeBins)
	}
	var cfg flow.Config
	if err := o.arch.setZeroMode(&cfg, t); err != nil {
		return err
	}
	if cfg.ZeroModeBins == 0 { // --zero-mode-bins 0: nothing to add
		return nil
	}
	arch.ZeroModeBins, arch.ZeroModeBound = cfg.ZeroModeBins, cfg.ZeroModeBound
	m := &init.Model
	m.Config.ZeroModeBins, m.Config.ZeroModeBound = cfg.ZeroModeBins, cfg.ZeroModeBound
	m.Params = append(m.Params[:len(m.Params):len(m.Params)], make([]float64, 3*cfg.ZeroModeBins-1)...)
	return nil
}
