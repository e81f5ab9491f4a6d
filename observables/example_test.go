package observables_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"latflow/observables"
)

// An AR(1) chain x_t = rho x_{t-1} + sqrt(1-rho^2) eta_t with rho = 0.5 has
// tau_int = (1+rho) / (2 (1-rho)) = 1.5; four replicas are analysed together.
func ExampleGammaPrimary() {
	const rho = 0.5
	rng := rand.New(rand.NewPCG(1, 2))
	replicas := make([][]float64, 4)
	for r := range replicas {
		x := make([]float64, 25_000)
		x[0] = rng.NormFloat64()
		for i := 1; i < len(x); i++ {
			x[i] = rho*x[i-1] + math.Sqrt(1-rho*rho)*rng.NormFloat64()
		}
		replicas[r] = x
	}
	est, err := observables.GammaPrimary(replicas, observables.GammaOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("N = %d, error = %.4f, tau_int = %.2f +- %.2f\n", est.N, est.Err, est.TauInt, est.TauIntErr)
	// Output:
	// N = 100000, error = 0.0055, tau_int = 1.49 +- 0.03
}

// The Binder cumulant of a magnetization that only takes the values +-c is 2/3.
func ExampleBinder() {
	m := [][]float64{{0.5, -0.5, -0.5, 0.5, 0.5, -0.5}}
	u4, err := observables.Binder(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("U_4 = %.4f, error %g\n", u4.Mean, u4.Err)
	// Output:
	// U_4 = 0.6667, error 0
}

func ExampleWriteTable() {
	rows := []observables.Row{
		{Name: "<cos P>", Est: observables.Estimate{Mean: 0.809934, Err: 0.000123, TauInt: 2.51, TauIntErr: 0.12, Window: 14, N: 10000}, Exact: 0.8099853, HasExact: true, Cost: 0.000502},
		{Name: "chi_t", Est: observables.Estimate{Mean: 0.01112, Err: 0.00021, TauInt: 4.2, TauIntErr: 0.4, Window: 25, N: 10000}, Exact: 0.01106080, HasExact: true},
		{Name: "|m|", Est: observables.Estimate{Mean: 0.4321, Err: 0.0031, TauInt: 0.55, TauIntErr: 0.01, Window: 2, N: 10000}},
	}
	if err := observables.WriteTable(os.Stdout, rows); err != nil {
		fmt.Println(err)
	}
	// Output:
	// observable        value      mean     error  tau_int    +-   W      exact  dev/sigma  cost/ms
	// <cos P>     0.80993(12)  0.809934  0.000123     2.51  0.12  14  0.8099853      -0.42    0.502
	// chi_t       0.01112(21)   0.01112   0.00021      4.2   0.4  25  0.0110608      +0.28        -
	// |m|          0.4321(31)    0.4321    0.0031     0.55  0.01   2          -          -        -
}
