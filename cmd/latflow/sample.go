package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strconv"

	"github.com/urfave/cli/v2"

	"latflow/ensemble"
	"latflow/fermion"
	"latflow/flow"
	"latflow/gauge"
	"latflow/models"
	"latflow/nn"
	"latflow/observables"
	"latflow/sampler"
)

// sampleOptions are the flags of latflow sample.
type sampleOptions struct {
	target     targetOptions
	chain      chainOptions
	model      string
	proposal   string
	constraint string
	exact      bool
	batch      int
	hmcEvery   int
	traj       trajectoryOptions
	precision  string
	set        flagSet
}

// Bounds of the sample flags.
const (
	maxBatch    = 1 << 16
	maxHMCEvery = 1 << 30
)

func sampleCommand() *cli.Command { return newSampleCommand(&sampleOptions{}) }

// newSampleCommand returns the sample command, whose flags land in o.
func newSampleCommand(o *sampleOptions) *cli.Command {
	return &cli.Command{
		Name:      "sample",
		UsageText: sampleUsage,
		Usage:     "sample with a normalizing flow as independence-Metropolis proposal, with Gamma-method errors",
		Description: "Runs --chains independence-Metropolis chains of --n flow proposals each: a proposal x' ~ q\n" +
			"is accepted with probability min(1, w(x')/w(x)), w = exp(-S)/q, so the chain samples exp(-S)\n" +
			"exactly whatever the flow. Proposals are drawn --batch at a time on all cores, then accepted\n" +
			"in order: the chain does not depend on the number of threads. With --hmc-every K, one HMC\n" +
			"trajectory follows every K proposals (still exact; it helps where the acceptance is low).\n\n" +
			"Without --model, a shipped model trained for the target (the same L and action) is used if\n" +
			"there is one, else the default shipped model of the theory (latflow models lists them); a\n" +
			"flow applies to any L its masks allow and to any couplings of its theory, at the acceptance\n" +
			"it reaches there; a U(1) flow on the plaquette base draws from its base at the target's beta.\n" +
			"Prints the Gamma-method table, the acceptance, the longest run of rejections, ESS/N of the\n" +
			"proposals and the importance-sampling estimate of log Z (for U(1) with the exact value in\n" +
			"the flat-measure convention of the flows). If the chains accepted fewer than 100 proposals,\n" +
			"or one stood still for more than 1% of its steps, every row is marked unreliable and no\n" +
			"deviation (dev/sigma = (mean - exact) / error) is shown.\n\n" +
			"schwinger (L <= 16) puts the exact determinant in the weight, w = exp(-S_g) det(D)^2 / q, with\n" +
			"proposals from a U(1) flow (--model; without it the shipped model trained for the target, if\n" +
			"there is one) or else from the plaquettes at --beta; --hmc-every runs HMC on the exact\n" +
			"effective action S_g - log det(D^dagger D).",
		Flags: append(append(append(o.target.flags(), o.chain.flags(10000, 0, "proposals")...), o.traj.flags("with --hmc-every: ", fallbackTau)...),
			&cli.StringFlag{Name: flagModel, Destination: &o.model, Usage: "model file written by latflow train (default: the shipped model trained for the target, else the theory's default)"},
			&cli.StringFlag{Name: flagProposal, Value: proposalFlow, Destination: &o.proposal, Usage: "proposal: flow (a trained model) or plaquettes (u1 and schwinger: independent plaquettes from their von Mises marginal at --beta, no training)", DefaultText: "flow; for schwinger without --model the shipped model trained for the target, else plaquettes"},
			&cli.StringFlag{Name: flagConstraint, Value: gauge.ConstraintSpread.String(), Destination: &o.constraint, Usage: "with --proposal plaquettes: how the plaquettes meet sum P = 0 mod 2pi: random (one plaquette fixed by it, chosen for each sample), fixed (always the last) or spread (all drawn, each shifted by the same amount; the highest acceptance)"},
			&cli.BoolFlag{Name: flagExact, Destination: &o.exact, Usage: "with --proposal plaquettes: write independent exact samples (rejection on the constrained plaquette) instead of a Markov chain, e.g. as training data"},
			&cli.IntFlag{Name: flagBatch, Value: 256, Destination: &o.batch, Usage: fmt.Sprintf("proposals drawn per batch, in parallel (1 to %d)", maxBatch)},
			&cli.IntFlag{Name: flagHMCEvery, Destination: &o.hmcEvery, Usage: "one HMC trajectory after every K flow proposals (0: flow only)"},
			&cli.StringFlag{Name: flagPrecision, Value: precisionFloat32, Destination: &o.precision, Usage: "flow arithmetic: float32 (half the time, the same table to the printed digits) or float64; log q is accumulated in float64 either way"},
		),
		Action: chainAction(o, func(ctx context.Context, stdout, stderr io.Writer) error {
			return runSample(ctx, o, stdout, stderr)
		}),
	}
}

