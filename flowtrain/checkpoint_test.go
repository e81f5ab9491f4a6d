package flowtrain_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"latflow/flow"
	"latflow/flowtrain"
)

// trainedCheckpoint returns the checkpoint of a short plateau run and its
// file.
func trainedCheckpoint(t *testing.T) (*flowtrain.Checkpoint, string) {
	t.Helper()
	s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "plateau", steps: 3, workers: 1}
	tr := newTrainer[float64](t, s)
	if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run()}); err != nil {
		t.Fatal(err)
	}
	c := tr.Checkpoint(s.run())
	path := filepath.Join(t.TempDir(), "model.flow.ckpt")
	if err := flowtrain.SaveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	return c, path
}

func TestCheckpointRoundTrip(t *testing.T) {
	c, path := trainedCheckpoint(t)
	got, err := flowtrain.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("loaded checkpoint differs from the saved one:\ngot  %+v\nwant %+v", got, c)
	}
	if c.Plateau == nil || c.Step != 3 || len(c.Log) != 3 {
		t.Errorf("checkpoint: got plateau state %v, step %d, %d log rows, want plateau state, step 3, 3 rows", c.Plateau, c.Step, len(c.Log))
	}
	// No temporary file is left next to the checkpoint.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after SaveCheckpoint, want only the checkpoint", len(entries))
	}
}

// TestCheckpointCorrupted damages a checkpoint file in several ways and
// checks for a one-line error that says what is wrong.
func TestCheckpointCorrupted(t *testing.T) {
	_, path := trainedCheckpoint(t)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"flipped byte in the parameters", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }, "checksum mismatch"},
		{"flipped byte in the header", func(b []byte) []byte { b[20] ^= 1; return b }, "checksum mismatch"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }, "checksum mismatch"},
		{"very short", func(b []byte) []byte { return b[:12] }, "truncated"},
		{"empty", func(b []byte) []byte { return nil }, "bad magic"},
		{"not a checkpoint", func(b []byte) []byte {
			return []byte("LATFLOWM and more bytes than the minimum of a checkpoint file, which is 48")
		}, "bad magic"},
		{"trailing bytes", func(b []byte) []byte { return append(b, 0) }, "checksum mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.ckpt")
			if err := os.WriteFile(bad, tc.damage(append([]byte(nil), good...)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := flowtrain.LoadCheckpoint(bad)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, bad) || strings.Contains(msg, "\n") {
				t.Errorf("got %q, want one line naming %s and saying %q", msg, bad, tc.want)
			}
		})
	}
	if _, err := flowtrain.LoadCheckpoint(filepath.Join(t.TempDir(), "missing.ckpt")); err == nil {
		t.Error("missing file: got no error, want one")
	}
}

func TestRunParamsMismatch(t *testing.T) {
	base := setup{obj: flowtrain.Forward, grad: flowtrain.FastPath, schedule: "cosine", steps: 10,
		data: [][]float64{{1, 2}}}.run()
	cases := []struct {
		name   string
		change func(r *flowtrain.RunParams)
	}{
		{"theory", func(r *flowtrain.RunParams) { r.Theory = "u1" }},
		{"L", func(r *flowtrain.RunParams) { r.L = 8 }},
		{"m2", func(r *flowtrain.RunParams) { r.Couplings = map[string]float64{"m2": -2, "lambda": trainLamda} }},
		{"kappa", func(r *flowtrain.RunParams) { r.Couplings = map[string]float64{"kappa": 0.3, "lambda": trainLamda} }},
		{"layers", func(r *flowtrain.RunParams) { r.Config.Layers = 3 }},
		{"hidden", func(r *flowtrain.RunParams) { r.Config.Hidden = []int{4, 4} }},
		{"kernel", func(r *flowtrain.RunParams) { r.Config.Kernel = 1 }},
		{"base", func(r *flowtrain.RunParams) { r.Config.Base, r.Config.BaseBeta = flow.BasePlaquettes, 3 }},
		{"base-beta", func(r *flowtrain.RunParams) { r.Config.BaseBeta = 3 }},
		{"base-mode", func(r *flowtrain.RunParams) { r.Config.BaseMode = flow.BaseModeFixed }},
		{"layer-init", func(r *flowtrain.RunParams) { r.Config.Init = flow.InitIdentity }},
		{"precision", func(r *flowtrain.RunParams) { r.Precision = "float32" }},
		{"objective", func(r *flowtrain.RunParams) { r.Objective = "reverse" }},
		{"gradient", func(r *flowtrain.RunParams) { r.Gradient = "standard" }},
		{"batch", func(r *flowtrain.RunParams) { r.Batch = 9 }},
		{"lr", func(r *flowtrain.RunParams) { r.LR = 1e-4 }},
		{"schedule", func(r *flowtrain.RunParams) { r.Schedule = "constant" }},
		{"steps", func(r *flowtrain.RunParams) { r.Steps = 11 }},
		{"clip", func(r *flowtrain.RunParams) { r.Clip = 1 }},
		{"seed", func(r *flowtrain.RunParams) { r.Seed = 8 }},
		{"data", func(r *flowtrain.RunParams) { r.DataDigest = flowtrain.DataDigest([][]float64{{1, 3}}) }},
	}
	if name, a, b := base.Mismatch(base); name != "" {
		t.Errorf("identical parameters: got mismatch %s (%s vs %s), want none", name, a, b)
	}
	same := base
	same.Data, same.Version = []string{"/elsewhere"}, "other"
	if name, _, _ := base.Mismatch(same); name != "" {
		t.Errorf("other data path and version: got mismatch %s, want none", name)
	}
	same = base
	same.Config.Base, same.Config.Init = flow.BaseNormal, flow.InitRandom
	if name, _, _ := base.Mismatch(same); name != "" {
		t.Errorf("base and init spelled out: got mismatch %s, want none (empty means the default)", name)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.Config.Hidden = append([]int(nil), base.Config.Hidden...)
			tc.change(&o)
			name, a, b := base.Mismatch(o)
			if name != tc.name || a == b {
				t.Errorf("got mismatch %q (%q vs %q), want %q with two different values", name, a, b, tc.name)
			}
		})
	}
}

