package flowtrain_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/flowtrain"
	"latflow/lattice"
	"latflow/nn"
	"latflow/sampler"
)

// Test system: phi^4 on a 4 x 4 lattice with a two-layer RealNVP flow,
// small enough that a step takes well under a millisecond.
const (
	trainL     = 4
	trainM2    = -1.0
	trainLamda = 0.5
	trainBatch = 8
	trainLR    = 1e-2
	trainSeed  = 7
)

func trainConfig() flow.Config {
	return flow.Config{Theory: flow.TheoryPhi4, L: trainL, Layers: 2, Hidden: []int{4}, Kernel: 3}
}

func trainTarget() lattice.Phi4Action {
	return lattice.NewPhi4Standard(lattice.NewGeometry(trainL), trainM2, trainLamda)
}

// trainData returns n configurations of the target for the forward
// objective: short HMC chain, every second trajectory.
func trainData(t testing.TB, n int) [][]float64 {
	t.Helper()
	act := trainTarget()
	rng := rand.New(rand.NewPCG(trainSeed, 99))
	x := make([]float64, trainL*trainL)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	ch := sampler.NewChain(sampler.HMC{Tau: 1, Steps: 10}, act, x, rng)
	var out [][]float64
	for len(out) < n {
		ch.Step()
		ch.Step()
		out = append(out, slices.Clone(ch.X))
	}
	return out
}

// setup describes one trainer of the test system.
type setup struct {
	obj      flowtrain.Objective
	grad     flowtrain.GradientType
	schedule string
	steps    int
	workers  int
	maxSkips int
	data     [][]float64
	target   lattice.Action // nil: trainTarget()
}

func (s setup) run() flowtrain.RunParams {
	r := flowtrain.RunParams{
		Version: "test", Target: ensemble.NewPhi4Standard(trainL, trainM2, trainLamda),
		Config: trainConfig(), Precision: "float64", Objective: s.obj.String(), Gradient: s.grad.String(),
		Batch: trainBatch, LR: trainLR, Schedule: s.schedule, Steps: s.steps, Seed: trainSeed,
	}
	if s.data != nil {
		r.DataConfigs, r.DataDigest = len(s.data), flowtrain.DataDigest(s.data)
	}
	return r
}

