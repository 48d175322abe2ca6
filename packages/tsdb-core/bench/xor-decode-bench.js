#!/usr/bin/env node
'use strict';
/**
 * XOR chunk decode throughput: XorIterator (the generic iterator) against decodeXorInto (the
 * SampleBuffer fast path), over the chunks of one block directory or over synthetic chunks.
 *
 *   node packages/tsdb-core/bench/xor-decode-bench.js [--block DIR] [--runs 7]
 *
 * Needs a build (tsc -b packages/server).
 */
const path = require('node:path');
const { Block, XorAppender, XorIterator, SampleBuffer, floatToBits } = require(path.join(__dirname, '../lib/index.js'));
const { decodeXorInto } = require(path.join(__dirname, '../lib/chunkenc/xor.js'));

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

function synthetic() {
  const chunks = [];
  const bits = new Uint32Array(2);
  for (let s = 0; s < 10000; s++) {
    const a = new XorAppender();
    let v = s;
    for (let i = 0; i < 120; i++) {
      v += (i * 7919 + s) % 10;
      floatToBits(v, bits);
      a.append(1700000000000 + i * 15000, bits[0], bits[1]);
    }
    chunks.push(a.bytes().slice());
  }
  return chunks;
}

async function main() {
  const dir = arg('block');
  const runs = Number(arg('runs', 7));
  let chunks;
  if (dir) {
    const b = await Block.open(dir);
    chunks = (await b.select(-Infinity, Infinity, [])).flatMap((s) => s.chunks.map((c) => c.data));
    await b.close();
  } else chunks = synthetic();
  const buf = new SampleBuffer();
  let total = 0;
  const it = new XorIterator(chunks[0]);
  const cases = {
    iterator() {
      let n = 0;
      for (const c of chunks) {
        buf.reset();
        it.reset(c);
        buf.ensure(it.numSamples());
        while (it.next()) {
          if (it.stale) buf.pushStale(it.t);
          else buf.push(it.t, it.v);
        }
        n += buf.n;
      }
      return n;
    },
    decodeXorInto() {
      let n = 0;
      for (const c of chunks) {
        buf.reset();
        decodeXorInto(c, 0, c.length, -Infinity, Infinity, buf);
        n += buf.n;
      }
      return n;
    },
  };
  for (const [name, f] of Object.entries(cases)) {
    const times = [];
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      total = f();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const med = times[times.length >> 1];
    console.log(`${name}: ${chunks.length} chunks, ${total} samples, ${med.toFixed(1)} ms, ${(total / med / 1000).toFixed(1)} M samples/s`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
