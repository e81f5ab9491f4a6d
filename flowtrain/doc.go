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
//   - The forward-KL path gradients are unbiased on fresh samples of the
//     target only (Proposition 4.1 of Vaitl et al. takes the expectation
//     over p). On a dataset drawn again and again their dataset average is
//     the maximum-likelihood gradient plus a frozen noise that is not the
//     gradient of any loss; far from convergence it is large and training
//     diverges (issue 14). So a Trainer uses them under a PathSwitch,
//     which measures their per-sample variance against maximum likelihood
//     (GradientVariance), and can draw fresh samples from a Source (an
//     exact sampler) instead of a dataset.
//   - A training run's files (model OUT, checkpoint, log) belong to one
//     run at a time: LockOutput holds OUT.lock for the run's life. Train
//     writes no log or checkpoint before the first update, so a run in
//     which every step was skipped leaves nothing behind.
//   - Times in the training log and the checkpoint are cumulative over
//     resumed sessions: wall_seconds (wall clock) and cpu_seconds (the
//     process's user + system CPU time, getrusage; NaN where unknown). The
//     fresh-sample columns ess_fresh and acc_fresh are measured together
//     on the same samples and are NaN in the file off the measured steps.
//     Newer readers load older logs and checkpoints (CheckpointFormatVersion
//     and ReadLog say what the missing columns read as).
package flowtrain
