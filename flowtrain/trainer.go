package flowtrain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"latflow/flow"
	"latflow/lattice"
	"latflow/nn"
	"latflow/observables"
)

// DefaultMaxSkips is the number of skipped steps in a row (non-finite loss
// or gradient) after which Trainer.Step gives up, if Options.MaxSkips is 0.
const DefaultMaxSkips = 10

// ErrTooManySkips is wrapped by the error Trainer.Step returns when
// MaxSkips steps in a row were skipped.
var ErrTooManySkips = errors.New("too many skipped steps in a row")

// Options configures a Trainer.
type Options struct {
	Objective Objective
	Gradient  GradientType
	// Batch is the number of samples per step, >= 1.
	Batch int
	// Workers is the number of goroutines of the estimator (<= 0:
	// GOMAXPROCS). Results do not depend on it.
	Workers int
	// Schedule gives the learning rate of each update (not nil).
	Schedule Schedule
	// Clip is the maximum gradient norm (ClipNorm); <= 0 means no
	// clipping.
	Clip float64
	// MaxSkips is the number of skipped steps in a row that stops
	// training; 0 means DefaultMaxSkips.
	MaxSkips int
	// Data are the configurations (samples of the target, each of the
	// flow's Size) that the forward objective draws its batches from;
	// unused by the reverse objective. Exactly one of Data and Source is
	// set for the forward objective.
	Data [][]float64
	// Source, if not nil, draws fresh independent samples of the target
	// for every batch of the forward objective instead of Data (e.g.
	// gauge.ExactSampler for U(1)): no sample is used twice, so the
	// forward path gradients are unbiased at every step.
	Source Source
	// PathSwitch is the rule by which the forward objective with a path
	// gradient (DropInPath or FastPath) falls back to maximum likelihood
	// while the path gradient does not pay; the zero value is the default
	// rule. Unused for the reverse objective and for Standard.
	PathSwitch PathSwitch
}

// Source draws independent samples of a target; gauge.ExactSampler is
// one.
type Source interface {
	// SampleTo fills dst (one configuration) with a fresh sample drawn
	// from rng and returns the number of tries it took (unused here).
	SampleTo(dst []float64, rng *rand.Rand) (tries int)
}

// StepResult is what one training step did: its log row and, for a
// skipped step, why it was skipped.
type StepResult struct {
	LogRow
	// Reason says why the step was skipped ("" if it was not).
	Reason string
	// SkipRun is the number of skipped steps in a row ending with this
	// one (0 if it was not skipped).
	SkipRun int
	// Gradient is the estimator the step used: Options.Gradient, or
	// Standard while a PathSwitch holds the path gradient back.
	Gradient GradientType
	// Check is the PathSwitch check made before this step, nil if none.
	Check *PathCheck
}

// Trainer trains a flow: it holds the float64 master copy of the
// parameters, the flow of element type T refreshed from it after each
// update, the gradient estimator, Adam, the learning-rate schedule,
// gradient clipping, the random number generator, the step counters and
// the training log. Everything that determines the next step is saved by
// Checkpoint and restored by Restore, so a resumed run ends with the same
// parameters, bit for bit, as an uninterrupted one.
//
// A step (Step) is:
//
//  1. the learning rate LR(Adam.Step+1) of the schedule;
//  2. for the forward objective, Batch configurations drawn uniformly at
//     random with replacement from Options.Data (rng.IntN, in sample
//     order), or drawn fresh from Options.Source with rng;
//  3. for the forward objective with a path gradient, every
//     PathSwitch.Every steps from step 1 on, the check of the PathSwitch
//     (its samples drawn like the batch, after it) that chooses between
//     the path gradient and maximum likelihood until the next check;
//  4. the estimator's loss, log weights and gradient (it draws from the
//     same rng for the reverse objective);
//  5. if the estimator fails or the loss, the gradient or its norm is not
//     finite: the step is skipped (no update, no Observe) and counted;
//     MaxSkips in a row end training with ErrTooManySkips;
//  6. otherwise ClipNorm, Adam.Update of the master copy, SetParams on the
//     flow, and Observe(std of log w) for a schedule that observes.
//
// Steps count from 1 and include skipped ones; Adam.Step counts updates.
// A Trainer is not safe for concurrent use.
type Trainer[T nn.Float] struct {
	flow      *flow.Flow[T]
	target    lattice.Action
	workers   int
	est       *Estimator[T]
	adam      *Adam
	sched     Schedule
	clip      float64
	maxSkips  int
	objective Objective
	gradient  GradientType
	batch     int
	data      [][]float64
	source    Source

	// For the forward objective with a path gradient under a PathSwitch:
	// std is the maximum-likelihood estimator, sw the rule with its
	// defaults, checkData the samples of a check, and pathSince the step
	// of the check that turned the path gradient on (0: off).
	std       *Estimator[T]
	sw        PathSwitch
	checkData []float64
	pathSince int

	src *rand.PCG
	rng *rand.Rand

	params    []float64 // master copy
	paramsT   []T
	grad      []float64
	batchData []float64

	step    int // steps done, skipped ones included
	skipped int // skipped steps in all
	skipRun int // skipped steps in a row at the end
	elapsed float64
	started time.Time
	// cpuElapsed is the CPU seconds of the earlier sessions (NaN if
	// unknown), cpuStart the process's CPU time when this session's first
	// step began.
	cpuElapsed, cpuStart float64
	log                  []LogRow
}

