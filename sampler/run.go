package sampler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"latflow/dataset"
	"latflow/ensemble"
	"latflow/observables"
)

// Run is a set of Markov chains of one target, driven by one Update per
// chain: thermalization, measurement of every step, the dataset parts and
// checkpoints of each chain, resume and cancellation. latflow hmc and
// latflow sample, and cluster tasks, are this runner with different
// updates.
type Run struct {
	Target ensemble.Target
	// Seed and the chain ids FirstChain, ..., FirstChain+Chains-1 determine
	// the random streams (NewStream): chain c is the same bit for bit in
	// any run that has it.
	Seed       uint64
	FirstChain int
	Chains     int
	// Therm steps per chain are run first and not measured; N steps per
	// chain are measured.
	Therm, N int
	// Cold starts every chain from the ordered configuration (all links 0,
	// phi = 0) instead of a random one.
	Cold bool
	// NewUpdate returns the update of chain id c, with its random streams
	// from NewStream(Seed, c, k).
	NewUpdate func(chain int) (Update, error)

	// Out is the dataset directory ("" for none). Each chain writes its
	// rows there in parts of PartRows rows (0: dataset.DefaultRowsPerPart),
	// with the configuration every SaveEvery steps (0: never), and keeps a
	// checkpoint beside them (CheckpointName).
	Out       string
	SaveEvery int
	PartRows  int
	// ConfigFloat32 stores the saved configurations as float32 (half the
	// bytes; relative rounding at most 2^-24, see package dataset).
	ConfigFloat32 bool
	// Sampler names the sampler in the dataset metadata ("hmc", "imh");
	// Settings are the parameters that determine the chains (flag name ->
	// value), stored in the metadata and the checkpoints, and compared on
	// resume.
	Sampler  string
	Settings map[string]string
	// Resume continues the chains from their checkpoints in Out: after an
	// interruption, a crash, or a finished run when N has grown.
	Resume bool
	// Version is the latflow version recorded in the dataset.
	Version string

	Hooks Hooks
}

// Hooks lets the caller watch a run.
type Hooks struct {
	// Progress, if set, is called with the number of steps done (of
	// Chains * (Therm + N)); Resumed, if set, with the steps a resumed chain
	// had done before. Both must be safe for concurrent use.
	Progress, Resumed func(steps int64)
	// Tracer, if set, records a span per chain for thermalization and
	// production and one per dataset part.
	Tracer trace.Tracer
}

// ChainResult is what one chain measured: every row of the chain,
// including those of earlier runs it resumed.
type ChainResult struct {
	ID int
	// Action, Obs (per measurement and update column), Accepted and Kind
	// (KindHMC or KindFlow) have one entry per measured step.
	Action   []float64
	Obs      map[string][]float64
	Accepted []bool
	Kind     []string
	// Resumed is the number of rows read back from the dataset; Saved the
	// number of rows in complete parts at the end; Ran the number of steps
	// this run made, thermalization included.
	Resumed, Saved, Ran int64
	// Measured is the number of measured steps this run made and Seconds
	// their wall time (thermalization, which may run other trajectory
	// lengths, excluded).
	Measured int64
	Seconds  float64
	// Update is the chain's update at the end (its tuned parameters).
	Update Update
}

// Result is what a run measured.
type Result struct {
	Chains []ChainResult
}

// Series returns the measurements of all chains as replicas.
func (r *Result) Series() observables.Series {
	s := observables.Series{Obs: map[string][][]float64{}}
	for _, c := range r.Chains {
		s.Action = append(s.Action, c.Action)
		for k, v := range c.Obs {
			s.Obs[k] = append(s.Obs[k], v)
		}
	}
	return s
}

// Saved returns the number of rows in complete dataset parts, over all
// chains.
func (r *Result) Saved() int64 {
	if r == nil {
		return 0
	}
	var n int64
	for _, c := range r.Chains {
		n += c.Saved
	}
	return n
}

// SecondsPerStep returns the wall time per measured step of one chain in
// this run (chains run in parallel), or 0 if no step was measured.
func (r *Result) SecondsPerStep() float64 {
	var sec float64
	var n int64
	for _, c := range r.Chains {
		sec += c.Seconds
		n += c.Measured
	}
	if n == 0 {
		return 0
	}
	return sec / float64(n)
}