// loadedModel is a model with the bytes it came from.
type loadedModel struct {
	flow.Model
	name   string // file name, or "shipped:NAME"
	sha256 string
}

// shippedModels are the models latflow ships (models.Shipped); tests put a
// registry of their own here.
var shippedModels = models.Shipped

// loadModel reads the model file given by flag, the shipped model NAME if
// path is "shipped:NAME", or the default shipped model of theory if path
// is empty.
func loadModel(path, theory, flag string) (*loadedModel, error) {
	var name string
	var b []byte
	if shipped, ok := shippedName(path); ok {
		info, data, err := shippedModels.Get(shipped)
		if err != nil {
			return nil, usagef("--%s: %v", flag, err)
		}
		name, b = models.Prefix+info.Name, data
	} else if path == "" {
		info, data, err := shippedModels.Default(theory)
		if err != nil {
			return nil, err
		}
		name, b = models.Prefix+info.Name, data
	} else {
		var err error
		if b, err = flow.ReadFile(path); err != nil {
			return nil, usagef("--%s: %v", flag, err)
		}
		name = path
	}
	return decodeModel(name, b, flag)
}

// decodeModel decodes the model file b read as name (for flag's errors).
func decodeModel(name string, b []byte, flag string) (*loadedModel, error) {
	m, err := flow.Decode(name, b)
	if err != nil {
		return nil, usagef("--%s: %v", flag, err)
	}
	sum := sha256.Sum256(b)
	return &loadedModel{Model: m, name: name, sha256: hex.EncodeToString(sum[:])}, nil
}

// sampleModel loads sample's model: the --model file if given, else the
// shipped model trained for the target t (models.Registry.ForTarget: the
// same theory, L and action) if there is one, else the shipped default of
// the theory. picked reports the second case when the model is not the
// default anyway.
func sampleModel(path string, t ensemble.Target) (m *loadedModel, picked bool, err error) {
	if path == "" {
		info, data, ok, err := shippedModels.ForTarget(t)
		if err != nil {
			return nil, false, err
		}
		if ok {
			m, err := decodeModel(models.Prefix+info.Name, data, flagModel)
			return m, !info.Default, err
		}
	}
	m, err = loadModel(path, modelTheory(t.Theory), flagModel)
	return m, false, err
}

// The samplers of hmc and sample as the dataset metadata names them
// (latflow.sampler).
const (
	samplerHMC   = "hmc"
	samplerIMH   = "imh"   // sample's independence Metropolis
	samplerExact = "exact" // sample --exact
)

// Proposals of latflow sample.
const (
	proposalFlow       = "flow"
	proposalPlaquettes = "plaquettes"
)

// validConstraint reports whether name is a constraint mode of package gauge.
func validConstraint(name string) bool {
	_, err := gauge.ParseConstraintMode(name)
	return err == nil
}