// NewTrainer returns a Trainer of f for the target action, starting from
// f's parameters, drawing random numbers from src (which it keeps and
// advances). It returns an error for invalid options (naming the option)
// and the error of NewEstimator.
func NewTrainer[T nn.Float](f *flow.Flow[T], target lattice.Action, src *rand.PCG, opt Options) (*Trainer[T], error) {
	if f == nil || target == nil || src == nil {
		panic("flowtrain: NewTrainer: nil flow, target or source")
	}
	if opt.Batch < 1 {
		return nil, fmt.Errorf("flowtrain: batch %d, want >= 1", opt.Batch)
	}
	if opt.Schedule == nil {
		return nil, errors.New("flowtrain: no learning-rate schedule")
	}
	if math.IsNaN(opt.Clip) {
		return nil, errors.New("flowtrain: clip NaN, want a number (<= 0: no clipping)")
	}
	if opt.MaxSkips < 0 {
		return nil, fmt.Errorf("flowtrain: max skips %d, want >= 0 (0: %d)", opt.MaxSkips, DefaultMaxSkips)
	}
	if opt.MaxSkips == 0 {
		opt.MaxSkips = DefaultMaxSkips
	}
	if opt.Objective == Forward {
		if len(opt.Data) == 0 && opt.Source == nil {
			return nil, errors.New("flowtrain: the forward objective needs data or a source (samples of the target)")
		}
		if len(opt.Data) > 0 && opt.Source != nil {
			return nil, errors.New("flowtrain: the forward objective takes data or a source, not both")
		}
		for i, x := range opt.Data {
			if len(x) != f.Size {
				return nil, fmt.Errorf("flowtrain: data configuration %d has %d values, want the flow's size %d", i, len(x), f.Size)
			}
		}
	}
	est, err := NewEstimator(f, target, opt.Objective, opt.Gradient, opt.Batch, opt.Workers)
	if err != nil {
		return nil, err
	}
	n := f.NumParams()
	t := &Trainer[T]{
		flow: f, target: target, workers: opt.Workers, est: est, adam: NewAdam(n), sched: opt.Schedule, clip: opt.Clip, maxSkips: opt.MaxSkips,
		objective: opt.Objective, gradient: opt.Gradient, batch: opt.Batch, data: opt.Data, source: opt.Source,
		src: src, rng: rand.New(src),
		params: make([]float64, n), paramsT: make([]T, n), grad: make([]float64, n),
	}
	if opt.Objective == Forward && opt.Gradient != Standard && !opt.PathSwitch.Always {
		if t.sw, err = opt.PathSwitch.withDefaults(); err != nil {
			return nil, err
		}
		if t.std, err = NewEstimator(f, target, Forward, Standard, opt.Batch, opt.Workers); err != nil {
			return nil, err
		}
		t.checkData = make([]float64, t.sw.Samples*f.Size)
	}
	f.GetParams(t.paramsT)
	for i, v := range t.paramsT {
		t.params[i] = float64(v)
	}
	if opt.Objective == Forward {
		t.batchData = make([]float64, opt.Batch*f.Size)
	}
	return t, nil
}