// Steps returns the number of measured steps of all chains.
func (r *Result) Steps() int64 {
	if r == nil {
		return 0
	}
	var n int64
	for _, c := range r.Chains {
		n += int64(len(c.Action))
	}
	return n
}

// ErrSettings is wrapped by the errors of Run.Start that come from a
// setting given by the user: an existing dataset without Resume, a
// checkpoint made with other settings.
var ErrSettings = errors.New("sampler: settings")

// SettingError is a run setting that conflicts with what is on disk; Flag
// names the setting as on the command line.
type SettingError struct {
	Flag string
	Msg  string
}

func (e *SettingError) Error() string { return e.Msg }
func (e *SettingError) Unwrap() error { return ErrSettings }

func (r *Run) validate() error {
	switch {
	case r.Chains < 1:
		return fmt.Errorf("sampler: Run: %d chains, want >= 1", r.Chains)
	case r.FirstChain < 0 || r.FirstChain+r.Chains-1 > MaxChainID:
		return fmt.Errorf("sampler: Run: chain ids %d to %d, want 0 to %d", r.FirstChain, r.FirstChain+r.Chains-1, MaxChainID)
	case r.Therm < 0 || r.N < 1:
		return fmt.Errorf("sampler: Run: %d thermalization and %d measured steps, want >= 0 and >= 1", r.Therm, r.N)
	case r.SaveEvery < 0 || r.PartRows < 0:
		return fmt.Errorf("sampler: Run: SaveEvery %d, PartRows %d, want >= 0", r.SaveEvery, r.PartRows)
	case r.NewUpdate == nil:
		return fmt.Errorf("sampler: Run: no NewUpdate")
	case r.Resume && r.Out == "":
		return &SettingError{Flag: "resume", Msg: "resuming needs the dataset directory of the run (--out DIR)"}
	}
	return r.Target.Validate()
}

// Check checks the run without computing or writing anything: the
// settings, and the dataset directory if it exists: without Resume it must
// not hold any of the run's chains; with Resume every chain that has parts
// must have its checkpoint, made with the same target, seed and settings.
// Prepare calls it; a caller that only validates (latflow submit) calls it
// alone.
func (r *Run) Check() error {
	if err := r.validate(); err != nil {
		return err
	}
	if r.Out == "" {
		return nil
	}
	st, err := os.Stat(r.Out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return &SettingError{Flag: "out", Msg: fmt.Sprintf("--out: %v", err)}
	case !st.IsDir():
		return &SettingError{Flag: "out", Msg: fmt.Sprintf("--out %s exists and is not a directory", r.Out)}
	}
	return r.checkChains()
}

