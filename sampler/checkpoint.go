package sampler

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"latflow/ensemble"
	"latflow/internal/atomicfile"
)

// Checkpoint file formats. Format 2, written by Run, is the JSON object
//
//	{"format":2,"sha256":"<64 hex digits>","checkpoint":{...}}
//
// whose sha256 is the SHA-256 of the exact bytes of the checkpoint object,
// verified before the checkpoint is used: a changed or damaged byte is
// refused naming the file. Format 1 (latflow before checksums) is the
// checkpoint object alone; it is still read, unverified.
const (
	checkpointFormat1 = 1
	checkpointFormat  = 2
)

// checkpointFile is the envelope of a checkpoint of format 2.
type checkpointFile struct {
	Format     int             `json:"format"`
	SHA256     string          `json:"sha256"`
	Checkpoint json.RawMessage `json:"checkpoint"`
}

// encodeCheckpoint returns the bytes of a checkpoint file of format 2.
func encodeCheckpoint(ck *checkpoint) ([]byte, error) {
	body, err := json.Marshal(ck)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	b := fmt.Appendf(nil, `{"format":%d,"sha256":"%s","checkpoint":`, checkpointFormat, hex.EncodeToString(sum[:]))
	b = append(b, body...)
	return append(b, "}\n"...), nil
}

// decodeCheckpoint decodes the bytes of the checkpoint file path, verifying
// the checksum of format 2.
func decodeCheckpoint(path string, b []byte) (*checkpoint, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("sampler: checkpoint %s is corrupt: %s (the file was changed or damaged); the chain cannot "+
			"be continued from it: restore the file, or run the chain again in a new directory (latflow analyze still "+
			"reads its parts)", path, fmt.Sprintf(format, args...))
	}
	var env checkpointFile
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, corrupt("%v", err)
	}
	body := []byte(env.Checkpoint)
	switch env.Format {
	case checkpointFormat1:
		body = b // the checkpoint object alone, without a checksum
	case checkpointFormat:
		want, err := hex.DecodeString(env.SHA256)
		if err != nil || len(want) != sha256.Size {
			return nil, corrupt("no valid sha256 (got %q)", env.SHA256)
		}
		if len(body) == 0 {
			return nil, corrupt("no checkpoint object")
		}
		if got := sha256.Sum256(body); !bytes.Equal(got[:], want) {
			return nil, corrupt("the SHA-256 of its checkpoint object is %x, the file records %x", got, want)
		}
	default:
		return nil, fmt.Errorf("sampler: checkpoint %s: format %d, this latflow reads %d and %d (a newer latflow wrote it, or the file is corrupt)",
			path, env.Format, checkpointFormat1, checkpointFormat)
	}
	var ck checkpoint
	if err := json.Unmarshal(body, &ck); err != nil {
		return nil, corrupt("%v", err)
	}
	if ck.Format != env.Format {
		return nil, corrupt("format %d inside format %d", ck.Format, env.Format)
	}
	return &ck, nil
}

// CheckpointName returns the file name of chain c's checkpoint in a
// dataset directory, e.g. chain-c0003.ckpt.
func CheckpointName(c int) string { return fmt.Sprintf("chain-c%04d.ckpt", c) }

// checkpoint is what a chain needs to continue bit for bit: the number of
// measured steps written (Step) and the index of the next part (Part), the
// configuration, and the update's state. It is written after the
// thermalization, after every part, and when the chain stops; parts with an
// index >= Part found on resume were written after the last checkpoint (a
// crash between part and checkpoint) and are removed, to be written again
// identically.
type checkpoint struct {
	Format   int               `json:"format"`
	Version  string            `json:"version"`
	Target   ensemble.Target   `json:"target"`
	Seed     uint64            `json:"seed"`
	Chain    int               `json:"chain"`
	Settings map[string]string `json:"settings"`
	Step     int64             `json:"step"`
	Part     int               `json:"part"`
	// N is the measured steps the writing run was asked for (its --n), so
	// that latflow status can tell a complete chain (Step == N); 0 in
	// checkpoints written before it was recorded.
	N int64 `json:"n,omitempty"`
	// X is the configuration, little-endian float64 bits.
	X      []byte          `json:"x"`
	Update json.RawMessage `json:"update"`
}

