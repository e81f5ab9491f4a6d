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
	// unused by the reverse objective.
	Data [][]float64
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
//     order);
//  3. the estimator's loss, log weights and gradient (it draws from the
//     same rng for the reverse objective);
//  4. if the estimator fails or the loss, the gradient or its norm is not
//     finite: the step is skipped (no update, no Observe) and counted;
//     MaxSkips in a row end training with ErrTooManySkips;
//  5. otherwise ClipNorm, Adam.Update of the master copy, SetParams on the
//     flow, and Observe(std of log w) for a schedule that observes.
//
// Steps count from 1 and include skipped ones; Adam.Step counts updates.
// A Trainer is not safe for concurrent use.
type Trainer[T nn.Float] struct {
	flow      *flow.Flow[T]
	est       *Estimator[T]
	adam      *Adam
	sched     Schedule
	clip      float64
	maxSkips  int
	objective Objective
	gradient  GradientType
	batch     int
	data      [][]float64

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
	log     []LogRow
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
		if len(opt.Data) == 0 {
			return nil, errors.New("flowtrain: the forward objective needs data (samples of the target)")
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
		flow: f, est: est, adam: NewAdam(n), sched: opt.Schedule, clip: opt.Clip, maxSkips: opt.MaxSkips,
		objective: opt.Objective, gradient: opt.Gradient, batch: opt.Batch, data: opt.Data,
		src: src, rng: rand.New(src),
		params: make([]float64, n), paramsT: make([]T, n), grad: make([]float64, n),
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

// Step does one training step (see Trainer) and appends its log row. It
// returns an error wrapping ErrTooManySkips when this step makes MaxSkips
// skipped steps in a row; the parameters are then those of the last
// update.
func (t *Trainer[T]) Step() (StepResult, error) {
	if t.started.IsZero() {
		t.started = time.Now()
	}
	t.step++
	r := StepResult{LogRow: LogRow{Step: int64(t.step), LR: t.sched.LR(t.adam.Step + 1)}}
	var data []float64
	if t.objective == Forward {
		n := t.flow.Size
		for i := range t.batch {
			copy(t.batchData[i*n:(i+1)*n], t.data[t.rng.IntN(len(t.data))])
		}
		data = t.batchData
	}
	res, err := t.est.Estimate(t.rng, data, t.grad)
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
		r.WallSeconds = t.wall()
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
	r.WallSeconds = t.wall()
	t.log = append(t.log, r.LogRow)
	return r, nil
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
}

// Train runs steps until opt.Steps are done. On cancellation of ctx it
// stops between steps, writes the log and a checkpoint of the state
// reached, and returns an error wrapping ctx.Err(). When Step fails (too
// many skipped steps) it writes the log but no checkpoint, so the last
// good checkpoint is kept, and returns Step's error. A finished run
// leaves the checkpoint of the last multiple of CheckpointEvery.
func (t *Trainer[T]) Train(ctx context.Context, opt TrainOptions) error {
	saved := -1
	save := func() error {
		if opt.Checkpoint == "" && opt.Log == "" || saved == t.step {
			return nil
		}
		start := time.Now()
		if opt.Log != "" {
			if err := WriteLog(opt.Log, t.log, opt.Run.LogMetadata()); err != nil {
				return err
			}
		}
		if opt.Checkpoint != "" {
			if err := SaveCheckpoint(opt.Checkpoint, t.Checkpoint(opt.Run)); err != nil {
				return err
			}
		}
		saved = t.step
		if opt.OnSave != nil {
			opt.OnSave(t.step, time.Since(start))
		}
		return nil
	}
	for t.step < opt.Steps && (opt.Until.IsZero() || time.Now().Before(opt.Until)) {
		if err := ctx.Err(); err != nil {
			if serr := save(); serr != nil {
				return fmt.Errorf("flowtrain: interrupted after step %d: %w; saving the checkpoint: %w", t.step, err, serr)
			}
			return fmt.Errorf("flowtrain: interrupted after step %d: %w", t.step, err)
		}
		r, err := t.Step()
		if opt.OnStep != nil {
			opt.OnStep(r)
		}
		if err != nil {
			if opt.Log != "" {
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
	if opt.Log != "" && saved != t.step {
		return WriteLog(opt.Log, t.log, opt.Run.LogMetadata())
	}
	return nil
}