// Prepare checks the run (Check) and creates the dataset directory, which
// must be writable (tested by writing a file). Start calls it.
func (r *Run) Prepare() error {
	if err := r.Check(); err != nil {
		return err
	}
	if r.Out == "" {
		return nil
	}
	if err := os.MkdirAll(r.Out, 0o755); err != nil {
		return &SettingError{Flag: "out", Msg: fmt.Sprintf("--out: %v", err)}
	}
	probe, err := os.CreateTemp(r.Out, ".latflow-write-test-*")
	if err != nil {
		return &SettingError{Flag: "out", Msg: fmt.Sprintf("--out %s is not writable: %v", r.Out, err)}
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// checkChains checks the run's chains in the existing directory Out.
func (r *Run) checkChains() error {
	for c := r.FirstChain; c < r.FirstChain+r.Chains; c++ {
		if _, err := r.checkChain(c); err != nil {
			return err
		}
	}
	return r.checkEnsemble()
}

// checkEnsemble refuses a directory Out whose chains, the run's or others,
// belong to another ensemble than the run's target: a dataset holds one
// ensemble, and a new chain of another would be refused only when it
// writes its first part, after its thermalization.
func (r *Run) checkEnsemble() error {
	chains, err := dataset.Inspect(r.Out)
	if err != nil {
		return err
	}
	for _, c := range chains {
		m := c.Meta
		other := ensemble.Target{Theory: m.Theory, L: m.L, Couplings: m.Couplings, Parametrization: m.Parametrization}
		if name, a, b := other.Diff(r.Target); name != "" {
			return &SettingError{Flag: "out", Msg: fmt.Sprintf("--out %s holds chain %d of another ensemble (%s=%s there, %s=%s in this run); a dataset holds one ensemble: choose a new directory (nothing was written)",
				r.Out, c.ID, name, a, name, b)}
		}
	}
	return nil
}

// checkChain checks what Out holds of chain c against the run, without
// changing anything, and returns its checkpoint (nil if none): without
// Resume the chain must have neither parts nor checkpoint; with Resume a
// chain with parts must have a checkpoint, made with the same target, seed
// and settings, and every part it counts must be there.
func (r *Run) checkChain(c int) (*checkpoint, error) {
	next, err := dataset.NextPart(r.Out, c)
	if err != nil {
		return nil, err
	}
	ck, err := loadCheckpoint(r.Out, c)
	if err != nil {
		return nil, err
	}
	switch {
	case !r.Resume && (next > 0 || ck != nil):
		return nil, &SettingError{Flag: "out", Msg: fmt.Sprintf("--out %s already holds chain %d; continue it with --resume or choose a new directory (nothing was overwritten)", r.Out, c)}
	case r.Resume && ck == nil && next > 0:
		return nil, &SettingError{Flag: "resume", Msg: fmt.Sprintf("--resume: chain %d in %s has parts but no checkpoint %s; it was not written by a resumable run", c, r.Out, CheckpointName(c))}
	case r.Resume && ck != nil:
		if err := ck.compatible(r, c); err != nil {
			return nil, err
		}
		for k := range ck.Part {
			name := dataset.PartName(c, k)
			if _, err := os.Stat(filepath.Join(r.Out, name)); err != nil {
				return nil, fmt.Errorf("sampler: --resume: chain %d in %s is damaged: %s is missing, and its checkpoint %s "+
					"counts %d parts (%d steps); nothing was changed: restore the part, or run the chain again in a new directory",
					c, r.Out, name, CheckpointName(c), ck.Part, ck.Step)
			}
		}
	}
	return ck, nil
}

// Start runs the chains in parallel until each has N measured steps, ctx
// is cancelled or a chain fails. On cancellation every chain stops after
// its current step, writes its rows and its checkpoint, and Start returns
// the Result so far with ctx's error. Rows equal those of an uninterrupted
// run bit for bit when the run is resumed.
func (r *Run) Start(ctx context.Context) (*Result, error) {
	if err := r.Prepare(); err != nil {
		return nil, err
	}
	states, err := r.claim()
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, st := range states {
			st.lock.Unlock() // a no-op for the locks a Writer took over
		}
	}()
	res := &Result{Chains: make([]ChainResult, r.Chains)}
	errs := make([]error, r.Chains)
	var wg sync.WaitGroup
	for i := 0; i < r.Chains; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := r.FirstChain + i
			res.Chains[i], errs[i] = r.runChain(ctx, c, states[i])
			if errs[i] != nil && ctx.Err() == nil {
				errs[i] = fmt.Errorf("chain %d: %w", c, errs[i])
			}
		}(i)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, errors.Join(errs...)
}

// chainState is what a chain starts from: its lock, and when resuming its
// checkpoint and the rows of its earlier runs.
type chainState struct {
	lock  *dataset.ChainLock // nil without Out
	ck    *checkpoint
	prior *dataset.Chain
}

