package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"latflow/ensemble"
	"latflow/fermion"
	"latflow/observables"
	"latflow/sampler"
)

// hmcOptions are the flags of latflow hmc.
type hmcOptions struct {
	target targetOptions
	chain  chainOptions
	traj   trajectoryOptions
	start  string
	set    flagSet
}

// trajectoryOptions are the flags of an HMC trajectory, in hmc and (with
// --hmc-every) in sample.
type trajectoryOptions struct {
	tau     string
	mdSteps int
	jitter  float64
}

// flags returns the trajectory flags with --tau's default tau; prefix
// starts their usage texts.
func (o *trajectoryOptions) flags(prefix, tau string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagTau, Value: tau, Destination: &o.tau, Usage: prefix + fmt.Sprintf("trajectory length (0 < tau <= %d), or %q (hmc only): the cheapest per independent sample, chosen during thermalization (needs --%s >= %d, which then defaults to %d)", maxTau, tauAuto, flagTherm, sampler.MinAutoTauBudget, autoTherm)},
		&cli.IntFlag{Name: flagMDSteps, Destination: &o.mdSteps, DefaultText: fmt.Sprintf("tuned during thermalization, starting from %d", hmcStartSteps),
			Usage: prefix + fmt.Sprintf("leapfrog steps per trajectory (1 to %d)", sampler.MaxTuneSteps)},
		&cli.Float64Flag{Name: flagTauJitter, Value: sampler.DefaultJitter, Destination: &o.jitter, Usage: prefix + "draw each trajectory length uniformly from tau*(1 +- J), which breaks the resonances of fixed-length trajectories (0 <= J < 1; 0: fixed)"},
	}
}

// chainCommand is a command that runs chains (hmc, sample): where its
// parsed flags land, and its one validation path.
type chainCommand interface {
	// options returns the flags given, the target and the chain options.
	options() (*flagSet, *targetOptions, *chainOptions)
	// validateRun checks every flag and the dataset without running or
	// writing anything, and returns the run.
	validateRun() (*sampler.Run, error)
}

func (o *hmcOptions) options() (*flagSet, *targetOptions, *chainOptions) {
	return &o.set, &o.target, &o.chain
}

// parseChainFlags finishes the flag parsing of a chain command (stray
// arguments, the flags given, the Slurm task) into its options.
func parseChainFlags(c *cli.Context, cc chainCommand) (err error) {
	set, target, chain := cc.options()
	if *set, err = parsed(c, false); err != nil {
		return err
	}
	target.set = *set
	chain.partRowsSet = (*set)[flagPartRows]
	return chain.readEnv(os.Getenv)
}

// chainAction is the Action of hmc and sample: it finishes the flag
// parsing into the options and calls run.
func chainAction(cc chainCommand, run func(ctx context.Context, stdout, stderr io.Writer) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := parseChainFlags(c, cc); err != nil {
			return err
		}
		return run(c.Context, c.App.Writer, c.App.ErrWriter)
	}
}

// Starts of an HMC chain.
const (
	startHot  = "hot"
	startCold = "cold"
)

func hmcCommand() *cli.Command { return newHMCCommand(&hmcOptions{}) }

// newHMCCommand returns the hmc command, whose flags land in o.
func newHMCCommand(o *hmcOptions) *cli.Command {
	return &cli.Command{
		Name:      "hmc",
		UsageText: hmcUsage,
		Usage:     "hybrid Monte Carlo for U(1) gauge theory, phi^4 theory or the Schwinger model (pseudofermions), with Gamma-method errors",
		Description: "Runs --chains independent HMC chains of --therm thermalization and --n measured trajectories\n" +
			"each, and prints mean, error and tau_int of every observable (replicas combined), with the\n" +
			"exact value and the deviation in sigma where one is known. Without --md-steps the leapfrog\n" +
			"steps are tuned during thermalization for an acceptance of 0.7 to 0.9. By default (--tau auto)\n" +
			"the thermalization also chooses the trajectory length with the least cost per independent\n" +
			"sample (chi_2 for phi4, Q^2 for u1 and schwinger); the table says which, and the cost/ms\n" +
			"column gives 2 tau_int x the time per trajectory of every observable.\n\n" +
			"phi4 takes either --m2 and --lambda (standard) or --kappa and --lambda (hopping).\n\n" +
			"schwinger takes --beta and --kappa and runs HMC with even-odd pseudofermions (CG to a relative\n" +
			"residual of 1e-10; --tau auto counts its cost in CG iterations); the table adds the\n" +
			"chiral condensate -Tr D^-1/V (exact for L <= 16, else from 4 noise vectors) and the pion mass\n" +
			"m_eff(L/4); the dataset holds the folded pion correlator C(t), t = 0..L/2, as columns pion_t.\n" +
			"Its action is the gauge action S_g.",
		Flags: append(append(append(o.target.flags(), o.chain.flags(2000, hmcTherm, "trajectories")...), o.traj.flags("", tauAuto)...),
			&cli.StringFlag{Name: flagStart, Value: startHot, Destination: &o.start, Usage: "start configuration: hot (random) or cold (u1: all links 0; phi4: phi = 0)"},
		),
		Action: chainAction(o, func(ctx context.Context, stdout, stderr io.Writer) error {
			return runHMC(ctx, o, stdout, stderr)
		}),
	}
}

