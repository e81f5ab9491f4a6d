// Reads every part of a latflow dataset with apache-arrow and with
// nodejs-polars and checks it against expectations written by the Go test
// TestNodeInterop.
//
//   node read.mjs DATASET_DIR EXPECT.json
//
// EXPECT.json: {
//   "parts":    ["part-c0002-00000.arrow", ...],       // sorted file names
//   "rows":     250,                                    // total rows
//   "columns":  [{"name": "chain", "type": "int32", "nullable": false}, ...,
//                {"name": "update", "type": "utf8", "nullable": false},
//                {"name": "links", "type": "list", "inner": "float64", "nullable": true}],
//                // types: int32 int64 uint64 bool float64 utf8,
//                // fixed_size_list (with "size") and list, each with "inner": float64 or float32
//   "metadata": {"latflow.format": "2", ...},           // schema metadata every part holds (apache-arrow only)
//   "nulls":    {"links": 225},                         // null count per column, all parts
//   "values":   [{"row": 10, "column": "links", "value": [0.1, ...]}, ...],  // row counts across parts;
//                                                       // uint64 values as decimal strings
//   "counts":   {"update": {"flow": 200, "hmc": 50}},   // rows per value of a string column (optional)
//   "ensembles": {"dirs": [DIR, DIR2], "by": ["L", "beta"],   // optional: the parts of several
//                 "groups": [{"L": 4, "beta": 3, "rows": 250}, ...]}  // datasets concatenated and grouped
// }
// Exits 1 listing every mismatch, 2 on bad usage.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC, Type, Precision } from 'apache-arrow';
import pl from 'nodejs-polars';

if (process.argv.length !== 4) {
  console.error('usage: node read.mjs DATASET_DIR EXPECT.json');
  process.exit(2);
}
const [dir, expectPath] = process.argv.slice(2);
const expect = JSON.parse(readFileSync(expectPath, 'utf8'));
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
const partsOf = (d) => readdirSync(d).filter((n) => n.startsWith('part-') && n.endsWith('.arrow')).sort();

const parts = partsOf(dir);
check(show(parts) === show(expect.parts), `parts: got ${show(parts)}, want ${show(expect.parts)}`);

// Plain JavaScript value of a cell: numbers for int64 and float64, arrays for
// configurations, null for a null cell; uint64 columns as decimal strings, so
// that seeds above 2^53 compare exactly.
const uint64Cols = new Set(expect.columns.filter((c) => c.type === 'uint64').map((c) => c.name));
const plain = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object') return Array.from(v, plain);
  return v;
};
const cell = (column, v) => (uint64Cols.has(column) && v !== null && v !== undefined ? String(v) : plain(v));

// Compares the columns of one reader (name -> array of plain cells over all
// parts) with the expectations.
function checkValues(reader, columns) {
  for (const c of expect.columns) {
    const col = columns[c.name] ?? [];
    check(col.length === expect.rows, `${reader}: column ${c.name}: got ${col.length} rows, want ${expect.rows}`);
    const nulls = col.filter((v) => v === null).length;
    const want = expect.nulls[c.name] ?? 0;
    check(nulls === want, `${reader}: column ${c.name}: got ${nulls} nulls, want ${want}`);
  }
  for (const { row, column, value } of expect.values) {
    const got = (columns[column] ?? [])[row];
    check(show(got) === show(value), `${reader}: ${column}[${row}]: got ${show(got)}, want ${show(value)}`);
  }
  for (const [column, want] of Object.entries(expect.counts ?? {})) {
    const got = {};
    for (const v of columns[column] ?? []) got[v] = (got[v] ?? 0) + 1;
    const sorted = (o) => Object.fromEntries(Object.entries(o).sort());
    check(show(sorted(got)) === show(sorted(want)), `${reader}: values of ${column}: got ${show(got)}, want ${show(want)}`);
  }
}

