// Package flowtrain holds the gradient estimators, the optimizer and the
// training loop of latflow's normalizing flows (package flow).
//
// Conventions:
//
//   - The parameters being trained are one flat []float64, the master
//     copy, in the order of flow.Flow's GetParams and SetParams (layer by
//     layer, each layer in the order of its nn.Net). A float32 flow is
//     refreshed from the master copy after each update.
//   - A gradient is a []float64 of the same length holding the gradient of
//     the loss to be minimised (reverse or forward KL), so an update moves
//     the parameters against it. An estimator of a quantity to be
//     maximised (a log-likelihood) must negate its gradient.
//   - The step counter starts at 1: Adam.Step counts the updates done, the
//     update in progress is step Adam.Step+1, and a learning-rate Schedule
//     is asked for LR(step) with step >= 1. Schedules that learn from the
//     run (ReduceOnPlateau) are fed one Observe(metric) after each step,
//     lower metrics being better.
//   - Optimizer and schedule state is exported so that checkpoints can save
//     and restore it exactly; Adam has a versioned binary encoding.
//   - Update, ClipNorm and Finite do not allocate. Misuse (length mismatch,
//     invalid hyperparameters) panics with a message prefixed "flowtrain: ";
//     bad input from a user (ParseSchedule) or a file (UnmarshalBinary)
//     returns an error.
package flowtrain
