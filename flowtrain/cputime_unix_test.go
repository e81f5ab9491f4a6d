//go:build unix

package flowtrain_test

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"latflow/flowtrain"
)

// TestCPUSecondsColumn: cpu_seconds grows with the work done (a step that
// burns 30 ms of CPU adds at least 20 ms) and carries over a resume like
// wall_seconds: a run resumed from a checkpoint whose CPU total is 1000 s
// logs at least 1000 s.
func TestCPUSecondsColumn(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.Standard, schedule: "constant", steps: 3, workers: 1}
	tr := newTrainer[float64](t, s)
	cpuNow := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return float64(ru.Utime.Sec+ru.Stime.Sec) + 1e-6*float64(ru.Utime.Usec+ru.Stime.Usec)
	}
	// burn uses 30 ms of CPU time (not wall time: the machine may be loaded).
	burn := func() {
		end := cpuNow() + 0.03
		x := 1.0
		for cpuNow() < end {
			for range 1000 {
				x = math.Sqrt(x + 1)
			}
		}
		_ = x
	}
	if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run(),
		OnStep: func(flowtrain.StepResult) { burn() }}); err != nil {
		t.Fatal(err)
	}
	log := tr.Log()
	// Steps 2 and 3 follow a burn each.
	wall := log[2].WallSeconds - log[0].WallSeconds
	if d := log[2].CPUSeconds - log[0].CPUSeconds; !(d >= 0.06) || !(d <= float64(runtime.NumCPU())*wall+0.01) {
		t.Errorf("cpu_seconds rose by %g s over two burns of 30 ms CPU (wall %g s on %d CPUs), want at least 0.06 s and at most all CPUs' wall time",
			d, wall, runtime.NumCPU())
	}
	c := tr.Checkpoint(s.run())
	if c.CPUElapsed < log[2].CPUSeconds {
		t.Errorf("checkpoint cpu %g, want at least the last row's %g", c.CPUElapsed, log[2].CPUSeconds)
	}
	c.CPUElapsed, c.Elapsed = 1000, 2000
	s.steps = 5
	b := newTrainer[float64](t, s)
	if err := b.Restore(c); err != nil {
		t.Fatal(err)
	}
	if err := b.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run()}); err != nil {
		t.Fatal(err)
	}
	for _, r := range b.Log()[3:] {
		if !(r.CPUSeconds >= 1000 && r.CPUSeconds < 1010) || !(r.WallSeconds >= 2000) {
			t.Errorf("resumed step %d: cpu_seconds %g, wall_seconds %g, want them to continue from 1000 and 2000", r.Step, r.CPUSeconds, r.WallSeconds)
		}
	}
}

// TestCPUBudget: a run with CPUBudget stops after the first step at which
// the log's cpu_seconds reach the budget, not before, and a resumed run
// counts the CPU time of the sessions before it.
func TestCPUBudget(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.Standard, schedule: "constant", steps: 1000, workers: 1}
	tr := newTrainer[float64](t, s)
	const budget = 0.012
	if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run(), CPUBudget: budget}); err != nil {
		t.Fatal(err)
	}
	log := tr.Log()
	n := len(log)
	if n == s.steps {
		t.Fatalf("all %d steps ran (last cpu_seconds %g), want the CPU budget %g s to stop the run", n, log[n-1].CPUSeconds, budget)
	}
	if last := log[n-1].CPUSeconds; !(last >= budget) {
		t.Errorf("stopped at step %d with cpu_seconds %g, below the budget %g", n, last, budget)
	}
	if n >= 2 && !(log[n-2].CPUSeconds < budget) {
		t.Errorf("step %d already had cpu_seconds %g >= budget %g, yet the run went on", n-1, log[n-2].CPUSeconds, budget)
	}
	// A resumed run whose earlier sessions used the budget does no step.
	c := tr.Checkpoint(s.run())
	b := newTrainer[float64](t, s)
	if err := b.Restore(c); err != nil {
		t.Fatal(err)
	}
	if err := b.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run(), CPUBudget: budget}); err != nil {
		t.Fatal(err)
	}
	if got := len(b.Log()); got != n {
		t.Errorf("resumed run with its budget spent did %d more steps", got-n)
	}
}

// TestBudgetStopSavesCheckpoint: a run stopped by its wall-time or CPU
// budget leaves a checkpoint of the step it reached, however far the last
// multiple of CheckpointEvery lies behind, so that a resumed run goes on
// from the model's step.
func TestBudgetStopSavesCheckpoint(t *testing.T) {
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.Standard, schedule: "constant", steps: 100000, workers: 1}
	for _, c := range []struct {
		name string
		opt  flowtrain.TrainOptions
	}{
		{"until", flowtrain.TrainOptions{}},
		{"cpu budget", flowtrain.TrainOptions{CPUBudget: 0.02}},
	} {
		tr := newTrainer[float64](t, s)
		ckpt := filepath.Join(t.TempDir(), "a.ckpt")
		opt := c.opt
		opt.Steps, opt.Run, opt.Checkpoint, opt.CheckpointEvery = s.steps, s.run(), ckpt, 50000
		if c.name == "until" {
			opt.Until = time.Now().Add(50 * time.Millisecond)
		}
		if err := tr.Train(context.Background(), opt); err != nil {
			t.Fatal(err)
		}
		done := tr.StepsDone()
		if done == 0 || done >= s.steps {
			t.Fatalf("%s: %d steps done, want the budget to stop the run early", c.name, done)
		}
		got, err := flowtrain.LoadCheckpoint(ckpt)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.Step != done {
			t.Errorf("%s: checkpoint at step %d, the run stopped after step %d", c.name, got.Step, done)
		}
	}
}