// claim takes the lock of every chain of the run in Out, so that another
// run of them, in this process or another, fails here and nothing that
// this run reads changes until it writes. Under the locks it checks the
// chains again (checkChain), and when resuming reads and verifies the rows
// of each chain that its checkpoint counts. Only when every chain passes
// does it remove the parts that a crash left behind a checkpoint: a refused
// run changes nothing in Out.
func (r *Run) claim() (states []chainState, err error) {
	states = make([]chainState, r.Chains)
	if r.Out == "" {
		return states, nil
	}
	defer func() {
		if err != nil {
			for _, st := range states {
				st.lock.Unlock()
			}
		}
	}()
	for i := range states {
		if states[i].lock, err = dataset.LockChain(r.Out, r.FirstChain+i); err != nil {
			return nil, err
		}
	}
	for i := range states {
		c := r.FirstChain + i
		st := &states[i]
		if st.ck, err = r.checkChain(c); err != nil || st.ck == nil || st.ck.Part == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		if st.prior, err = dataset.ReadChain(r.Out, c, st.ck.Part, dataset.OpenOptions{}); err != nil {
			return nil, fmt.Errorf("sampler: --resume: chain %d in %s cannot be continued (nothing was changed): %w", c, r.Out, err)
		}
		if n := int64(len(st.prior.Steps)); n != st.ck.Step || n > 0 && st.prior.Steps[0] != 0 || st.prior.Meta.Seed != r.Seed {
			return nil, fmt.Errorf("sampler: --resume: chain %d in %s is damaged: its %d parts hold %d rows from step %d with seed %d, "+
				"its checkpoint %s counts %d rows from step 0 with seed %d; nothing was changed: run the chain again in a new directory",
				c, r.Out, st.ck.Part, n, firstStep(st.prior), st.prior.Meta.Seed, CheckpointName(c), st.ck.Step, r.Seed)
		}
	}
	for i := range states {
		if st := states[i]; st.ck != nil {
			if err := st.lock.RemovePartsFrom(st.ck.Part); err != nil {
				return nil, err
			}
		}
	}
	return states, nil
}

// firstStep returns the first step of a chain, or 0 without rows.
func firstStep(c *dataset.Chain) int64 {
	if len(c.Steps) == 0 {
		return 0
	}
	return c.Steps[0]
}