// hmcStartSteps are the leapfrog steps the tuning starts from.
const hmcStartSteps = 10

// hmcTherm is the default of hmc's --therm.
const hmcTherm = 200

// maxTau bounds --tau.
const maxTau = 1000

// tauAuto is the value of --tau that chooses the length during
// thermalization (sampler.AutoTau), hmc's default; fallbackTau is the
// length hmc takes instead when the search cannot run (--therm too short,
// --md-steps given) and --tau was not given, and sample's default.
const (
	tauAuto     = "auto"
	fallbackTau = "1"
)

// autoTherm is --therm's default with --tau auto: the search needs more
// thermalization than a fixed length.
const autoTherm = 5000

// hmc returns the HMC trajectory of the options, its update options and
// the settings a resumed run must keep; set are the flags given. With
// --tau auto, opt.AutoTau is set without its budget and probe, which the
// caller fills in, and h.Tau is the longest candidate.
func (o *trajectoryOptions) hmc(set flagSet) (sampler.HMC, sampler.HMCOptions, map[string]string, error) {
	h := sampler.HMC{Tau: sampler.AutoTauCandidates[0], Steps: hmcStartSteps}
	opt := sampler.HMCOptions{Tune: !set[flagMDSteps], Jitter: o.jitter}
	if !opt.Tune {
		h.Steps = o.mdSteps
	}
	tauErr := usagef("--%s must be %q or a number above 0 and at most %d, got %q", flagTau, tauAuto, maxTau, o.tau)
	if o.tau == tauAuto {
		opt.AutoTau = &sampler.AutoTau{}
		if !opt.Tune {
			return h, opt, nil, usagef("--%s %s tunes the leapfrog steps for each length it tries: leave out --%s", flagTau, tauAuto, flagMDSteps)
		}
	} else {
		v, err := strconv.ParseFloat(o.tau, 64)
		if err != nil {
			return h, opt, nil, tauErr
		}
		h.Tau = v
	}
	switch {
	case !(h.Tau > 0) || h.Tau > maxTau:
		return h, opt, nil, tauErr
	case h.Steps < 1 || h.Steps > sampler.MaxTuneSteps:
		return h, opt, nil, usagef("--%s must be between 1 and %d, got %d", flagMDSteps, sampler.MaxTuneSteps, h.Steps)
	case !(o.jitter >= 0 && o.jitter < 1):
		return h, opt, nil, usagef("--%s must be at least 0 and below 1, got %g", flagTauJitter, o.jitter)
	}
	steps := strconv.Itoa(h.Steps)
	if opt.Tune {
		steps = "tuned"
	}
	tau := strconv.FormatFloat(h.Tau, 'g', -1, 64)
	if opt.AutoTau != nil {
		tau = tauAuto
	}
	settings := map[string]string{flagTau: tau, flagMDSteps: steps,
		flagTauJitter: strconv.FormatFloat(o.jitter, 'g', -1, 64)}
	return h, opt, settings, nil
}

// hmcPlan is an hmc run that validate has checked, not yet started.
type hmcPlan struct {
	target   ensemble.Target
	hmc      sampler.HMC
	hopt     sampler.HMCOptions
	run      *sampler.Run
	settings map[string]string // the settings a resumed run must keep
	fallback []string          // why the default --tau auto was not taken
}

