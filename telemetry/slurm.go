package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
)

// Resource attribute keys of a Slurm job, from the environment Slurm sets
// in a batch job (values as Slurm gives them, strings). In an array job
// every task has its own job id; the array job id and the task id name the
// task within the array.
const (
	KeySlurmJobID       = attribute.Key("slurm.job_id")        // SLURM_JOB_ID
	KeySlurmArrayJobID  = attribute.Key("slurm.array_job_id")  // SLURM_ARRAY_JOB_ID
	KeySlurmArrayTaskID = attribute.Key("slurm.array_task_id") // SLURM_ARRAY_TASK_ID
)

// slurmEnv maps the Slurm environment variables to their attribute keys.
var slurmEnv = []struct {
	env string
	key attribute.Key
}{
	{"SLURM_JOB_ID", KeySlurmJobID},
	{"SLURM_ARRAY_JOB_ID", KeySlurmArrayJobID},
	{"SLURM_ARRAY_TASK_ID", KeySlurmArrayTaskID},
}

// slurmAttributes returns the Slurm job attributes whose variables getenv
// finds set, none outside Slurm.
func slurmAttributes(getenv func(string) string) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	for _, e := range slurmEnv {
		if v := getenv(e.env); v != "" {
			attrs = append(attrs, e.key.String(v))
		}
	}
	return attrs
}
