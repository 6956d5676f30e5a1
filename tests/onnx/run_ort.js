// run_ort.js — runs an exported focal model with ONNX Runtime (onnxruntime-node)
// and compares its probabilities with focal's.
//
//   node run_ort.js MODEL.onnx INPUTS.npy REF.csv [OTHER.csv ...]
//
// INPUTS.npy holds the float32 input tensor ([N, C, H, W] images or [N, F]
// features; tests/onnx/onnx_inputs.c writes it with REF.csv, focal's
// probabilities of the same samples in the same order: a header, then
// id,p0,...,pK-1). OTHER.csv files (e.g. `focal predict`'s output: ID, the
// K probabilities, then label columns) are matched to REF.csv by their first
// column. The whole batch runs at once, then every sample again as a batch
// of one (the batch dimension is free). Prints the largest |difference| per
// reference; exits 1 when one exceeds the tolerance (1e-5) or anything is
// malformed.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

const TOL = 1e-5;

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString('latin1', 4, 6) !== 'PY')
    throw new Error(`${path}: not a .npy file`);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False"))
    throw new Error(`${path}: expected little-endian float32 in C order, got ${header.trim()}`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 10 + hlen;
  if (buf.length !== start + 4 * count) throw new Error(`${path}: ${buf.length - start} data bytes for ${shape}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { shape, data };
}

// rows of a CSV without quoted fields: [{id, values[]}]
function readCsv(path, k) {
  const lines = fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.length);
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    const values = f.slice(1, 1 + k).map(Number);
    if (values.length !== k || values.some((v) => !Number.isFinite(v)))
      throw new Error(`${path}: row '${l}' does not hold ${k} probabilities`);
    return { id: f[0], values };
  });
}

async function main() {
  const [model, npy, ...refs] = process.argv.slice(2);
  if (!model || !npy || refs.length === 0) throw new Error('usage: node run_ort.js MODEL.onnx INPUTS.npy REF.csv [OTHER.csv ...]');
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  if (session.inputNames.join() !== 'input' || session.outputNames.join() !== 'probabilities')
    throw new Error(`inputs ${session.inputNames}, outputs ${session.outputNames}; expected input, probabilities`);
  const x = readNpy(npy);
  const n = x.shape[0], per = x.data.length / n;
  const full = (await session.run({ input: new ort.Tensor('float32', x.data, x.shape) })).probabilities;
  if (full.dims.length !== 2 || full.dims[0] !== n) throw new Error(`output dims ${full.dims} for ${n} samples`);
  const k = full.dims[1];
  const probs = full.data;
  // every sample alone: a batch of one gives the same numbers
  let single = 0;
  for (let i = 0; i < n; i++) {
    const one = new ort.Tensor('float32', x.data.slice(i * per, (i + 1) * per), [1, ...x.shape.slice(1)]);
    const p = (await session.run({ input: one })).probabilities.data;
    for (let j = 0; j < k; j++) single = Math.max(single, Math.abs(p[j] - probs[i * k + j]));
  }
  let failed = single > TOL;
  console.log(`ort ${ort.env.versions.node}: ${n} samples x ${k} outputs; batch of 1 vs batch of ${n}: max |diff| ${single.toExponential(2)}`);
  const order = readCsv(refs[0], k);
  if (order.length !== n) throw new Error(`${refs[0]}: ${order.length} rows for ${n} samples`);
  const row = new Map(order.map((r, i) => [r.id, i]));
  for (const ref of refs) {
    const rows = readCsv(ref, k);
    if (rows.length !== n) throw new Error(`${ref}: ${rows.length} rows for ${n} samples`);
    let worst = 0, at = '';
    for (const r of rows) {
      const i = row.get(r.id);
      if (i === undefined) throw new Error(`${ref}: id '${r.id}' is not among ${refs[0]}'s`);
      for (let j = 0; j < k; j++) {
        const d = Math.abs(r.values[j] - probs[i * k + j]);
        if (d > worst) { worst = d; at = `${r.id}, output ${j}: focal ${r.values[j]}, ort ${probs[i * k + j]}`; }
      }
    }
    const bad = worst > TOL;
    failed = failed || bad;
    console.log(`${bad ? 'FAIL' : 'ok'}: max |ort - ${ref.split('/').pop()}| = ${worst.toExponential(2)}${at ? ` (${at})` : ''}`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(`run_ort: ${e.message}`); process.exit(1); });