// newTrainer builds a fresh trainer: flow initialized from PCG(seed, 0),
// training from PCG(seed, 1), as latflow train does.
func newTrainer[T nn.Float](t testing.TB, s setup) *flowtrain.Trainer[T] {
	t.Helper()
	f, err := flow.New[T](trainConfig(), rand.New(rand.NewPCG(trainSeed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := flowtrain.ParseSchedule(s.schedule, trainLR, s.steps)
	if err != nil {
		t.Fatal(err)
	}
	target := s.target
	if target == nil {
		target = trainTarget()
	}
	tr, err := flowtrain.NewTrainer(f, target, rand.NewPCG(trainSeed, 1), flowtrain.Options{
		Objective: s.obj, Gradient: s.grad, Batch: trainBatch, Workers: s.workers,
		Schedule: sched, Clip: 10, MaxSkips: s.maxSkips, Data: s.data,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// sameBits reports whether a and b are equal bit for bit.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// logValues are the columns of the log rows that do not depend on timing.
func logValues(rows []flowtrain.LogRow) []float64 {
	var v []float64
	for _, r := range rows {
		s := 0.0
		if r.Skipped {
			s = 1
		}
		v = append(v, float64(r.Step), r.Loss, r.GradNorm, r.ESS, r.StdLogW, r.LR, s)
	}
	return v
}

// TestResumeBitForBit interrupts a run (a checkpoint on cancellation, or a
// periodic checkpoint), resumes it in a fresh trainer and checks that the
// final parameters and the log equal those of an uninterrupted run bit for
// bit.
func TestResumeBitForBit(t *testing.T) {
	data := trainData(t, 32)
	const steps = 8
	cases := []setup{
		{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "plateau"},
		{obj: flowtrain.Reverse, grad: flowtrain.Standard, schedule: "cosine"},
		{obj: flowtrain.Forward, grad: flowtrain.Standard, schedule: "constant", data: data},
	}
	for _, s := range cases {
		s.steps, s.workers = steps, 2
		t.Run(fmt.Sprintf("%v/%v/%s", s.obj, s.grad, s.schedule), func(t *testing.T) {
			testResume[float64](t, s)
		})
	}
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "plateau", steps: steps, workers: 2}
	t.Run("float32/reverse/fast-path/plateau", func(t *testing.T) { testResume[float32](t, s) })
}

func testResume[T nn.Float](t *testing.T, s setup) {
	ctx := context.Background()
	run := s.run()
	ref := newTrainer[T](t, s)
	if err := ref.Train(ctx, flowtrain.TrainOptions{Steps: s.steps, Run: run}); err != nil {
		t.Fatal(err)
	}
	if ref.StepsDone() != s.steps || ref.Updates() != s.steps {
		t.Fatalf("uninterrupted run: got %d steps and %d updates, want %d", ref.StepsDone(), ref.Updates(), s.steps)
	}

	t.Run("interrupted", func(t *testing.T) {
		const stopAt = 3
		ckpt := filepath.Join(t.TempDir(), "run.ckpt")
		a := newTrainer[T](t, s)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		err := a.Train(cctx, flowtrain.TrainOptions{Steps: s.steps, Run: run, Checkpoint: ckpt, CheckpointEvery: 100,
			OnStep: func(r flowtrain.StepResult) {
				if r.Step == stopAt {
					cancel()
				}
			}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted Train: got error %v, want one wrapping context.Canceled", err)
		}
		resumeAndCompare(t, s, ckpt, stopAt, ref)
	})
	t.Run("periodic", func(t *testing.T) {
		ckpt := filepath.Join(t.TempDir(), "run.ckpt")
		a := newTrainer[T](t, s)
		// Checkpoints at steps 3 and 6; the run ends at 8 and leaves the one of step 6.
		if err := a.Train(ctx, flowtrain.TrainOptions{Steps: s.steps, Run: run, Checkpoint: ckpt, CheckpointEvery: 3}); err != nil {
			t.Fatal(err)
		}
		if !sameBits(a.Params(), ref.Params()) {
			t.Fatal("a run writing checkpoints differs from one that does not")
		}
		resumeAndCompare(t, s, ckpt, 6, ref)
	})
}

// resumeAndCompare resumes from ckpt, which must hold step at, and compares
// the finished run with ref.
func resumeAndCompare[T nn.Float](t *testing.T, s setup, ckpt string, at int, ref *flowtrain.Trainer[T]) {
	t.Helper()
	c, err := flowtrain.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != at {
		t.Fatalf("checkpoint step: got %d, want %d", c.Step, at)
	}
	if name, a, b := c.Run.Mismatch(s.run()); name != "" {
		t.Fatalf("checkpoint run parameters differ in %s: %s vs %s", name, a, b)
	}
	s.workers = 1 // results do not depend on the workers
	b := newTrainer[T](t, s)
	if err := b.Restore(c); err != nil {
		t.Fatal(err)
	}
	if err := b.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run()}); err != nil {
		t.Fatal(err)
	}
	if !sameBits(b.Params(), ref.Params()) {
		var maxDiff float64
		for i, v := range b.Params() {
			maxDiff = max(maxDiff, math.Abs(v-ref.Params()[i]))
		}
		t.Errorf("resumed from step %d: final parameters differ from the uninterrupted run (max |diff| %g), want bit-identical", at, maxDiff)
	}
	if got, want := logValues(b.Log()), logValues(ref.Log()); !sameBits(got, want) {
		t.Errorf("resumed from step %d: log differs from the uninterrupted run:\ngot  %v\nwant %v", at, got, want)
	}
	if b.StepsDone() != s.steps {
		t.Errorf("resumed run: got %d steps, want %d", b.StepsDone(), s.steps)
	}
}

// poisoned wraps an action and returns NaN (action and force) while bad()
// says so.
type poisoned struct {
	inner lattice.Action
	bad   func() bool
}

func (p poisoned) Action(x []float64) float64 {
	if p.bad() {
		return math.NaN()
	}
	return p.inner.Action(x)
}

func (p poisoned) ForceTo(dst, x []float64) {
	p.inner.ForceTo(dst, x)
	if p.bad() {
		for i := range dst {
			dst[i] = math.NaN()
		}
	}
}

// TestSkipNonFinite poisons the target at some steps: those steps are
// skipped (counted, logged, parameters unchanged) and training goes on;
// MaxSkips poisoned steps in a row stop it with ErrTooManySkips, and the
// last checkpoint is kept with finite parameters.
func TestSkipNonFinite(t *testing.T) {
	const maxSkips = 3
	var tr *flowtrain.Trainer[float64]
	badSteps := map[int]bool{3: true, 4: true}
	badFrom := 9 // every step from here on is poisoned
	target := poisoned{inner: trainTarget(), bad: func() bool {
		s := tr.StepsDone() // the step in progress
		return badSteps[s] || s >= badFrom
	}}
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "plateau", steps: 20, workers: 1,
		maxSkips: maxSkips, target: target}
	tr = newTrainer[float64](t, s)
	dir := t.TempDir()
	ckpt, logPath := filepath.Join(dir, "run.ckpt"), filepath.Join(dir, "run.log.arrow")

	var results []flowtrain.StepResult
	var before [][]float64
	err := tr.Train(context.Background(), flowtrain.TrainOptions{
		Steps: s.steps, Run: s.run(), Checkpoint: ckpt, CheckpointEvery: 2, Log: logPath,
		OnStep: func(r flowtrain.StepResult) {
			results = append(results, r)
			before = append(before, slices.Clone(tr.Params()))
		},
	})
	// Steps 9, 10, 11 are poisoned: the third in a row stops the run.
	const failStep = 11
	if !errors.Is(err, flowtrain.ErrTooManySkips) {
		t.Fatalf("Train: got error %v, want one wrapping ErrTooManySkips", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("step %d", failStep)) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q: want one line naming step %d", err, failStep)
	}
	if got := tr.StepsDone(); got != failStep {
		t.Fatalf("steps done: got %d, want %d", got, failStep)
	}
	if got, want := tr.Skipped(), 2+maxSkips; got != want {
		t.Errorf("skipped steps: got %d, want %d", got, want)
	}
	if got, want := tr.Updates(), failStep-(2+maxSkips); got != want {
		t.Errorf("updates: got %d, want %d", got, want)
	}
	for i, r := range results {
		step := i + 1
		wantSkip := badSteps[step] || step >= badFrom
		if r.Skipped != wantSkip || (r.Reason != "") != wantSkip {
			t.Errorf("step %d: got skipped=%v reason %q, want skipped=%v", step, r.Skipped, r.Reason, wantSkip)
		}
		if wantSkip && step > 1 && !sameBits(before[i], before[i-1]) {
			t.Errorf("step %d was skipped but changed the parameters", step)
		}
		if !wantSkip && step > 1 && sameBits(before[i], before[i-1]) {
			t.Errorf("step %d was not skipped but left the parameters unchanged", step)
		}
	}
	if !flowtrain.Finite(tr.Params()) {
		t.Error("parameters not finite after skipped steps")
	}
	// The checkpoint of step 10 (the last multiple of 2) is kept.
	c, err := flowtrain.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != 10 || !flowtrain.Finite(c.Model.Params) || !sameBits(c.Model.Params, tr.Params()) {
		t.Errorf("kept checkpoint: got step %d (finite params %v), want step 10 with the last updated parameters",
			c.Step, flowtrain.Finite(c.Model.Params))
	}
	// The log covers the failed step too.
	rows, _, err := flowtrain.ReadLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != failStep || !rows[failStep-1].Skipped || !rows[2].Skipped || rows[4].Skipped {
		t.Errorf("log: got %d rows (skipped at 3: %v, 5: %v, %d: %v), want %d rows skipped at 3 and %d, not at 5",
			len(rows), rows[2].Skipped, rows[4].Skipped, failStep, rows[len(rows)-1].Skipped, failStep, failStep)
	}
}

// TestNoUpdateWritesNothing poisons every step: a run that ends (by its
// step count, by too many skips, or by cancellation) without a single
// update writes neither log nor checkpoint, since its state is the initial
// flow and a file would only stand in the way of a fresh run.
func TestNoUpdateWritesNothing(t *testing.T) {
	cases := []struct {
		name     string
		maxSkips int
		cancel   bool
		wantErr  error
	}{
		{"steps done", 100, false, nil},
		{"too many skips", 3, false, flowtrain.ErrTooManySkips},
		{"cancelled", 100, true, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := poisoned{inner: trainTarget(), bad: func() bool { return true }}
			s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "constant", steps: 6, workers: 1,
				maxSkips: tc.maxSkips, target: target}
			tr := newTrainer[float64](t, s)
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := tr.Train(ctx, flowtrain.TrainOptions{
				Steps: s.steps, Run: s.run(), Checkpoint: filepath.Join(dir, "run.ckpt"), CheckpointEvery: 2,
				Log: filepath.Join(dir, "run.log.arrow"),
				OnStep: func(flowtrain.StepResult) {
					if tc.cancel && tr.StepsDone() == 4 {
						cancel()
					}
				},
			})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Train: got error %v, want %v", err, tc.wantErr)
			}
			if tr.Updates() != 0 || tr.StepsDone() == 0 {
				t.Fatalf("got %d updates in %d steps, want 0 updates in some steps", tr.Updates(), tr.StepsDone())
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("file %s written by a run without an update, want none", e.Name())
			}
		})
	}
}

