package flowtrain

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestReversePathFD checks the reverse path gradients (drop-in and fast)
// against central finite differences of their defining loss: the mean over
// the batch of log q_theta0(x_theta(z)) + S(x_theta(z)), with the density
// frozen at the current parameters theta0 (an independent route: the
// inverse pass of a copy of the flow) and the same base draws z at every
// theta. The target's score dS/dx enters through x_theta, so for the
// Schwinger case this checks the determinant's link gradient as the
// estimator uses it.
func TestReversePathFD(t *testing.T) {
	const (
		directions = 3
		batch      = 4
		seed       = 5
	)
	for _, c := range testCases(t) {
		for _, g := range []GradientType{DropInPath, FastPath} {
			t.Run(c.name+"/"+g.String(), func(t *testing.T) {
				e, err := NewEstimator(c.flow, c.target, Reverse, g, batch, 2)
				if err != nil {
					t.Fatal(err)
				}
				theta := make([]float64, c.flow.NumParams())
				c.flow.GetParams(theta)
				defer c.flow.SetParams(theta)
				_, grad := runEstimate(t, e, c, seed)
				frozen := newFlowAction(copyFlow(t, c.flow))
				n := c.flow.Size
				pass := c.flow.NewPass(batch)
				z, x := make([]float64, batch*n), make([]float64, batch*n)
				logq := make([]float64, batch)
				loss := func(h float64, u []float64) float64 {
					p := make([]float64, len(theta))
					for k := range p {
						p[k] = theta[k] + h*u[k]
					}
					c.flow.SetParams(p)
					// The estimator's draws: runEstimate's stream.
					c.flow.SampleBase(rand.New(rand.NewPCG(seed, 2)), z)
					c.flow.Forward(pass, x, nil, logq, z, 1)
					var sum float64
					for i := range batch {
						xi := x[i*n : (i+1)*n]
						sum += -frozen.Action(xi) + c.target.Action(xi)
					}
					return sum / batch
				}
				rng := rand.New(rand.NewPCG(7, 8))
				scale := math.Max(1, norm(grad))
				for d := range directions {
					u := make([]float64, len(theta))
					for k := range u {
						u[k] = rng.NormFloat64()
					}
					nu := norm(u)
					for k := range u {
						u[k] /= nu
					}
					fd := (loss(estFDStep, u) - loss(-estFDStep, u)) / (2 * estFDStep)
					got := dot(grad, u)
					if err := math.Abs(got-fd) / scale; err > estFDTol {
						t.Errorf("direction %d: got grad . u = %.10g, want FD %.10g (error %.3g of |grad| = %.4g, want < %g)", d, got, fd, err, scale, estFDTol)
					}
					t.Logf("direction %d: grad . u = %.8g, FD %.8g, |grad| = %.4g", d, got, fd, scale)
				}
			})
		}
	}
}
