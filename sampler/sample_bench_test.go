package sampler_test

import (
	"context"
	"testing"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/models"
	"latflow/nn"
	"latflow/sampler"
)

// BenchmarkSampleShipped measures latflow sample end to end with a shipped
// model: proposals drawn in batches on GOMAXPROCS cores, actions,
// independence Metropolis, measurement and the Arrow dataset of every row
// (no configurations). Run it with GOMAXPROCS=1 and 2 for the scaling.
func BenchmarkSampleShipped(b *testing.B) {
	for _, c := range []struct {
		name string
		t    ensemble.Target
	}{
		{"u1/L=16", ensemble.NewU1(16, 3)},
		{"phi4/L=8", ensemble.NewPhi4Standard(8, -4, 8)},
	} {
		_, data, err := models.Default(c.t.Theory)
		if err != nil {
			b.Fatal(err)
		}
		m, err := flow.Decode("shipped", data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/float32", func(b *testing.B) { benchSample[float32](b, c.t, m) })
		b.Run(c.name+"/float64", func(b *testing.B) { benchSample[float64](b, c.t, m) })
	}
}

func benchSample[T nn.Float](b *testing.B, t ensemble.Target, m flow.Model) {
	f, err := flow.BuildAt[T](m, t.L)
	if err != nil {
		b.Fatal(err)
	}
	r := &sampler.Run{Target: t, Seed: 1, Chains: 1, N: max(b.N, 1), Out: b.TempDir(), PartRows: 1000, Sampler: "imh"}
	r.NewUpdate = func(c int) (sampler.Update, error) {
		return sampler.NewIMH(&sampler.FlowProposal[T]{Flow: f}, t.Action(t.Geometry()), 256, 0,
			sampler.NewStream(1, c, sampler.StreamProposal), sampler.NewStream(1, c, sampler.StreamAccept))
	}
	b.ResetTimer()
	if _, err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proposals/s")
}
