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
//                {"name": "links", "type": "fixed_size_list", "size": 32, "nullable": true}],
//   "metadata": {"latflow.format": "1", ...},           // schema metadata (apache-arrow only)
//   "nulls":    {"links": 225},                         // null count per column, all parts
//   "values":   [{"row": 10, "column": "links", "value": [0.1, ...]}, ...]  // row counts across parts
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

const parts = readdirSync(dir).filter((n) => n.startsWith('part-') && n.endsWith('.arrow')).sort();
check(show(parts) === show(expect.parts), `parts: got ${show(parts)}, want ${show(expect.parts)}`);

// Plain JavaScript value of a cell: numbers for int64 and float64, arrays for
// configurations, null for a null cell.
const plain = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object') return Array.from(v, plain);
  return v;
};

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
}

// apache-arrow: tableFromIPC on the bytes of each file.
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
      let ok;
      switch (c.type) {
        case 'int32': ok = t.typeId === Type.Int && t.bitWidth === 32 && t.isSigned; break;
        case 'int64': ok = t.typeId === Type.Int && t.bitWidth === 64 && t.isSigned; break;
        case 'bool': ok = t.typeId === Type.Bool; break;
        case 'float64': ok = t.typeId === Type.Float && t.precision === Precision.DOUBLE; break;
        case 'fixed_size_list':
          ok = t.typeId === Type.FixedSizeList && t.listSize === c.size &&
            t.children[0].type.typeId === Type.Float && t.children[0].type.precision === Precision.DOUBLE;
          break;
        default: ok = false;
      }
      check(f.name === c.name && ok && f.nullable === c.nullable,
        `apache-arrow: ${name}: column ${i}: got ${f.name} ${t} nullable=${f.nullable}, want ${c.name} ${c.type}${c.size ? `[${c.size}]` : ''} nullable=${c.nullable}`);
    });
    const md = Object.fromEntries(table.schema.metadata);
    check(show(md) === show(expect.metadata), `apache-arrow: ${name}: metadata: got ${show(md)}, want ${show(expect.metadata)}`);
    for (const c of expect.columns) {
      const vec = table.getChild(c.name);
      const cells = columns[c.name] ??= [];
      for (let i = 0; i < table.numRows; i++) cells.push(vec ? plain(vec.get(i)) : undefined);
    }
  }
  checkValues('apache-arrow', columns);
}

// nodejs-polars: readIPC on a Buffer (readIPC of a path string requires the
// extension .ipc and would take "x.arrow" as inline data).
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
        case 'bool': ok = t.equals(pl.Bool); break;
        case 'float64': ok = t.equals(pl.Float64); break;
        case 'fixed_size_list':
          ok = t.variant === 'FixedSizeList' && t.listSize === c.size && t.inner[0].equals(pl.Float64);
          break;
        default: ok = false;
      }
      check(ok, `nodejs-polars: ${name}: column ${c.name}: got ${t}, want ${c.type}${c.size ? `[${c.size}]` : ''}`);
    });
    for (const c of expect.columns) {
      const cells = columns[c.name] ??= [];
      const s = df.columns.includes(c.name) ? df.getColumn(c.name).toArray() : [];
      for (const v of s) cells.push(plain(v));
    }
  }
  checkValues('nodejs-polars', columns);
  const all = pl.scanIPC(join(dir, 'part-*.arrow')).collectSync();
  check(all.height === expect.rows, `nodejs-polars: scanIPC of part-*.arrow: got ${all.height} rows, want ${expect.rows}`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`ok: ${parts.length} parts, ${expect.rows} rows, ${expect.columns.length} columns, ` +
  `${expect.values.length} values read alike by apache-arrow and nodejs-polars`);