// validate is hmc's one validation path: it checks every flag, the memory
// of the run and the dataset in --out (sampler.Run.Check), without running
// or writing anything, and fills plan with the run. runHMC runs it; submit
// calls validate for the command it wraps.
func (o *hmcOptions) validate(plan *hmcPlan) error {
	t, err := o.target.target()
	if err != nil {
		return err
	}
	var fallback []string
	if !o.set[flagTau] && (o.set[flagMDSteps] || o.set[flagTherm] && o.chain.therm < sampler.MinAutoTauBudget) {
		why := fmt.Sprintf("--%s %d is below the %d it needs", flagTherm, o.chain.therm, sampler.MinAutoTauBudget)
		if o.set[flagMDSteps] {
			why = fmt.Sprintf("--%s fixes the leapfrog steps it tunes", flagMDSteps)
		}
		o.traj.tau = fallbackTau
		fallback = append(fallback, fmt.Sprintf("tau=%s: the default --%s %s chooses the length during thermalization, but %s", fallbackTau, flagTau, tauAuto, why))
	}
	h, hopt, settings, err := o.traj.hmc(o.set)
	if err != nil {
		return err
	}
	if hopt.AutoTau != nil && !o.set[flagTherm] {
		o.chain.therm = autoTherm
	}
	if err := o.chain.validate(); err != nil {
		return err
	}
	if hopt.AutoTau != nil {
		if o.chain.therm < sampler.MinAutoTauBudget {
			return usagef("--%s %s needs --%s of at least %d trajectories to try its lengths, got %d", flagTau, tauAuto, flagTherm, sampler.MinAutoTauBudget, o.chain.therm)
		}
		hopt.AutoTau.Budget = o.chain.therm
		hopt.AutoTau.ProbeName, hopt.AutoTau.Probe = sampler.CostProbe(t)
	}
	if err := checkMemory(chainMemory(&o.chain, t.Size(), len(observables.Columns(t))+1, memTerm{})); err != nil {
		return err
	}
	if o.start != startHot && o.start != startCold {
		return usagef("--%s must be %s or %s, got %q", flagStart, startHot, startCold, o.start)
	}
	settings[flagStart] = o.start
	r := o.chain.run(t, samplerHMC, settings)
	r.Cold = o.start == startCold
	r.NewUpdate = func(c int) (sampler.Update, error) {
		opt := hopt
		if a := hopt.AutoTau; a != nil {
			// Each chain measures with its own probe.
			b := *a
			b.ProbeName, b.Probe = sampler.CostProbe(t)
			opt.AutoTau = &b
		}
		src := sampler.NewStream(o.chain.seed, c, sampler.StreamHMC)
		if t.Theory == theorySchwinger {
			return sampler.NewRefreshHMCUpdate(h, pseudofermionAction(t), t.Size(), src, opt)
		}
		return sampler.NewHMCUpdate(h, t.Action(t.Geometry()), t.Size(), src, opt)
	}
	if err := r.Check(); err != nil {
		return runError(err)
	}
	*plan = hmcPlan{target: t, hmc: h, hopt: hopt, run: r, settings: settings, fallback: fallback}
	return nil
}

// validateRun validates the flags (validate) and returns the run.
func (o *hmcOptions) validateRun() (*sampler.Run, error) {
	var p hmcPlan
	err := o.validate(&p)
	return p.run, err
}

func runHMC(ctx context.Context, o *hmcOptions, stdout, stderr io.Writer) (err error) {
	var p hmcPlan
	if err := o.validate(&p); err != nil {
		return err
	}
	t, r, tune, settings := p.target, p.run, p.hopt.Tune, p.settings
	fmt.Fprintf(stderr, "latflow hmc: %s; %d chain(s) x (%d + %d) trajectories, tau=%s (jitter %g), %s start, seed %d\n",
		t, o.chain.chains, o.chain.therm, o.chain.n, settings[flagTau], o.traj.jitter, o.start, o.chain.seed)
	res, _, tr, err := runChains(ctx, "hmc", &o.chain, r, stderr)
	if err != nil {
		return err
	}
	defer func() { err = tr.finish(err) }()
	rows, notes, err := table(t, res)
	if err != nil {
		return err
	}
	notes = append(p.fallback, notes...)
	var acc, n int64
	var lo, hi = math.MaxInt, 0
	var taus []string
	for _, c := range res.Chains {
		if a, ok := c.Update.(hmcUpdate).AutoTau(); ok {
			taus = append(taus, strconv.FormatFloat(a.Tau, 'g', -1, 64))
			notes = append(notes, fmt.Sprintf("chain %d: %s", c.ID, a))
		}
		for _, a := range c.Accepted {
			if a {
				acc++
			}
		}
		n += int64(len(c.Accepted))
		s := c.Update.(hmcUpdate).Steps()
		lo, hi = min(lo, s), max(hi, s)
	}
	if acc == 0 {
		// The length --tau auto chose, or the fixed one.
		tau := res.Chains[0].Update.(hmcUpdate).Tau()
		return noAcceptance(n, tau, hi, tune, o.chain.therm)
	}
	stepsText := strconv.Itoa(lo)
	if hi != lo {
		stepsText = fmt.Sprintf("%d to %d", lo, hi)
	}
	switch {
	case tune && o.chain.therm >= sampler.TuneBlock:
		stepsText += ", tuned"
	case tune:
		stepsText += fmt.Sprintf(", not tuned: --%s %d is shorter than one tuning block of %d", flagTherm, o.chain.therm, sampler.TuneBlock)
	}
	tauText := settings[flagTau]
	if len(taus) > 0 {
		tauText = "auto, chose " + taus[0]
		if len(slices.Compact(slices.Clone(taus))) > 1 {
			tauText = "auto, chose " + strings.Join(taus, "/") + " by chain"
		}
	}
	rep := observables.Report{
		Target:  t,
		Sampler: fmt.Sprintf("hmc (tau=%s, jitter %g, leapfrog steps %s)", tauText, o.traj.jitter, stepsText), Chains: o.chain.chains,
		Measurements: res.Steps(), Acceptance: float64(acc) / float64(n),
		PerWhat: stepName(samplerHMC), Rows: rows, Notes: notes,
		Unreliable: observables.FrozenTopology(t, res.Series()),
	}
	rep.SecondsPer = res.SecondsPerStep()
	return tr.writeReport(stdout, rep, o.chain.json)
}