// TestWorkersDoNotMatter trains with one and with two workers and compares
// the parameters bit for bit.
func TestWorkersDoNotMatter(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "constant", steps: 4}
	var params [][]float64
	for _, w := range []int{1, 2} {
		s.workers = w
		tr := newTrainer[float64](t, s)
		if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run()}); err != nil {
			t.Fatal(err)
		}
		params = append(params, tr.Params())
	}
	if !sameBits(params[0], params[1]) {
		t.Error("workers=1 and workers=2 give different parameters, want bit-identical")
	}
}

// TestTrainingReducesLoss checks that training does something: the
// reverse loss on a large fresh batch falls by more than k standard errors.
func TestTrainingReducesLoss(t *testing.T) {
	const steps, evalBatch, k = 100, 512, 4.0
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "constant", steps: steps, workers: 1}
	tr := newTrainer[float64](t, s)
	est, err := flowtrain.NewEstimator(tr.Flow(), trainTarget(), flowtrain.Reverse, flowtrain.Standard, evalBatch, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(trainSeed, 5))
	grad := make([]float64, tr.Flow().NumParams())
	loss := func() (mean, se float64) {
		r, err := est.Estimate(rng, nil, grad)
		if err != nil {
			t.Fatal(err)
		}
		// The loss is mean(-log w); its standard error is std(log w)/sqrt(B).
		var m, ss float64
		for _, w := range r.LogW {
			m += w
		}
		m /= float64(len(r.LogW))
		for _, w := range r.LogW {
			ss += (w - m) * (w - m)
		}
		return r.Loss, math.Sqrt(ss / float64(len(r.LogW)-1) / float64(len(r.LogW)))
	}
	m0, e0 := loss()
	if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: steps, Run: s.run()}); err != nil {
		t.Fatal(err)
	}
	m1, e1 := loss()
	if !(m0-m1 > k*math.Hypot(e0, e1)) {
		t.Errorf("reverse loss: %.4g +- %.2g before, %.4g +- %.2g after %d steps, want a decrease by more than %g sigma",
			m0, e0, m1, e1, steps, k)
	}
}