// FreshQuality measures the flow on n fresh samples drawn from rng in
// batches of the training batch size: ess is ESS_q/N of their weights w =
// exp(-S)/q (the quality a sampler sees, which the per-batch ESS of a
// heavy-tailed flow overestimates), and acc the acceptance rate of an
// independence-Metropolis chain over the same samples in the order drawn
// (LogRow.AccFresh), its uniforms drawn from rng after the samples. Both
// are NaN for n < 2.
func (t *Trainer[T]) FreshQuality(n int, rng *rand.Rand) (ess, acc float64) {
	if n < 2 {
		return math.NaN(), math.NaN()
	}
	b := min(n, max(t.batch, 256))
	x := make([]T, b*t.flow.Size)
	x64 := make([]float64, t.flow.Size)
	logq := make([]float64, b)
	logw := make([]float64, 0, n)
	for len(logw) < n {
		t.flow.Sample(rng, x, logq, t.workers)
		for i := 0; i < b && len(logw) < n; i++ {
			for j, v := range x[i*t.flow.Size : (i+1)*t.flow.Size] {
				x64[j] = float64(v)
			}
			logw = append(logw, -t.target.Action(x64)-logq[i])
		}
	}
	return observables.ReverseESS(logw), IMHAcceptance(logw, rng)
}

// IMHAcceptance runs an independence-Metropolis chain over proposals with
// log weights logw, in order: logw[0] starts the chain, and proposal i is
// accepted if u < exp(logw[i] - logw[cur]), u uniform from rng (one per
// proposal, in order), or if the current weight is not positive
// (logw[cur] NaN or -Inf) and the proposal's is. It returns the fraction of
// the len(logw)-1 proposals accepted, NaN for fewer than two log weights.
func IMHAcceptance(logw []float64, rng *rand.Rand) float64 {
	if len(logw) < 2 {
		return math.NaN()
	}
	cur, acc := logw[0], 0
	for _, lw := range logw[1:] {
		u := rng.Float64()
		if !(cur > math.Inf(-1)) && lw > math.Inf(-1) || u < math.Exp(lw-cur) {
			cur = lw
			acc++
		}
	}
	return float64(acc) / float64(len(logw)-1)
}

// Flow returns the flow being trained.
func (t *Trainer[T]) Flow() *flow.Flow[T] { return t.flow }

// StepsDone returns the number of steps done, skipped ones included.
func (t *Trainer[T]) StepsDone() int { return t.step }

// Skipped returns the number of skipped steps.
func (t *Trainer[T]) Skipped() int { return t.skipped }

// Updates returns the number of parameter updates (Adam.Step).
func (t *Trainer[T]) Updates() int { return t.adam.Step }

// Params returns the master copy of the parameters, in Flow.GetParams
// order. It is a view: it changes with each update and must not be
// modified.
func (t *Trainer[T]) Params() []float64 { return t.params }

// PathSince returns the step of the PathSwitch check that turned the path
// gradient on, 0 if the trainer uses maximum likelihood now (or has no
// PathSwitch: reverse, Standard, or PathSwitch.Always).
func (t *Trainer[T]) PathSince() int { return t.pathSince }

// Log returns the log rows of all steps done (a view, valid until the
// next Step).
func (t *Trainer[T]) Log() []LogRow { return t.log }

// Model returns the flow's architecture with a copy of the master
// parameters; the caller fills Target and Provenance.
func (t *Trainer[T]) Model() flow.Model {
	return flow.Model{Config: t.flow.Config, Params: append([]float64(nil), t.params...)}
}

// wall returns the wall-clock seconds of training, over all sessions.
func (t *Trainer[T]) wall() float64 {
	if t.started.IsZero() {
		return t.elapsed
	}
	return t.elapsed + time.Since(t.started).Seconds()
}

// cpu returns the CPU seconds of training, over all sessions (NaN if
// unknown). It counts the whole process, as wall counts all of its time.
func (t *Trainer[T]) cpu() float64 {
	if t.started.IsZero() {
		return t.cpuElapsed
	}
	return t.cpuElapsed + processCPUSeconds() - t.cpuStart
}

// cpuSpent reports whether the last log row's cpu_seconds (over all
// sessions) reached budget > 0.
func (t *Trainer[T]) cpuSpent(budget float64) bool {
	return budget > 0 && len(t.log) > 0 && t.log[len(t.log)-1].CPUSeconds >= budget
}