// hmcUpdate is the update of an hmc chain: sampler.HMCUpdate, or
// sampler.RefreshHMCUpdate for the Schwinger model.
type hmcUpdate interface {
	Steps() int
	Tau() float64
	AutoTau() (sampler.AutoTauResult, bool)
}

var (
	_ hmcUpdate = (*sampler.HMCUpdate)(nil)
	_ hmcUpdate = (*sampler.RefreshHMCUpdate)(nil)
)

// CG of the pseudofermion action of hmc --theory schwinger: the relative
// residual makes the force and the action accurate far below the leapfrog
// error, and the cap ends a run near an exactly singular D with an error
// instead of a hang.
const (
	pfTol     = 1e-10
	pfMaxIter = 100000
)

// pseudofermionAction returns the pseudofermion action of hmc for a
// Schwinger target, in its even-odd form: its Schur CG needs about half
// the iterations of the full one at the same cost each (package fermion),
// and hmc measured it faster per trajectory (docs/physics.md).
func pseudofermionAction(t ensemble.Target) sampler.Refresher {
	return fermion.NewEvenOddPseudofermionAction(t.Geometry(), t.Couplings[ensemble.Beta], t.Couplings[ensemble.Kappa], pfTol, pfMaxIter)
}

// noAcceptance is the error of an hmc run that accepted none of its n
// trajectories, with leapfrog steps ending at steps: it names the cause.
// With tuning, a thermalization shorter than one tuning block left the
// starting steps untouched, and a longer one can end before the tuning
// reaches the acceptance band; either way --therm is what to raise.
// Otherwise the step tau/steps is too large for the action.
func noAcceptance(n int64, tau float64, steps int, tune bool, therm int) error {
	eps := tau / float64(steps)
	switch {
	case tune && therm < sampler.TuneBlock:
		return fmt.Errorf("hmc: no trajectory was accepted in %d: thermalization is too short to tune the leapfrog steps "+
			"(--%s %d, shorter than one tuning block of %d trajectories), so the run kept the starting %d steps (tau/steps = %g); "+
			"raise --%s (the default is %d) or give --%s",
			n, flagTherm, therm, sampler.TuneBlock, steps, eps, flagTherm, hmcTherm, flagMDSteps)
	case tune && steps < sampler.MaxTuneSteps:
		return fmt.Errorf("hmc: no trajectory was accepted in %d: thermalization ended before the tuning of the leapfrog steps "+
			"reached an acceptance of %g (--%s %d: %d tuning blocks of %d trajectories, ending at %d steps, tau/steps = %g); "+
			"raise --%s, or give --%s above %d",
			n, sampler.TuneLow, flagTherm, therm, therm/sampler.TuneBlock, sampler.TuneBlock, steps, eps, flagTherm, flagMDSteps, steps)
	}
	return fmt.Errorf("hmc: no trajectory was accepted in %d; the leapfrog step tau/steps = %g is too large: raise --%s or lower --%s", n, eps, flagMDSteps, flagTau)
}

// writeReport prints a run's report as text or JSON.
func writeReport(w io.Writer, rep observables.Report, asJSON bool) error {
	if asJSON {
		return rep.WriteJSON(w)
	}
	return rep.Write(w)
}