// checkFlags checks the flags of sample that need no file.
func (o *sampleOptions) checkFlags(t ensemble.Target) error {
	plaq := o.proposal == proposalPlaquettes
	switch {
	case t.Theory == theorySchwinger && t.L > fermion.MaxDenseL:
		return usagef("--%s must be at most %d for sample --%s %s (the weight needs the exact determinant, a dense LU); got %d: use latflow hmc for larger lattices",
			flagL, fermion.MaxDenseL, flagTheory, theorySchwinger, t.L)
	case o.proposal != proposalFlow && !plaq:
		return usagef("--%s must be %s or %s, got %q", flagProposal, proposalFlow, proposalPlaquettes, o.proposal)
	case plaq && !t.Gauge():
		return usagef("--%s %s is a proposal for --%s %s or %s only, this run has --%s %s", flagProposal, proposalPlaquettes, flagTheory, theoryU1, theorySchwinger, flagTheory, t.Theory)
	case o.exact && t.Theory != theoryU1:
		return usagef("--%s applies to --%s %s only (exact samples of the pure gauge theory), this run has --%s %s", flagExact, flagTheory, theoryU1, flagTheory, t.Theory)
	case plaq && o.set[flagModel]:
		return usagef("--%s and --%s %s exclude each other (the plaquette proposal is not trained)", flagModel, flagProposal, proposalPlaquettes)
	case !plaq && (o.set[flagConstraint] || o.exact):
		return usagef("--%s and --%s apply with --%s %s only", flagConstraint, flagExact, flagProposal, proposalPlaquettes)
	case !validConstraint(o.constraint):
		return usagef("--%s must be %s, %s or %s, got %q", flagConstraint, gauge.ConstraintRandom, gauge.ConstraintFixed, gauge.ConstraintSpread, o.constraint)
	case o.exact && o.hmcEvery > 0:
		return usagef("--%s and --%s exclude each other: exact samples are independent already", flagExact, flagHMCEvery)
	case o.exact && o.set[flagConstraint]:
		return usagef("--%s takes no --%s (the exact sampler rejects on the last plaquette)", flagExact, flagConstraint)
	}
	switch {
	case o.batch < 1 || o.batch > maxBatch:
		return usagef("--%s must be between 1 and %d, got %d", flagBatch, maxBatch, o.batch)
	case o.hmcEvery < 0 || o.hmcEvery > maxHMCEvery:
		return usagef("--%s must be zero (flow only) or between 1 and %d, got %d", flagHMCEvery, maxHMCEvery, o.hmcEvery)
	case o.hmcEvery == 0 && (o.set[flagTau] || o.set[flagMDSteps] || o.set[flagTauJitter]):
		return usagef("--%s, --%s and --%s apply with --%s K only", flagTau, flagMDSteps, flagTauJitter, flagHMCEvery)
	case o.precision != precisionFloat64 && o.precision != precisionFloat32:
		return usagef("--%s must be %s or %s, got %q", flagPrecision, precisionFloat64, precisionFloat32, o.precision)
	}
	return nil
}

// samplePlan is a sample run that validate has checked, not yet started.
type samplePlan struct {
	target ensemble.Target
	hmc    sampler.HMC
	source string   // the proposal, for the output
	notes  []string // notes on the run, for stderr and the report
	exact  bool     // independent exact samples (runExactSamples)
	run    *sampler.Run
	// trainSeconds is the flow's training time from its provenance, the
	// models it started from included (flow.Provenance.TotalWall).
	trainSeconds float64
}

func (o *sampleOptions) options() (*flagSet, *targetOptions, *chainOptions) {
	return &o.set, &o.target, &o.chain
}

// validateRun validates the flags (validate) and returns the run.
func (o *sampleOptions) validateRun() (*sampler.Run, error) {
	var p samplePlan
	err := o.validate(&p)
	return p.run, err
}

