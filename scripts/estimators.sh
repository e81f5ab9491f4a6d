#!/bin/sh
# estimators.sh: the six gradient estimators (reverse and forward KL, each
# standard, drop-in path and fast path) at the critical point of 2D phi^4
# (kappa 0.27, lambda 0.022), each trained on one thread for the same CPU
# time, for several seeds. Each run's log (OUT/L-objective-gradient-sSEED.flow.log.arrow)
# has the fresh ESS/N and independence-Metropolis acceptance every EVERY
# steps against the CPU seconds; the model's --eval on 20000 fresh samples
# is in the .json beside it.
#
#   scripts/estimators.sh L CPU_BUDGET DATA OUT [SEEDS] [EVERY]
#
# DATA is an HMC dataset at the same target for the forward KL, e.g.
#   latflow hmc --theory phi4 --L 16 --kappa 0.27 --lambda 0.022 --tau 8 \
#     --n 20000 --therm 500 --save-every 4 --out hmc16 --seed 21
# Example (the closing note's runs):
#   scripts/estimators.sh 16 120s hmc16 est16 "1 2 3" 250
# then: latflow plot train --x cpu est16/16-reverse-*-s1.flow.log.arrow -o est16.png
# EXTRA adds train flags to every run, e.g. the measured Gaussian base:
#   EXTRA="--base gauss-k --base-propagator hmc32 --layer-init identity" \
#     scripts/estimators.sh 32 120s hmc32 est32g "1 2 3" 100
set -eu
L=$1 BUDGET=$2 DATA=$3 OUT=$4 SEEDS=${5:-"1 2 3"} EVERY=${6:-250}
LATFLOW=${LATFLOW:-latflow} EXTRA=${EXTRA:-}
mkdir -p "$OUT"
for seed in $SEEDS; do
  for obj in reverse forward; do
    for grad in standard dropin-path fast-path; do
      name="$OUT/$L-$obj-$grad-s$seed"
      [ -f "$name.json" ] && continue
      data=""
      [ "$obj" = forward ] && data="--data $DATA"
      GOMAXPROCS=1 "$LATFLOW" train --theory phi4 --L "$L" --kappa 0.27 --lambda 0.022 \
        --hidden 16,16 --batch 64 --lr 1e-3 --objective "$obj" --gradient "$grad" $data \
        --seed "$seed" --threads 1 --steps 1000000 --max-cpu-time "$BUDGET" \
        --eval-every "$EVERY" --eval 20000 --checkpoint-every 0 --force --json $EXTRA \
        --out "$name.flow" > "$name.json.tmp" 2> "$name.err"
      mv "$name.json.tmp" "$name.json"
    done
  done
done
