package telemetry

import (
	"context"
	"path/filepath"
	"testing"
)

// TestSlurmResource checks that the spans of a run inside a Slurm array
// task, a plain Slurm job and no Slurm job carry exactly the Slurm
// attributes whose variables are set, read through Options.Getenv.
func TestSlurmResource(t *testing.T) {
	poisonProcessEnv(t)
	// The process environment must not be read: its values would show.
	for _, e := range slurmEnv {
		t.Setenv(e.env, "wrong-"+e.env)
	}
	keys := []string{string(KeySlurmJobID), string(KeySlurmArrayJobID), string(KeySlurmArrayTaskID)}
	for _, c := range []struct {
		name string
		env  map[string]string
		want map[string]any // resource attribute -> value; keys absent here must be absent
	}{
		{"array task", map[string]string{"SLURM_JOB_ID": "1042", "SLURM_ARRAY_JOB_ID": "1040", "SLURM_ARRAY_TASK_ID": "2"},
			map[string]any{"slurm.job_id": "1042", "slurm.array_job_id": "1040", "slurm.array_task_id": "2"}},
		{"plain job", map[string]string{"SLURM_JOB_ID": "77"}, map[string]any{"slurm.job_id": "77"}},
		{"no Slurm", nil, map[string]any{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trace.jsonl")
			tel, err := Setup(context.Background(), Options{TraceFile: path, Getenv: envMap(c.env), ShutdownTimeout: testShutdownTimeout})
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			emitRun(tel.Tracer())
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			spans := readTraceFile(t, path)
			checkRun(t, spans, DefaultServiceName)
			for _, s := range spans {
				for _, k := range keys {
					got, ok := s.resource[k]
					want, wantOK := c.want[k]
					if ok != wantOK || got != want {
						t.Errorf("%s: got resource %s = %v (set %v), want %v (set %v)", s.name, k, got, ok, want, wantOK)
					}
				}
			}
		})
	}
}
