// Runs the Python snippets of the README's "Arrow datasets" section through
// their nodejs-polars equivalents, one known line at a time, and prints what
// each print() shows as JSON records, for the Go test TestREADMESnippets.
//
//   node readme.mjs SNIPPETS.json
//
// SNIPPETS.json: {"dirs": {"HMC": DIR, "SAMPLE": DIR2}, "lines": ["import polars as pl", ...]}
// A line the table below does not know (the README changed) is an error:
// give it an equivalent here. Prints {"printed": [[record, ...], ...],
// "readIPCPath": ..., ...}; exits 1 on an unknown line or a failed read, 2 on
// bad usage.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';

if (process.argv.length !== 3) {
  console.error('usage: node readme.mjs SNIPPETS.json');
  process.exit(2);
}
const { dirs, lines } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// A path of the README ("HMC/part-c0000-00000.arrow") on this machine.
const path = (p) => {
  const [d, ...rest] = p.split('/');
  return join(dirs[d], ...rest);
};
const glob = (d) => readdirSync(dirs[d]).filter((n) => n.startsWith('part-') && n.endsWith('.arrow')).sort()
  .map((n) => join(dirs[d], n));
// One part by its bytes: nodejs-polars' readIPC takes a path string only if
// it ends in .ipc (see below).
const readPart = (p) => pl.readIPC(readFileSync(p));
const records = (df) => JSON.parse(JSON.stringify(df.toRecords(), (_, x) => (typeof x === 'bigint' ? String(x) : x)));

const env = {};
const printed = [];
const equivalents = {
  'import polars as pl': () => {},
  'import glob, pandas as pd': () => {},
  'df = pl.concat(pl.scan_ipc(f"{d}/part-*.arrow") for d in ["HMC", "SAMPLE"]).collect()': () => {
    env.df = pl.concat(['HMC', 'SAMPLE'].map((d) => pl.scanIPC(join(dirs[d], 'part-*.arrow')).collectSync()));
  },
  'print(df.group_by("L", "beta", "seed", "chain").agg(pl.col("plaquette").mean()).sort("seed", "chain"))': () => {
    printed.push(records(env.df.groupBy(['L', 'beta', 'seed', 'chain']).agg(pl.col('plaquette').mean()).sort(['seed', 'chain'])));
  },
  'print(df.group_by("update").agg(pl.len().alias("rows"), pl.col("delta_h").mean(), pl.col("log_weight").max()).sort("update"))': () => {
    printed.push(records(env.df.groupBy('update')
      .agg(pl.len().alias('rows'), pl.col('delta_h').mean(), pl.col('log_weight').max()).sort('update')));
  },
  'part = pl.read_ipc("HMC/part-c0000-00000.arrow")': () => {
    env.part = readPart(path('HMC/part-c0000-00000.arrow'));
  },
  'print(part.select("step", "action", "delta_h").tail(3))': () => {
    printed.push(records(env.part.select('step', 'action', 'delta_h').tail(3)));
  },
  'df = pd.concat(pd.read_feather(f) for f in sorted(glob.glob("HMC/part-*.arrow")))': () => {
    env.df = pl.concat(glob('HMC').map(readPart));
  },
  'print(df.groupby(["L", "beta", "seed", "chain"])["plaquette"].mean())': () => {
    printed.push(records(env.df.groupBy(['L', 'beta', 'seed', 'chain']).agg(pl.col('plaquette').mean())
      .sort(['L', 'beta', 'seed', 'chain'])));
  },
};

const problems = [];
for (const line of lines) {
  const code = line.trim();
  if (code === '' || code.startsWith('#')) continue;
  const run = equivalents[code];
  if (!run) {
    problems.push(`no nodejs-polars equivalent of the README line: ${code}`);
    continue;
  }
  try {
    run();
  } catch (e) {
    problems.push(`README line ${code}: ${e}`);
  }
}

// Reading one part by path: readIPC(path) of a part, and of a path that does
// not exist, fail alike, so the path string is never opened; the bytes of the
// same file and scanIPC(path) read it.
const part = path('HMC/part-c0000-00000.arrow');
const attempt = (f) => {
  try {
    return `ok: ${f().height} rows`;
  } catch (e) {
    return `error: ${e.message ?? e}`;
  }
};
const out = {
  printed,
  readIPCPath: attempt(() => pl.readIPC(part)),
  readIPCMissing: attempt(() => pl.readIPC(join(dirs.HMC, 'no-such-part.arrow'))),
  readIPCBytes: attempt(() => readPart(part)),
  scanIPCPath: attempt(() => pl.scanIPC(part).collectSync()),
};
console.log(JSON.stringify(out));
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
