package main

// The usage lines and examples of each command's --help (urfave/cli's
// UsageText). Every example is a command line that parses against its
// command (TestHelpExamplesParse).

const exactUsage = `latflow exact [flags]

Examples:
  # exact finite-torus values of U(1) at beta 3 on 16 x 16
  latflow exact --beta 3.0 --L 16
  # the same as JSON
  latflow exact --beta 2 --L 8 --json`

const hmcUsage = `latflow hmc [flags]

Examples:
  # HMC for U(1) at beta 3 on 16 x 16
  latflow hmc --theory u1 --beta 3.0 --L 16 --n 5000
  # four phi^4 chains written as an Arrow dataset with every tenth configuration
  latflow hmc --theory phi4 --L 8 --m2 -4 --lambda 8 --chains 4 --out runs/phi4 --save-every 10
  # continue that run (after an interruption, or to a larger --n)
  latflow hmc --theory phi4 --L 8 --m2 -4 --lambda 8 --chains 4 --out runs/phi4 --save-every 10 --n 20000 --resume
  # the Schwinger model (two flavours of Wilson fermions) by pseudofermion HMC
  latflow hmc --theory schwinger --L 16 --beta 4 --kappa 0.26 --n 5000`

const sampleUsage = `latflow sample [flags]

Examples:
  # U(1) at beta 3 on 16 x 16 with the shipped flow
  latflow sample --beta 3.0 --L 16
  # a shipped phi^4 flow named explicitly, four chains into a dataset
  latflow sample --theory phi4 --L 8 --m2 -4 --lambda 8 --model shipped:phi4-L8-m2-4-lambda8 --chains 4 --out runs/imh
  # independent exact U(1) samples, e.g. as training data
  latflow sample --proposal plaquettes --exact --L 16 --out train-data
  # the Schwinger model, exact determinant in the weight: plaquette proposals and one
  # HMC trajectory (on the exact action) after every 10 of them; --model FILE for a flow
  latflow sample --theory schwinger --L 8 --beta 2 --kappa 0.24 --hmc-every 10`

const analyzeUsage = `latflow analyze [flags] DIR [DIR...]

Examples:
  # the Gamma-method table of one dataset
  latflow analyze runs/phi4
  # two runs of one ensemble (other --chain-offset or --seed), 100 rows per chain dropped, as JSON
  latflow analyze runs/a runs/b --therm 100 --json`

const submitUsage = `latflow submit [flags] -- sample|hmc [FLAGS]

Examples:
  # a Slurm array of 4 HMC tasks writing one ensemble into runs/u1
  latflow submit --tasks 4 --out runs/u1 -- hmc --beta 3.0 --L 16 --n 100000
  # print the sbatch script of 8 flow-sampling tasks instead of submitting it
  latflow submit --tasks 8 --time 2:00:00 --cpus-per-task 4 --out runs/imh --dry-run -- sample --beta 3.0 --L 16 --n 100000`

const statusUsage = `latflow status [flags] DIR

Examples:
  # rows, last step, parts and state of each chain
  latflow status runs/u1
  # the same as JSON
  latflow status runs/u1 --json`

const trainUsage = `latflow train [flags]

Examples:
  # a U(1) flow on the plaquette base, starting as its base
  latflow train --theory u1 --beta 3 --L 16 --base plaquettes --layer-init identity --out u1.flow
  # a U(1) flow for the Schwinger model (the exact determinant in the target)
  latflow train --theory schwinger --L 8 --beta 2 --kappa 0.24 --out schwinger.flow
  # fine-tune the shipped phi^4 flow
  latflow train --theory phi4 --L 8 --m2 -4 --lambda 8 --init shipped:phi4-L8-m2-4-lambda8 --steps 500 --out phi4-tuned.flow
  # forward KL on configurations saved by hmc --save-every
  latflow train --theory phi4 --L 8 --m2 -4 --lambda 8 --objective forward --data runs/phi4 --out phi4-fwd.flow`

const benchUsage = `latflow bench [flags]

Examples:
  # milliseconds per training step of the six gradient estimators
  latflow bench --theory u1 --L 16 --batch 64
  # their per-sample gradient variance at the shipped phi^4 flow
  latflow bench --variance --theory phi4 --L 8 --model shipped:phi4-L8-m2-4-lambda8`

const modelsUsage = `latflow models [flags] [--export NAME FILE]

Examples:
  # the shipped models with their ESS and acceptance
  latflow models
  # with the commands that trained them, as JSON
  latflow models --json
  # write a shipped model to a file, e.g. to fine-tune it with train --init
  latflow models --export u1-L16-beta3 u1.flow`

const plotUsage = `latflow plot train|history|autocorr|weights [flags] ARGS

Examples:
  # training curves of two estimators, compared at equal wall time
  latflow plot train fast.flow.log.arrow standard.flow.log.arrow --x time -o train.png
  # Monte Carlo histories of Q and the plaquette, the first 100 rows marked
  latflow plot history runs/u1 --obs Q,plaquette --therm 100 -o history.svg
  # the Gamma method's autocorrelation function of Q^2
  latflow plot autocorr runs/u1 --obs Q^2 -o autocorr.png
  # the log-weight histogram of a flow's proposals
  latflow plot weights runs/imh -o weights.png`
