package sampler

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"latflow/dataset"
)

// interrupted writes an interrupted run of n steps into a new directory
// and returns it: chains 2 and 3 with complete parts and checkpoints.
func interrupted(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ds")
	r := testRun("hmc", dir, n)
	ctx, hooks := cancelAfter(2*int64(r.Therm) + 130)
	r.Hooks = hooks
	if _, err := r.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: got %v, want context.Canceled", err)
	}
	return dir
}

// snapshot returns the files of dir and their content, without the lock
// files (which a run takes and releases).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".lock-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// resume continues the run of testRun("hmc", dir, n).
func resume(dir string, n int) error {
	r := testRun("hmc", dir, n)
	r.Resume = true
	_, err := r.Start(context.Background())
	return err
}

// TestCheckpointChecksum flips one bit of a chain checkpoint at every byte
// (a different bit at each): the resume is refused naming the checkpoint,
// or, where the bit did not change what the file says (the case of a letter
// in a JSON key or a hex digit), it continues to the rows of an
// uninterrupted run bit for bit. Before checkpoints had a checksum, most
// flips resumed with other rows. An edited step is refused too, and nothing
// in the directory changes when a resume is refused.
func TestCheckpointChecksum(t *testing.T) {
	const n = 200
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := testRun("hmc", ref, n).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, ref)
	dir := interrupted(t, n)
	path := filepath.Join(dir, CheckpointName(2))
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	refused, same := 0, 0
	stride := 3 // one bit of every third byte, the bit rotating
	if testing.Short() {
		stride = 7
	}
	for at := 0; at < len(orig); at += stride {
		b := []byte(string(orig))
		b[at] ^= 1 << (at % 8)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		err := resume(dir, n)
		if err != nil {
			refused++
			if !strings.Contains(err.Error(), path) {
				t.Errorf("byte %d: got %v, want an error naming %s", at, err, path)
			}
			if got := snapshot(t, dir); !maps.Equal(got, withFile(before, CheckpointName(2), b)) {
				t.Fatalf("byte %d: the refused resume changed the directory", at)
			}
			continue
		}
		same++
		sameRows(t, readAll(t, dir), want)
		// Back to the interrupted state.
		restore(t, dir, before)
	}
	t.Logf("%d flips refused, %d harmless (resumed to the reference rows)", refused, same)
	if refused < len(orig)/stride*9/10 {
		t.Errorf("only %d of %d flips refused", refused, len(orig)/stride)
	}

	// An edited step, with the file otherwise well formed.
	var env checkpointFile
	if err := json.Unmarshal(orig, &env); err != nil {
		t.Fatal(err)
	}
	var ck checkpoint
	if err := json.Unmarshal(env.Checkpoint, &ck); err != nil {
		t.Fatal(err)
	}
	ck.Step -= 25
	env.Checkpoint, _ = json.Marshal(ck)
	edited, _ := json.Marshal(env)
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := resume(dir, n); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("edited step: got %v, want the checkpoint refused as corrupt, by name", err)
	}
}

// withFile returns files with name set to content.
func withFile(files map[string]string, name string, content []byte) map[string]string {
	out := maps.Clone(files)
	out[name] = string(content)
	return out
}

// restore makes dir hold exactly the files of a snapshot (lock files
// aside).
func restore(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name := range snapshot(t, dir) {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckpointFormat1: a checkpoint of format 1 (latflow before
// checksums: the checkpoint object alone) still resumes, bit for bit.
func TestCheckpointFormat1(t *testing.T) {
	const n = 200
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := testRun("hmc", ref, n).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := interrupted(t, n)
	for _, c := range []int{2, 3} {
		path := filepath.Join(dir, CheckpointName(c))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var env checkpointFile
		if err := json.Unmarshal(b, &env); err != nil || env.Format != checkpointFormat {
			t.Fatalf("checkpoint: format %d, %v; want %d", env.Format, err, checkpointFormat)
		}
		var old map[string]any
		if err := json.Unmarshal(env.Checkpoint, &old); err != nil {
			t.Fatal(err)
		}
		old["format"] = checkpointFormat1
		b, _ = json.Marshal(old)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := resume(dir, n); err != nil {
		t.Fatalf("resume from format 1 checkpoints: %v", err)
	}
	sameRows(t, readAll(t, dir), readAll(t, ref))
}

// TestRefusedResumeChangesNothing: a resume refused because a part that the
// checkpoint counts is missing, or corrupt, leaves every file of the
// directory as it was: the manifest keeps the missing part's line, and a
// part written after the checkpoint (by a crash between part and
// checkpoint) is not removed.
func TestRefusedResumeChangesNothing(t *testing.T) {
	const n = 200
	for _, damage := range []string{"missing", "corrupt"} {
		t.Run(damage, func(t *testing.T) {
			// The two chains share one step counter, so how far chain 2
			// got when it was cancelled depends on the scheduler: the
			// damaged part is the last one its checkpoint counts, and
			// the run is repeated until that checkpoint counts one.
			var dir string
			var counted int
			for try := 0; counted == 0; try++ {
				if try == 10 {
					t.Fatal("chain 2 wrote no part before the cancellation in 10 runs")
				}
				dir = interrupted(t, n)
				ck, err := loadCheckpoint(dir, 2)
				if err != nil {
					t.Fatal(err)
				}
				if ck != nil {
					counted = ck.Part
				}
			}
			// A crash between part and checkpoint: an older checkpoint.
			old, err := os.ReadFile(filepath.Join(dir, CheckpointName(2)))
			if err != nil {
				t.Fatal(err)
			}
			if err := resume(dir, n); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, CheckpointName(2)), old, 0o644); err != nil {
				t.Fatal(err)
			}
			damaged := dataset.PartName(2, counted-1)
			part := filepath.Join(dir, damaged)
			switch damage {
			case "missing":
				err = os.Remove(part)
			case "corrupt":
				var b []byte
				if b, err = os.ReadFile(part); err == nil {
					b[len(b)/2] ^= 1
					err = os.WriteFile(part, b, 0o644)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			err = resume(dir, n)
			if err == nil || !strings.Contains(err.Error(), damaged) {
				t.Errorf("resume of a chain with a %s part: got %v, want an error naming %s", damage, err, damaged)
			}
			after := snapshot(t, dir)
			for name := range before {
				if _, ok := after[name]; !ok {
					t.Errorf("the refused resume removed %s", name)
				} else if after[name] != before[name] {
					t.Errorf("the refused resume changed %s", name)
				}
			}
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Errorf("the refused resume left %s", name)
				}
			}
		})
	}
}