// saveCheckpoint writes chain c's checkpoint atomically.
func (r *Run) saveCheckpoint(c int, step int64, part int, x []float64, upd Update) error {
	st, err := upd.State()
	if err != nil {
		return fmt.Errorf("sampler: checkpoint of chain %d: %w", c, err)
	}
	xb := make([]byte, 0, 8*len(x))
	for _, v := range x {
		xb = binary.LittleEndian.AppendUint64(xb, math.Float64bits(v))
	}
	b, err := encodeCheckpoint(&checkpoint{
		Format: checkpointFormat, Version: r.Version, Target: r.Target, Seed: r.Seed, Chain: c,
		Settings: r.Settings, Step: step, Part: part, N: int64(r.N), X: xb, Update: st,
	})
	if err != nil {
		return fmt.Errorf("sampler: checkpoint of chain %d: %w", c, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(r.Out, CheckpointName(c)), b, 0o644); err != nil {
		return fmt.Errorf("sampler: checkpoint of chain %d: %w", c, err)
	}
	return nil
}

// CheckpointInfo is what a chain's checkpoint says about its progress.
type CheckpointInfo struct {
	Chain int
	Path  string
	Seed  uint64
	// Step is the number of measured steps in complete parts, and Part the
	// index of the chain's next part.
	Step int64
	Part int
	// N is the measured steps the run that wrote the checkpoint was asked
	// for; the chain is complete when Step == N. N is 0 if the checkpoint
	// does not record it.
	N int64
}

// Complete reports whether the chain has all the steps its run asked for.
func (ci CheckpointInfo) Complete() bool { return ci.N > 0 && ci.Step >= ci.N }

// Checkpoints reads the chain checkpoints in the dataset directory dir,
// sorted by chain id, for latflow status. A directory without checkpoints
// gives none; a checkpoint that cannot be read is an error naming it.
func Checkpoints(dir string) ([]CheckpointInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	var out []CheckpointInfo
	for _, e := range entries {
		c, ok := parseCheckpointName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		ck, err := loadCheckpoint(dir, c)
		if err != nil {
			return nil, err
		}
		if ck == nil { // removed since ReadDir
			continue
		}
		out = append(out, CheckpointInfo{Chain: c, Path: filepath.Join(dir, e.Name()), Seed: ck.Seed, Step: ck.Step, Part: ck.Part, N: ck.N})
	}
	slices.SortFunc(out, func(a, b CheckpointInfo) int { return a.Chain - b.Chain })
	return out, nil
}

// parseCheckpointName returns the chain of a file name made by
// CheckpointName.
func parseCheckpointName(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "chain-c")
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, ".ckpt"); !ok || len(digits) < 4 {
		return 0, false
	}
	c, err := strconv.Atoi(digits)
	if err != nil || c < 0 || CheckpointName(c) != name {
		return 0, false
	}
	return c, true
}

// loadCheckpoint reads chain c's checkpoint in dir, or returns nil if there
// is none.
func loadCheckpoint(dir string, c int) (*checkpoint, error) {
	path := filepath.Join(dir, CheckpointName(c))
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	ck, err := decodeCheckpoint(path, b)
	if err != nil {
		return nil, err
	}
	if ck.Chain != c || ck.Step < 0 || ck.Part < 0 || int64(ck.Part) > ck.Step {
		return nil, fmt.Errorf("sampler: checkpoint %s: chain %d, step %d, part %d (corrupted?)", path, ck.Chain, ck.Step, ck.Part)
	}
	return ck, nil
}

// compatible returns a SettingError naming the first setting of r that
// differs from the checkpoint's.
func (ck *checkpoint) compatible(r *Run, c int) error {
	mismatch := func(flag, saved, given string) error {
		return &SettingError{Flag: flag, Msg: fmt.Sprintf("--resume: chain %d in %s was made with --%s %s, this run has --%s %s; give the same value to continue it",
			c, r.Out, flag, saved, flag, given)}
	}
	if name, a, b := ck.Target.Diff(r.Target); name != "" {
		return mismatch(name, a, b)
	}
	if ck.Seed != r.Seed {
		return mismatch("seed", strconv.FormatUint(ck.Seed, 10), strconv.FormatUint(r.Seed, 10))
	}
	keys := make([]string, 0, len(ck.Settings)+len(r.Settings))
	for k := range ck.Settings {
		keys = append(keys, k)
	}
	for k := range r.Settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		a, okA := ck.Settings[k]
		b, okB := r.Settings[k]
		if !okA {
			a = "(none)"
		}
		if !okB {
			b = "(none)"
		}
		if a != b {
			return mismatch(k, a, b)
		}
	}
	if ck.Step > int64(r.N) {
		return &SettingError{Flag: "n", Msg: fmt.Sprintf("--resume: chain %d in %s already has %d measured steps, more than --n %d", c, r.Out, ck.Step, r.N)}
	}
	return nil
}

// restore sets x and the update's state from the checkpoint.
func (ck *checkpoint) restore(x []float64, upd Update) error {
	if len(ck.X) != 8*len(x) {
		return fmt.Errorf("sampler: checkpoint of chain %d: configuration of %d bytes, want %d", ck.Chain, len(ck.X), 8*len(x))
	}
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(ck.X[8*i:]))
	}
	return upd.Restore(ck.Update, x)
}
