package main

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
	Observables     []struct {
		Name   string   `json:"name"`
		Mean   float64  `json:"mean"`
		Error  float64  `json:"error"`
		TauInt float64  `json:"tau_int"`
		Exact  *float64 `json:"exact"`
		Sigma  *float64 `json:"deviation_sigma"`
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
