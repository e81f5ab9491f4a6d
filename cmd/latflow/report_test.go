package main

import "testing"

// jsonReport is the --json output of hmc, sample and analyze, as the tests
// read it (the writer is observables.Report.WriteJSON).
type jsonReport struct {
	Description     string             `json:"description"`
	Theory          string             `json:"theory"`
	L               int                `json:"L"`
	Couplings       map[string]float64 `json:"couplings"`
	Parametrization string             `json:"parametrization"`
	Sampler         string             `json:"sampler"`
	Chains          int                `json:"chains"`
	Measurements    int64              `json:"measurements"`
	Acceptance      float64            `json:"acceptance"`
	SecondsPer      float64            `json:"seconds_per_step"`
	TrainingSeconds float64            `json:"training_seconds"`
	Observables     []struct {
		Name   string   `json:"name"`
		Mean   float64  `json:"mean"`
		Error  float64  `json:"error"`
		TauInt float64  `json:"tau_int"`
		Exact  *float64 `json:"exact"`
		Sigma  *float64 `json:"deviation_sigma"`
		Cost   *float64 `json:"cost_seconds"`
	} `json:"observables"`
	Proposals           int64   `json:"proposals"`
	LongestRejectionRun int     `json:"longest_rejection_run"`
	ESS                 float64 `json:"ess"`
	LogZ                *struct {
		Value float64  `json:"value"`
		Error float64  `json:"error"`
		Exact *float64 `json:"exact"`
	} `json:"log_z"`
	Notes []string `json:"notes"`
}

// checkCost fails unless every observable of r has the cost 2 tau_int x
// seconds per step (a positive time per step).
func checkCost(t *testing.T, what string, r jsonReport) {
	t.Helper()
	if !(r.SecondsPer > 0) {
		t.Errorf("%s: seconds_per_step %g, want > 0", what, r.SecondsPer)
		return
	}
	for _, o := range r.Observables {
		if want := 2 * o.TauInt * r.SecondsPer; o.Cost == nil || *o.Cost != want {
			t.Errorf("%s: %s: cost_seconds %v, want 2 x tau_int %g x %g s = %g", what, o.Name, o.Cost, o.TauInt, r.SecondsPer, want)
		}
	}
}