// apache-arrow: tableFromIPC on the bytes of each file.
const arrowFloat = { float64: Precision.DOUBLE, float32: Precision.SINGLE };
{
  const columns = {};
  for (const name of parts) {
    const table = tableFromIPC(readFileSync(join(dir, name)));
    const fields = table.schema.fields;
    check(fields.length === expect.columns.length,
      `apache-arrow: ${name}: got ${fields.length} columns, want ${expect.columns.length}`);
    expect.columns.forEach((c, i) => {
      const f = fields[i];
      if (!f) return;
      const t = f.type;
      const inner = () => t.children[0].type.typeId === Type.Float && t.children[0].type.precision === arrowFloat[c.inner];
      let ok;
      switch (c.type) {
        case 'int32': ok = t.typeId === Type.Int && t.bitWidth === 32 && t.isSigned; break;
        case 'int64': ok = t.typeId === Type.Int && t.bitWidth === 64 && t.isSigned; break;
        case 'uint64': ok = t.typeId === Type.Int && t.bitWidth === 64 && !t.isSigned; break;
        case 'bool': ok = t.typeId === Type.Bool; break;
        case 'float64': ok = t.typeId === Type.Float && t.precision === Precision.DOUBLE; break;
        case 'utf8': ok = t.typeId === Type.Utf8; break;
        case 'fixed_size_list': ok = t.typeId === Type.FixedSizeList && t.listSize === c.size && inner(); break;
        case 'list': ok = t.typeId === Type.List && inner(); break;
        default: ok = false;
      }
      check(f.name === c.name && ok && f.nullable === c.nullable,
        `apache-arrow: ${name}: column ${i}: got ${f.name} ${t} nullable=${f.nullable}, want ${c.name} ${c.type}${c.size ? `[${c.size}]` : ''} nullable=${c.nullable}`);
    });
    const md = Object.fromEntries(table.schema.metadata);
    for (const [k, v] of Object.entries(expect.metadata)) {
      check(md[k] === v, `apache-arrow: ${name}: metadata ${k}: got ${show(md[k])}, want ${show(v)}`);
    }
    for (const c of expect.columns) {
      const vec = table.getChild(c.name);
      const cells = columns[c.name] ??= [];
      for (let i = 0; i < table.numRows; i++) cells.push(vec ? cell(c.name, vec.get(i)) : undefined);
    }
  }
  checkValues('apache-arrow', columns);
}

// nodejs-polars: readIPC on a Buffer (readIPC of a path string requires the
// extension .ipc and would take "x.arrow" as inline data).
const polarsFloat = { float64: pl.Float64, float32: pl.Float32 };
{
  const columns = {};
  for (const name of parts) {
    const df = pl.readIPC(readFileSync(join(dir, name)));
    check(show(df.columns) === show(expect.columns.map((c) => c.name)),
      `nodejs-polars: ${name}: got columns ${show(df.columns)}, want ${show(expect.columns.map((c) => c.name))}`);
    expect.columns.forEach((c, i) => {
      const t = df.dtypes[i];
      if (!t) return;
      let ok;
      switch (c.type) {
        case 'int32': ok = t.equals(pl.Int32); break;
        case 'int64': ok = t.equals(pl.Int64); break;
        case 'uint64': ok = t.equals(pl.UInt64); break;
        case 'bool': ok = t.equals(pl.Bool); break;
        case 'float64': ok = t.equals(pl.Float64); break;
        case 'utf8': ok = t.equals(pl.String); break;
        case 'fixed_size_list':
          ok = t.variant === 'FixedSizeList' && t.listSize === c.size && t.inner[0].equals(polarsFloat[c.inner]);
          break;
        case 'list': ok = t.variant === 'List' && t.inner[0].equals(polarsFloat[c.inner]); break;
        default: ok = false;
      }
      check(ok, `nodejs-polars: ${name}: column ${c.name}: got ${t}, want ${c.type}${c.size ? `[${c.size}]` : ''}${c.inner ? `<${c.inner}>` : ''}`);
    });
    for (const c of expect.columns) {
      const cells = columns[c.name] ??= [];
      const s = df.columns.includes(c.name) ? df.getColumn(c.name).toArray() : [];
      for (const v of s) cells.push(cell(c.name, v));
    }
  }
  checkValues('nodejs-polars', columns);
  const all = pl.scanIPC(join(dir, 'part-*.arrow')).collectSync();
  check(all.height === expect.rows, `nodejs-polars: scanIPC of part-*.arrow: got ${all.height} rows, want ${expect.rows}`);
}

// nodejs-polars: datasets of several ensembles concatenated and grouped by
// their ensemble columns, with no schema metadata involved.
if (expect.ensembles) {
  const { dirs, by, groups } = expect.ensembles;
  const all = pl.concat(dirs.map((d) => pl.scanIPC(join(d, 'part-*.arrow')).collectSync()));
  const got = all.groupBy(by).agg(pl.len().alias('rows')).sort(by).toRecords()
    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
  check(show(got) === show(groups), `nodejs-polars: ${dirs.length} datasets grouped by ${by}: got ${show(got)}, want ${show(groups)}`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`ok: ${parts.length} parts, ${expect.rows} rows, ${expect.columns.length} columns, ` +
  `${expect.values.length} values read alike by apache-arrow and nodejs-polars` +
  (expect.ensembles ? `; ${expect.ensembles.dirs.length} ensembles grouped by ${expect.ensembles.by}` : ''));