// encodeOldCheckpoint returns c in checkpoint format version 1 or 2, as
// older latflow versions wrote it: no cpu_elapsed in the header, log rows
// without acc_fresh and cpu_seconds (and without ess_fresh in version 1).
func encodeOldCheckpoint(t *testing.T, c *flowtrain.Checkpoint, version uint32) []byte {
	t.Helper()
	hdr, err := json.Marshal(map[string]any{"run": c.Run, "step": c.Step, "skipped": c.Skipped, "skip_run": c.SkipRun,
		"elapsed": c.Elapsed, "plateau": c.Plateau})
	if err != nil {
		t.Fatal(err)
	}
	model, err := c.Model.Encode()
	if err != nil {
		t.Fatal(err)
	}
	adam, err := c.Adam.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	b := append([]byte("LATFLOWC"), 0, 0, 0, 0, 0, 0, 0, 0)
	le.PutUint32(b[8:], version)
	le.PutUint32(b[12:], uint32(len(hdr)))
	b = append(b, hdr...)
	for _, sec := range [][]byte{model, adam, c.RNG} {
		b = le.AppendUint64(b, uint64(len(sec)))
		b = append(b, sec...)
	}
	b = le.AppendUint64(b, uint64(len(c.Log)))
	for _, r := range c.Log {
		b = le.AppendUint64(b, uint64(r.Step))
		for _, v := range []float64{r.Loss, r.GradNorm, r.ESS, r.StdLogW, r.LR, r.WallSeconds} {
			b = le.AppendUint64(b, math.Float64bits(v))
		}
		var s byte
		if r.Skipped {
			s = 1
		}
		b = append(b, s)
		if version >= 2 {
			b = le.AppendUint64(b, math.Float64bits(r.ESSFresh))
		}
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// TestCheckpointOldVersions: checkpoints of formats 1 and 2 still load,
// with everything they hold, the fresh acceptance as not measured and the
// CPU time as unknown (NaN); a run resumed from one logs NaN CPU time and
// trains on as from a new checkpoint. A version above this latflow's is
// refused.
func TestCheckpointOldVersions(t *testing.T) {
	c, _ := trainedCheckpoint(t)
	c.Log[1].ESSFresh, c.Log[1].AccFresh = 0.5, 0.25
	if flowtrain.CheckpointFormatVersion != 3 {
		t.Fatalf("CheckpointFormatVersion %d: update this test", flowtrain.CheckpointFormatVersion)
	}
	for _, v := range []uint32{1, 2} {
		got, err := flowtrain.DecodeCheckpoint("old", encodeOldCheckpoint(t, c, v))
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		if !math.IsNaN(got.CPUElapsed) {
			t.Errorf("version %d: cpu elapsed %g, want NaN (unknown)", v, got.CPUElapsed)
		}
		if !sameBits(logValues(got.Log), logValues(c.Log)) || got.Elapsed != c.Elapsed || got.Step != c.Step ||
			!sameBits(got.Model.Params, c.Model.Params) || !reflect.DeepEqual(got.Adam, c.Adam) {
			t.Errorf("version %d: the checkpoint's content differs from what was written", v)
		}
		for i, r := range got.Log {
			wantFresh := c.Log[i].ESSFresh
			if v == 1 {
				wantFresh = 0
			}
			if r.ESSFresh != wantFresh || r.AccFresh != 0 || !math.IsNaN(r.CPUSeconds) || r.WallSeconds != c.Log[i].WallSeconds {
				t.Errorf("version %d row %d: ess_fresh %g acc_fresh %g cpu %g wall %g, want %g, 0, NaN, %g",
					v, i, r.ESSFresh, r.AccFresh, r.CPUSeconds, r.WallSeconds, wantFresh, c.Log[i].WallSeconds)
			}
		}
		s := setup{obj: flowtrain.Reverse, grad: flowtrain.FastPath, schedule: "plateau", steps: 5, workers: 1}
		tr := newTrainer[float64](t, s)
		if err := tr.Restore(got); err != nil {
			t.Fatalf("version %d: restore: %v", v, err)
		}
		if err := tr.Train(context.Background(), flowtrain.TrainOptions{Steps: s.steps, Run: s.run()}); err != nil {
			t.Fatal(err)
		}
		if r := tr.Log()[4]; !math.IsNaN(r.CPUSeconds) || !(r.WallSeconds >= c.Elapsed) {
			t.Errorf("version %d, resumed: cpu_seconds %g wall %g, want NaN (the earlier CPU time is unknown) and at least %g", v, r.CPUSeconds, r.WallSeconds, c.Elapsed)
		}
		// Saved again, it is a version-3 checkpoint without cpu_elapsed.
		b, err := tr.Checkpoint(s.run()).Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := flowtrain.DecodeCheckpoint("again", b)
		if err != nil || !math.IsNaN(again.CPUElapsed) {
			t.Errorf("version %d resumed and saved: got cpu %v (%v), want NaN", v, again.CPUElapsed, err)
		}
	}
	b := encodeOldCheckpoint(t, c, 4)
	if _, err := flowtrain.DecodeCheckpoint("future", b); err == nil || !strings.Contains(err.Error(), "format version 4") {
		t.Errorf("version 4: got %v, want an error naming format version 4", err)
	}
}