// validate is sample's one validation path: it checks every flag, the
// memory of the run, the model (read and built at the target's L) and the
// dataset in --out (sampler.Run.Check), without running or writing
// anything, and fills plan with the run. runSample runs it; submit calls
// validate for the command it wraps.
func (o *sampleOptions) validate(plan *samplePlan) error {
	t, err := o.target.target()
	if err != nil {
		return err
	}
	if err := o.chain.validate(); err != nil {
		return err
	}
	if t.Theory == theorySchwinger && !o.set[flagProposal] && !o.set[flagModel] {
		// The Schwinger model has no default flow: the shipped model
		// trained for this target if there is one, else the plaquette
		// proposal at the gauge beta.
		_, _, ok, err := shippedModels.ForTarget(t)
		if err != nil {
			return err
		}
		if !ok {
			o.proposal = proposalPlaquettes
		}
	}
	if err := o.checkFlags(t); err != nil {
		return err
	}
	batchMem := memTerm{flagBatch, strconv.Itoa(o.batch), float64(4 * 8 * o.batch * t.Size()), "proposal batches"}
	if err := checkMemory(chainMemory(&o.chain, t.Size(), len(observables.Columns(t))+4, batchMem)); err != nil {
		return err
	}
	h, hopt, hsettings, err := o.traj.hmc(o.set)
	if err != nil {
		return err
	}
	if hopt.AutoTau != nil {
		return usagef("--%s %s is for latflow hmc; with --%s give a length (0 < tau <= %d)", flagTau, tauAuto, flagHMCEvery, maxTau)
	}
	settings := map[string]string{
		flagProposal: o.proposal, flagBatch: strconv.Itoa(o.batch), flagHMCEvery: strconv.Itoa(o.hmcEvery),
	}
	if o.hmcEvery > 0 {
		maps.Copy(settings, hsettings)
	}
	var notes []string
	var prop func() sampler.Proposal
	var source string
	var trainSeconds float64
	switch {
	case o.exact:
		r := o.exactRun(t)
		if err := r.Check(); err != nil {
			return runError(err)
		}
		*plan = samplePlan{target: t, exact: true, run: r}
		return nil
	case o.proposal == proposalPlaquettes:
		mode, err := gauge.ParseConstraintMode(o.constraint)
		if err != nil {
			return err
		}
		p, err := gauge.NewPlaquetteProposal(t.L, t.Couplings[ensemble.Beta], mode)
		if err != nil {
			return err
		}
		prop = func() sampler.Proposal { return sampler.PlaquetteProposal{P: p} }
		settings[flagConstraint] = o.constraint
		source = fmt.Sprintf("independent plaquettes, %s constraint", mode)
	default:
		m, picked, err := sampleModel(o.model, t)
		if err != nil {
			return err
		}
		if picked {
			notes = append(notes, fmt.Sprintf("no --%s: %s, the shipped model trained for this target", flagModel, m.name))
		}
		if want := modelTheory(t.Theory); modelTheory(m.Target.Theory) != want {
			return usagef("--%s %s is a flow for --%s %s, this run has --%s %s", flagModel, m.name, flagTheory, m.Target.Theory, flagTheory, t.Theory)
		}
		var baseNote string
		if m.Config.Base == flow.BasePlaquettes {
			from := m.Config.BaseBeta
			m.Model = m.Model.ForTarget(t)
			if m.Config.BaseBeta != from {
				baseNote = fmt.Sprintf(", with its plaquette base at beta=%g (trained on beta=%g)", m.Config.BaseBeta, from)
				// Only then: datasets of models at their own beta resume as before.
				settings["model_base_beta"] = strconv.FormatFloat(m.Config.BaseBeta, 'g', -1, 64)
			}
		}
		if o.precision == precisionFloat32 {
			prop, err = flowProposal[float32](m, t, o.chain.threads)
		} else {
			prop, err = flowProposal[float64](m, t, o.chain.threads)
		}
		if err != nil {
			return err
		}
		settings[flagModel], settings[flagPrecision], settings["model_target"] = m.sha256, o.precision, m.Target.String()
		source = "model " + m.name
		trainSeconds = m.Provenance.TotalWall()
		if !m.Target.Equal(t) {
			note := fmt.Sprintf("the model was trained for %s; sampling %s%s (exact for any proposal; see the acceptance)", m.Target, t, baseNote)
			notes = append(notes, note)
		}
	}
	r := o.chain.run(t, samplerIMH, settings)
	seed := o.chain.seed
	r.NewUpdate = func(c int) (sampler.Update, error) {
		imh, err := sampler.NewIMH(prop(), t.Action(t.Geometry()), o.batch, o.chain.threads,
			sampler.NewStream(seed, c, sampler.StreamProposal), sampler.NewStream(seed, c, sampler.StreamAccept))
		if err != nil || o.hmcEvery == 0 {
			return imh, err
		}
		hu, err := sampler.NewHMCUpdate(h, t.Action(t.Geometry()), t.Size(), sampler.NewStream(seed, c, sampler.StreamHMC), hopt)
		if err != nil {
			return nil, err
		}
		return &sampler.Mixed{IMH: imh, HMC: hu, Every: o.hmcEvery}, nil
	}
	if err := r.Check(); err != nil {
		return runError(err)
	}
	*plan = samplePlan{target: t, hmc: h, source: source, notes: notes, run: r, trainSeconds: trainSeconds}
	return nil
}

func runSample(ctx context.Context, o *sampleOptions, stdout, stderr io.Writer) (err error) {
	var p samplePlan
	if err := o.validate(&p); err != nil {
		return err
	}
	if p.exact {
		return runExactSamples(ctx, o, p.target, p.run, stdout, stderr)
	}
	t, h, source, notes, r, seed := p.target, p.hmc, p.source, p.notes, p.run, o.chain.seed
	for _, note := range notes {
		fmt.Fprintf(stderr, "latflow sample: %s\n", note)
	}
	fmt.Fprintf(stderr, "latflow sample: %s; %s; %d chain(s) x (%d + %d) proposals, batch %d, seed %d\n",
		t, source, o.chain.chains, o.chain.therm, o.chain.n, o.batch, seed)
	res, _, tr, err := runChains(ctx, "sample", &o.chain, r, stderr)
	if err != nil {
		return err
	}
	defer func() { err = tr.finish(err) }()
	rows, tnotes, err := table(t, res)
	if err != nil {
		return err
	}
	var logw [][]float64
	var acc, moved [][]bool
	for _, c := range res.Chains {
		moved = append(moved, c.Accepted)
		var lw []float64
		var a []bool
		for i, k := range c.Kind {
			if k == sampler.KindFlow {
				lw = append(lw, c.Obs[sampler.ColLogWeight][i])
				a = append(a, c.Accepted[i])
			}
		}
		logw, acc = append(logw, lw), append(acc, a)
	}
	sum, err := observables.SummarizeIMH(logw, acc, exactLogZFlat(t))
	if err != nil {
		return err
	}
	desc := fmt.Sprintf("independence Metropolis (%s, batch %d)", source, o.batch)
	if o.hmcEvery > 0 {
		desc = fmt.Sprintf("independence Metropolis with one HMC trajectory (tau=%g) every %d proposals (%s, batch %d)", h.Tau, o.hmcEvery, source, o.batch)
	}
	rep := observables.Report{
		Target: t, Sampler: desc, Chains: o.chain.chains, Measurements: res.Steps(),
		Acceptance: sum.Acceptance, IMH: &sum, Rows: rows, Notes: append(append(notes, tnotes...), sum.Notes()...),
		PerWhat: stepName(samplerIMH), Unreliable: observables.Unreliable(observables.Stuck(moved), observables.FrozenTopology(t, res.Series())), TrainingSeconds: p.trainSeconds,
	}
	if rep.Unreliable != "" {
		advice := "a model trained for this target or more proposals"
		if t.Gauge() {
			advice = "--proposal plaquettes, " + advice
		}
		rep.Notes = append(rep.Notes, "to move the chains: "+advice)
	}
	rep.SecondsPer = res.SecondsPerStep()
	return tr.writeReport(stdout, rep, o.chain.json)
}

