// Package plots draws latflow's pictures with gonum.org/v1/plot: training
// curves from a training log, Monte Carlo histories, the Gamma method's
// autocorrelation function and the histogram of a flow's log weights.
//
// Conventions:
//
//   - Each function builds a Figure (one or more panels) from data already
//     read; nothing is drawn until Figure.Render or Figure.Save. Bad input
//     (no such observable, no rows, nothing finite to draw) is an error
//     before any file is touched.
//   - The output format is chosen by the file's extension, .png or .svg
//     (Format); Save writes a temporary file beside the target and renames
//     it, so that a failed or interrupted save leaves no partial picture.
//   - The autocorrelation picture uses observables.AutocorrelationOf, the
//     same Gamma-method code (window W, bias-corrected tau_int(W)) as
//     latflow's tables.
//   - Non-finite values (skipped training steps, NaN columns) are left out
//     of the curves. Long training logs are drawn as means over blocks of
//     consecutive steps (at most MaxPoints per curve), with the block size
//     in the axis label; the first steps of an untrained flow, far above the
//     rest, are left off the scale of the loss and std(log w), said in the
//     title. A chain's history is drawn with at most MaxHistoryPoints points
//     (every k-th row beyond).
//   - Observables are named as in the table (observables.NamedSeries):
//     action, plaquette, Q, Q^2 for U(1); action, m, |m|, m^2, phi^2 for
//     phi^4; or a dataset column.
package plots