// Step does one training step (see Trainer) and appends its log row. It
// returns an error wrapping ErrTooManySkips when this step makes MaxSkips
// skipped steps in a row; the parameters are then those of the last
// update.
func (t *Trainer[T]) Step() (StepResult, error) {
	if t.started.IsZero() {
		t.started, t.cpuStart = time.Now(), processCPUSeconds()
	}
	t.step++
	r := StepResult{LogRow: LogRow{Step: int64(t.step), LR: t.sched.LR(t.adam.Step + 1)}, Gradient: t.gradient}
	var data []float64
	if t.objective == Forward {
		t.draw(t.batchData)
		data = t.batchData
	}
	est := t.est
	if t.std != nil {
		if (t.step-1)%t.sw.Every == 0 {
			r.Check = t.check()
		}
		if t.pathSince == 0 {
			est, r.Gradient = t.std, Standard
		}
	}
	res, err := est.Estimate(t.rng, data, t.grad)
	r.Loss, r.ESS, r.StdLogW = res.Loss, res.ESS, stdDev(res.LogW)
	switch {
	case err != nil:
		r.Reason = fmt.Sprintf("estimator failed: %v", err)
		nan := math.NaN()
		r.Loss, r.GradNorm, r.ESS, r.StdLogW = nan, nan, nan, nan
	case !Finite(t.grad):
		r.GradNorm = l2Norm(t.grad)
		r.Reason = fmt.Sprintf("non-finite gradient (%d of %d components; loss %g)", nonFinite(t.grad), len(t.grad), res.Loss)
	case res.Loss-res.Loss != 0:
		r.GradNorm = l2Norm(t.grad)
		r.Reason = fmt.Sprintf("non-finite loss %g", res.Loss)
	default:
		r.GradNorm = ClipNorm(t.grad, t.clip)
		if math.IsInf(r.GradNorm, 0) {
			r.Reason = "gradient norm overflows"
		}
	}
	if r.Reason != "" {
		r.Skipped = true
		t.skipped++
		t.skipRun++
		r.SkipRun = t.skipRun
		r.WallSeconds, r.CPUSeconds = t.wall(), t.cpu()
		t.log = append(t.log, r.LogRow)
		if t.skipRun >= t.maxSkips {
			return r, fmt.Errorf("flowtrain: step %d: %w: %d (last: %s)", t.step, ErrTooManySkips, t.skipRun, r.Reason)
		}
		return r, nil
	}
	t.skipRun = 0
	t.adam.Update(t.params, t.grad, r.LR)
	for i, v := range t.params {
		t.paramsT[i] = T(v)
	}
	t.flow.SetParams(t.paramsT)
	if o, ok := t.sched.(Observer); ok {
		o.Observe(r.StdLogW)
	}
	r.WallSeconds, r.CPUSeconds = t.wall(), t.cpu()
	t.log = append(t.log, r.LogRow)
	return r, nil
}

// draw fills dst with configurations for the forward objective: drawn
// with replacement from the data, or fresh from the source.
func (t *Trainer[T]) draw(dst []float64) {
	n := t.flow.Size
	for i := range len(dst) / n {
		if t.source != nil {
			t.source.SampleTo(dst[i*n:(i+1)*n], t.rng)
		} else {
			copy(dst[i*n:(i+1)*n], t.data[t.rng.IntN(len(t.data))])
		}
	}
}

// check makes the PathSwitch check before the step in progress and sets
// t.pathSince.
func (t *Trainer[T]) check() *PathCheck {
	c := &PathCheck{Step: t.step}
	t.draw(t.checkData)
	v, err := GradientVariance(t.flow, t.est.target, Forward, []GradientType{Standard, t.gradient}, nil, t.checkData, t.sw.Samples, t.est.workers)
	if err != nil {
		c.Err = err
	} else {
		c.Standard, c.Path = &v[0], &v[1]
		c.UsePath = v[1].Trace <= t.sw.Ratio*v[0].Trace
	}
	switch {
	case !c.UsePath:
		t.pathSince = 0
	case t.pathSince == 0:
		t.pathSince = t.step
	}
	return c
}

// stdDev is the standard deviation of xs about their mean (dividing by
// len(xs)); NaN for no values or any non-finite value.
func stdDev(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(xs)))
}

// nonFinite counts the non-finite elements of xs.
func nonFinite(xs []float64) int {
	n := 0
	for _, x := range xs {
		if x-x != 0 {
			n++
		}
	}
	return n
}