// runChain runs chain id c, continuing from prior rows and its checkpoint
// when resuming.
func (r *Run) runChain(ctx context.Context, c int, state chainState) (cr ChainResult, err error) {
	tracer := r.Hooks.Tracer
	if tracer == nil {
		tracer = noop.NewTracerProvider().Tracer("")
	}
	progress := func(n int64) {
		if r.Hooks.Progress != nil {
			r.Hooks.Progress(n)
		}
	}
	chainAttr := attribute.Int("latflow.chain", c)
	upd, err := r.NewUpdate(c)
	if err != nil {
		return cr, err
	}
	cr = ChainResult{ID: c, Obs: map[string][]float64{}, Update: upd}
	meas := observables.NewMeasurer(r.Target)
	mcols, ucols := meas.Columns(), upd.Columns()
	x := make([]float64, r.Target.Size())

	ck, prior := state.ck, state.prior
	step, part := int64(0), 0
	if ck != nil {
		if err := ck.restore(x, upd); err != nil {
			return cr, err
		}
		step, part = ck.Step, ck.Part
		if prior != nil {
			if err := cr.appendPrior(prior, mcols, ucols); err != nil {
				return cr, err
			}
		}
		if int64(len(cr.Action)) != step {
			return cr, fmt.Errorf("sampler: resume: chain %d has %d rows in %s, its checkpoint %d", c, len(cr.Action), r.Out, step)
		}
		cr.Resumed = step
		if r.Hooks.Resumed != nil {
			r.Hooks.Resumed(int64(r.Therm) + step)
		}
	} else {
		if !r.Cold {
			r.Target.StartTo(x, rand.New(NewStream(r.Seed, c, StreamStart)))
		}
		_, span := tracer.Start(ctx, "thermalization", trace.WithAttributes(chainAttr, attribute.Int("latflow.steps", r.Therm)))
		for i := 0; i < r.Therm; i++ {
			if err := ctx.Err(); err != nil {
				span.End()
				return cr, err
			}
			if _, err := upd.Step(x); err != nil {
				span.End()
				return cr, fmt.Errorf("thermalization step %d: %w", i, err)
			}
			cr.Ran++
			progress(1)
		}
		span.End()
	}
	if t, ok := upd.(Thermalizer); ok {
		t.EndThermalization()
	}
	var configs int64 // configurations written by this run
	pctx, span := tracer.Start(ctx, "production", trace.WithAttributes(chainAttr, attribute.Int64("latflow.steps", int64(r.N))))
	defer func() {
		span.SetAttributes(attribute.Int64("latflow.measured", int64(len(cr.Action))),
			attribute.Int64("latflow.rows_saved", cr.Saved-cr.Resumed), attribute.Int64("latflow.saved", configs))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	var w *dataset.Writer
	partAcc, partRows := 0, 0
	// The update columns of the dataset rows (DatasetColumns), and whether
	// the directory has the layout of before (datasetLayout).
	dcols, legacy := DatasetColumns(ucols), false
	if r.Out != "" {
		var sp dataset.Spec
		if sp, dcols, legacy, err = r.datasetLayout(c, mcols, ucols); err != nil {
			return cr, err
		}
		w, err = dataset.Create(r.Out, sp, dataset.WriterOptions{
			RowsPerPart: r.PartRows, FirstPart: part, Lock: state.lock,
			OnPart: func(path string, rows int, dur time.Duration) {
				part++
				_, ps := tracer.Start(pctx, "part", trace.WithTimestamp(time.Now().Add(-dur)), trace.WithAttributes(chainAttr,
					attribute.String("latflow.part", filepath.Base(path)), attribute.Int("latflow.rows", rows),
					attribute.Float64("latflow.acceptance", float64(partAcc)/float64(max(1, partRows)))))
				ps.End()
				partAcc, partRows = 0, 0
			},
		})
		if err != nil {
			return cr, err
		}
		defer func() {
			// Rows already measured are complete: keep them, also on
			// interrupt, and the checkpoint that continues after them.
			if cerr := w.Close(); cerr != nil && err == nil {
				err = cerr
			}
			cr.Saved = w.RowsSaved() + cr.Resumed
			if err == nil || ctx.Err() != nil {
				if cerr := r.saveCheckpoint(c, int64(len(cr.Action)), part, x, upd); cerr != nil && err == nil {
					err = cerr
				}
			}
		}()
	}
	if w != nil && ck == nil {
		// The first checkpoint is written under the chain's lock (taken by
		// Create), so that a second run of the same chain id, say from a
		// wrong --chain-offset, fails at Create without replacing the
		// checkpoint of the run that owns the chain.
		if err := r.saveCheckpoint(c, 0, 0, x, upd); err != nil {
			return cr, err
		}
	}

	m := make([]float64, len(mcols))
	action := meas.MeasureTo(m, x)
	vals := make([]float64, len(mcols)+len(ucols))
	// The dataset row: the measurements, then every update column of
	// dcols, null where the step has none.
	rowVals := make([]float64, len(mcols)+len(dcols))
	rowNull := make([]bool, len(rowVals))
	start := time.Now()
	defer func() { cr.Seconds = time.Since(start).Seconds() }()
	for ; step < int64(r.N); step++ {
		if err := ctx.Err(); err != nil {
			return cr, err
		}
		t0 := time.Now()
		st, err := upd.Step(x)
		if err != nil {
			return cr, fmt.Errorf("step %d: %w", step, err)
		}
		if st.Accepted {
			action = meas.MeasureTo(m, x)
		}
		seconds := time.Since(t0).Seconds()
		copy(vals, m)
		for k, name := range ucols {
			vals[len(mcols)+k] = st.value(name)
		}
		cr.add(action, vals, mcols, ucols, st)
		cr.Ran++
		cr.Measured++
		if w != nil {
			partRows++
			if st.Accepted {
				partAcc++
			}
			copy(rowVals, m)
			for k, name := range dcols {
				rowVals[len(mcols)+k], rowNull[len(mcols)+k] = st.value(name), !st.has(name)
			}
			row := dataset.Row{Step: step, Accepted: st.Accepted, Action: action, Obs: rowVals, Null: rowNull,
				Labels: []string{st.Kind}, Seconds: seconds}
			if legacy {
				row.Null = nil // NaN where the step has no value, as before
			}
			if r.SaveEvery > 0 && step%int64(r.SaveEvery) == 0 {
				row.Config = x
				configs++
			}
			before := part
			if err := w.Append(row); err != nil {
				return cr, err
			}
			if part != before {
				if err := r.saveCheckpoint(c, step+1, part, x, upd); err != nil {
					return cr, err
				}
			}
		}
		progress(1)
	}
	return cr, nil
}

// add appends one measured step.
func (cr *ChainResult) add(action float64, vals []float64, mcols, ucols []string, st Step) {
	cr.Action = append(cr.Action, action)
	for k, name := range mcols {
		cr.Obs[name] = append(cr.Obs[name], vals[k])
	}
	for k, name := range ucols {
		cr.Obs[name] = append(cr.Obs[name], vals[len(mcols)+k])
	}
	cr.Accepted = append(cr.Accepted, st.Accepted)
	cr.Kind = append(cr.Kind, st.Kind)
}

// appendPrior takes the rows of an earlier run of the chain.
func (cr *ChainResult) appendPrior(p *dataset.Chain, mcols, ucols []string) error {
	cr.Action = append(cr.Action, p.Action...)
	cr.Accepted = append(cr.Accepted, p.Accepted...)
	for _, name := range append(append([]string(nil), mcols...), ucols...) {
		col, ok := p.Obs[name]
		if !ok {
			return fmt.Errorf("sampler: resume: chain %d in %s has no column %q", p.ID, p.Dir, name)
		}
		cr.Obs[name] = append(cr.Obs[name], col...)
	}
	kinds := p.Labels[ColUpdate]
	if len(kinds) != len(p.Action) {
		return fmt.Errorf("sampler: resume: chain %d in %s has no column %q", p.ID, p.Dir, ColUpdate)
	}
	cr.Kind = append(cr.Kind, kinds...)
	return nil
}

// datasetLayout returns the spec of chain c (spec) and the update columns
// of its rows (DatasetColumns), or, in a directory whose parts were written
// before every dataset had the same columns (observables mcols then ucols,
// no nulls; a configuration column only with SaveEvery), that layout and
// legacy true, so that a run resumes or adds chains there; its rows then
// hold NaN where a step has no value, as before.
func (r *Run) datasetLayout(c int, mcols, ucols []string) (sp dataset.Spec, dcols []string, legacy bool, err error) {
	sp = r.spec(c, mcols, ucols)
	old, format, ok, err := dataset.Layout(r.Out)
	before := append(append([]string(nil), mcols...), ucols...)
	if err != nil || !ok || format != dataset.FormatVersion2 || slices.Equal(old.Observables, sp.Observables) ||
		!slices.Equal(old.Observables, before) {
		return sp, DatasetColumns(ucols), false, err
	}
	sp.Observables = before
	if r.SaveEvery <= 0 {
		sp.ConfigName, sp.ConfigSize, sp.ConfigFloat32 = "", 0, false
	}
	return sp, ucols, true, nil
}

// MaxChainID is the largest chain id (a dataset stores it as int32).
const MaxChainID = math.MaxInt32

// ColUpdate is the dataset column that names the update of each row
// (KindHMC or KindFlow).
const ColUpdate = "update"

// spec is the dataset layout and metadata of chain c, for measurement
// columns mcols and an update with columns ucols: every dataset of a theory
// has the same columns (DatasetColumns, and the configuration column also
// without --save-every, then all null), so that datasets of hmc and sample,
// with and without saved configurations, concatenate.
func (r *Run) spec(c int, mcols, ucols []string) dataset.Spec {
	sp := dataset.Spec{
		Meta: dataset.Meta{
			Theory: r.Target.Theory, L: r.Target.L, Couplings: maps.Clone(r.Target.Couplings),
			Parametrization: r.Target.Parametrization,
			Sampler:         r.Sampler, SamplerSettings: maps.Clone(r.Settings),
			Seed: r.Seed, Chain: c, Version: r.Version,
		},
		Observables: append(append([]string(nil), mcols...), DatasetColumns(ucols)...),
		Labels:      []string{ColUpdate},
		ConfigName:  r.Target.ConfigName(), ConfigSize: r.Target.Size(), ConfigFloat32: r.ConfigFloat32,
	}
	return sp
}