func TestNewTrainerErrors(t *testing.T) {
	f, err := flow.New[float64](trainConfig(), rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	sched := flowtrain.Constant{LR0: 1e-3}
	cases := []struct {
		name string
		opt  flowtrain.Options
		want string
	}{
		{"batch zero", flowtrain.Options{Batch: 0, Schedule: sched}, "batch"},
		{"no schedule", flowtrain.Options{Batch: 4}, "schedule"},
		{"forward without data", flowtrain.Options{Objective: flowtrain.Forward, Batch: 4, Schedule: sched}, "data"},
		{"forward data of another size", flowtrain.Options{Objective: flowtrain.Forward, Batch: 4, Schedule: sched,
			Data: [][]float64{make([]float64, 3)}}, "size"},
		{"negative max skips", flowtrain.Options{Batch: 4, Schedule: sched, MaxSkips: -1}, "skips"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flowtrain.NewTrainer(f, trainTarget(), rand.NewPCG(1, 1), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// TestRestoreRefusesOtherTrainer restores a checkpoint into trainers it
// does not fit.
func TestRestoreRefusesOtherTrainer(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "plateau", steps: 2, workers: 1}
	tr := newTrainer[float64](t, s)
	if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: 2, Run: s.run()}); err != nil {
		t.Fatal(err)
	}
	c := tr.Checkpoint(s.run())

	s2 := s
	s2.schedule = "constant"
	if err := newTrainer[float64](t, s2).Restore(c); err == nil || !strings.Contains(err.Error(), "schedule") {
		t.Errorf("restore into a constant schedule: got %v, want an error naming the schedule", err)
	}
	other := *c
	other.Model.Config.Hidden = []int{5}
	if err := newTrainer[float64](t, s).Restore(&other); err == nil || !strings.Contains(err.Error(), "architecture") {
		t.Errorf("restore of another architecture: got %v, want an error naming the architecture", err)
	}
	other = *c
	other.Model.Config.Init = flow.InitIdentity
	if err := newTrainer[float64](t, s).Restore(&other); err == nil || !strings.Contains(err.Error(), "architecture") {
		t.Errorf("restore of another initialization: got %v, want an error naming the architecture", err)
	}
	// An empty base and init mean the defaults.
	other = *c
	other.Model.Config.Base, other.Model.Config.Init = flow.BaseNormal, flow.InitRandom
	if err := newTrainer[float64](t, s).Restore(&other); err != nil {
		t.Errorf("restore with the default base and init spelled out: got %v, want nil", err)
	}
	bad := *c
	bad.RNG = []byte("garbage")
	fresh := newTrainer[float64](t, s)
	p0 := slices.Clone(fresh.Params())
	if err := fresh.Restore(&bad); err == nil || !strings.Contains(err.Error(), "random") {
		t.Errorf("restore of a bad RNG state: got %v, want an error naming the random number generator", err)
	}
	if !sameBits(fresh.Params(), p0) || fresh.StepsDone() != 0 {
		t.Error("a failed Restore changed the trainer")
	}
}

func ExampleTrainer() {
	cfg := flow.Config{Theory: flow.TheoryPhi4, L: 4, Layers: 2, Hidden: []int{4}, Kernel: 3}
	f, err := flow.New[float64](cfg, rand.New(rand.NewPCG(1, 0)))
	if err != nil {
		fmt.Println(err)
		return
	}
	target := lattice.NewPhi4Standard(lattice.NewGeometry(4), -1, 0.5)
	tr, err := flowtrain.NewTrainer(f, target, rand.NewPCG(1, 1), flowtrain.Options{
		Objective: flowtrain.Reverse, Gradient: flowtrain.FastPath, Batch: 16,
		Schedule: flowtrain.Constant{LR0: 1e-2}, Clip: 10,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	err = tr.Train(context.Background(), flowtrain.TrainOptions{
		Steps: 20, Log: filepath.Join(dir, "model.flow.log.arrow"),
		Checkpoint: filepath.Join(dir, "model.flow.ckpt"), CheckpointEvery: 10,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rows, _, err := flowtrain.ReadLog(filepath.Join(dir, "model.flow.log.arrow"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps, %d updates, %d skipped, %d log rows\n", tr.StepsDone(), tr.Updates(), tr.Skipped(), len(rows))
	// Output:
	// 20 steps, 20 updates, 0 skipped, 20 log rows
}