// TrainOptions configures Trainer.Train.
type TrainOptions struct {
	// Steps is the total number of steps of the run: Train stops when
	// StepsDone() reaches it.
	Steps int
	// Run describes the run; it is stored in checkpoints and in the log's
	// metadata.
	Run RunParams
	// Checkpoint is the checkpoint file ("" for none), written every
	// CheckpointEvery steps (<= 0: never) and when ctx is cancelled.
	Checkpoint      string
	CheckpointEvery int
	// Log is the training log file ("" for none), written with every
	// checkpoint, at the end, and when training fails.
	Log string
	// OnStep, if not nil, is called after each step.
	OnStep func(StepResult)
	// OnSave, if not nil, is called after each checkpoint with the step
	// and the time writing the log and the checkpoint took.
	OnSave func(step int, d time.Duration)
	// Until, if not zero, ends the run normally after the first step that
	// finishes past it (a wall-time budget); Steps still bounds the run.
	Until time.Time
	// CPUBudget, if > 0, ends the run normally after the first step at
	// which the training's CPU seconds, over all sessions (the log's
	// cpu_seconds), reach it: on a shared machine the CPU time of a
	// one-thread run is its cost on one core, where wall time also counts
	// the other processes. Steps still bounds the run; where the CPU time
	// is unknown (no getrusage) it is ignored.
	CPUBudget float64
	// FreshEvery, if > 0, measures the ESS and the independence-Metropolis
	// acceptance of FreshSamples fresh samples of the flow after every
	// FreshEvery-th step (FreshQuality) into the log's ess_fresh and
	// acc_fresh columns (and StepResult.ESSFresh, AccFresh). The samples of step s come from
	// the PCG stream (FreshSeed, s), not from the training stream, so a
	// resumed run stays bit-identical.
	FreshEvery, FreshSamples int
	FreshSeed                uint64
	// Commands, if not empty, are the command lines of the run's sessions
	// so far, this one last; checkpoints keep them in their model's
	// provenance, so that a resumed run can record its whole history.
	Commands []string
}

// Train runs steps until opt.Steps are done. On cancellation of ctx it
// stops between steps, writes the log and a checkpoint of the state
// reached, and returns an error wrapping ctx.Err(). When Step fails (too
// many skipped steps) it writes the log but no checkpoint, so the last
// good checkpoint is kept, and returns Step's error. A run stopped by
// Until or CPUBudget writes the log and a checkpoint of the state reached,
// as a cancelled one does; a finished run leaves the checkpoint of the last
// multiple of CheckpointEvery.
//
// While no step has updated the parameters (Updates() == 0) Train writes
// nothing, neither log nor checkpoint: such a state is the initial flow
// again, and a file of it would only stand in the way of a fresh run.
func (t *Trainer[T]) Train(ctx context.Context, opt TrainOptions) error {
	saved := -1
	save := func() error {
		if opt.Checkpoint == "" && opt.Log == "" || saved == t.step || t.adam.Step == 0 {
			return nil
		}
		start := time.Now()
		if opt.Log != "" {
			if err := WriteLog(opt.Log, t.log, opt.Run.LogMetadata()); err != nil {
				return err
			}
		}
		if opt.Checkpoint != "" {
			c := t.Checkpoint(opt.Run)
			c.Model.Provenance.Commands = opt.Commands
			if err := SaveCheckpoint(opt.Checkpoint, c); err != nil {
				return err
			}
		}
		saved = t.step
		if opt.OnSave != nil {
			opt.OnSave(t.step, time.Since(start))
		}
		return nil
	}
	for t.step < opt.Steps && (opt.Until.IsZero() || time.Now().Before(opt.Until)) && !t.cpuSpent(opt.CPUBudget) {
		if err := ctx.Err(); err != nil {
			if serr := save(); serr != nil {
				return fmt.Errorf("flowtrain: interrupted after step %d: %w; saving the checkpoint: %w", t.step, err, serr)
			}
			return fmt.Errorf("flowtrain: interrupted after step %d: %w", t.step, err)
		}
		r, err := t.Step()
		if err == nil && opt.FreshEvery > 0 && t.step%opt.FreshEvery == 0 {
			r.ESSFresh, r.AccFresh = t.FreshQuality(opt.FreshSamples, rand.New(rand.NewPCG(opt.FreshSeed, uint64(t.step))))
			t.log[len(t.log)-1].ESSFresh, t.log[len(t.log)-1].AccFresh = r.ESSFresh, r.AccFresh
		}
		if opt.OnStep != nil {
			opt.OnStep(r)
		}
		if err != nil {
			if opt.Log != "" && t.adam.Step > 0 {
				if lerr := WriteLog(opt.Log, t.log, opt.Run.LogMetadata()); lerr != nil {
					return errors.Join(err, lerr)
				}
			}
			return err
		}
		if opt.CheckpointEvery > 0 && t.step%opt.CheckpointEvery == 0 {
			if err := save(); err != nil {
				return err
			}
		}
	}
	if t.step < opt.Steps {
		// Stopped by Until or CPUBudget: a --resume continues from here,
		// not from the last multiple of CheckpointEvery.
		return save()
	}
	if opt.Log != "" && saved != t.step && t.adam.Step > 0 {
		return WriteLog(opt.Log, t.log, opt.Run.LogMetadata())
	}
	return nil
}