// modelTheory returns the theory of the flows that propose for theory: the
// U(1) flows serve the Schwinger model, whose weight adds the determinant.
func modelTheory(theory string) string { return flow.TheoryFor(theory) }

// exactRun returns the run of independent exact samples of a U(1) target.
func (o *sampleOptions) exactRun(t ensemble.Target) *sampler.Run {
	r := o.chain.run(t, samplerExact, map[string]string{flagProposal: o.proposal, flagExact: "true"})
	seed := o.chain.seed
	r.NewUpdate = func(c int) (sampler.Update, error) {
		return sampler.NewExactUpdate(t.L, t.Couplings[ensemble.Beta], sampler.NewStream(seed, c, sampler.StreamProposal))
	}
	return r
}

// runExactSamples writes independent exact samples of a U(1) target with
// the run r of exactRun.
func runExactSamples(ctx context.Context, o *sampleOptions, t ensemble.Target, r *sampler.Run, stdout, stderr io.Writer) (err error) {
	seed := o.chain.seed
	fmt.Fprintf(stderr, "latflow sample: %s; %d x (%d + %d) independent exact samples, seed %d\n", t, o.chain.chains, o.chain.therm, o.chain.n, seed)
	res, _, tr, err := runChains(ctx, "sample", &o.chain, r, stderr)
	if err != nil {
		return err
	}
	defer func() { err = tr.finish(err) }()
	rows, notes, err := table(t, res)
	if err != nil {
		return err
	}
	var tries, n float64
	for _, c := range res.Chains {
		for _, v := range c.Obs[sampler.ColTries] {
			tries += v
			n++
		}
	}
	rep := observables.Report{
		Target: t, Sampler: "exact independent samples (plaquettes with rejection on the constrained one)",
		Chains: o.chain.chains, Measurements: res.Steps(), Acceptance: n / tries,
		Rows: rows, Notes: notes, PerWhat: stepName(samplerExact),
	}
	rep.SecondsPer = res.SecondsPerStep()
	return tr.writeReport(stdout, rep, o.chain.json)
}

// flowProposal builds the flow of m at the target's L in precision T and
// returns a constructor of proposals (one per chain) sharing it.
func flowProposal[T nn.Float](m *loadedModel, t ensemble.Target, threads int) (func() sampler.Proposal, error) {
	f, err := flow.BuildAt[T](m.Model, t.L)
	if err != nil {
		return nil, usagef("--%s %s cannot serve --%s %d: %v", flagModel, m.name, flagL, t.L, err)
	}
	return func() sampler.Proposal { return &sampler.FlowProposal[T]{Flow: f, Workers: threads} }, nil
}

// exactLogZFlat returns the exact log Z of a U(1) target with the flat
// measure on [0, 2pi) per link, the convention of the flows' log q, or NaN
// for phi^4 and where the character expansion cannot give it.
func exactLogZFlat(t ensemble.Target) float64 {
	if t.Theory != ensemble.U1 {
		return math.NaN()
	}
	ex, err := gauge.ExactTorus(t.Couplings[ensemble.Beta], t.L)
	if err != nil && !errors.Is(err, gauge.ErrTopologyFrozen) {
		return math.NaN()
	}
	return ex.LogZ + 2*float64(t.V())*math.Log(2*math.Pi)
}
