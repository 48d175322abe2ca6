import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkSeries } from '../chunk-series';
import { labelsFromObject } from '../labels';
import { MatchType, Matcher } from '../matchers';
import { seriesKeyFromLabels } from '../series-key';
import { SamplesRecordBuilder, decodeRecord, encodeSeriesRecord } from '../wal/records';
import { WAL } from '../wal/wal';
import { lastCheckpoint, replayWithCheckpoint, writeCheckpoint } from '../wal/checkpoint';
import { Head } from './head';

const R = 60_000; // 1m block range

function fill(head: Head, name: string, from: number, to: number, step: number) {
  const labels = labelsFromObject({ __name__: name });
  const key = seriesKeyFromLabels(labels);
  const s = head.get(key) ?? head.create(key, labels);
  for (let t = from; t <= to; t += step) s.append(t, 0x3ff00000, 0, head.chunkRange);
  head.updateTimes(from, to);
}

describe('head blocks and truncation', () => {
  test('chunks are cut at range boundaries; cutBlock takes whole chunks; truncate drops them and GCs empty series', () => {
    const head = new Head({ chunkRange: R });
    fill(head, 'a', 0, 3 * R - 1000, 1000);
    fill(head, 'b', 0, R / 2, 1000); // only in the first range
    const cut = head.cutBlock(0, R);
    expect(cut.map((s) => s.labels[0]!.value)).toEqual(['a', 'b']);
    for (const s of cut) for (const c of s.chunks) expect(c.mint >= 0 && c.maxt < R).toBe(true);
    const it = new ChunkSeries(cut[0]!.labels, cut[0]!.chunks, -Infinity, Infinity).iterator();
    let n = 0;
    while (it.next()) n++;
    expect(n).toBe(60);
    const removed = head.truncate(R);
    expect(removed).toHaveLength(1); // b
    expect(head.numSeries).toBe(1);
    expect(head.minT).toBe(R);
    expect(head.postingsForMatchers([new Matcher(MatchType.EQ, '__name__', 'b')])).toEqual([]);
    expect(head.select(0, 10 * R, [new Matcher(MatchType.EQ, '__name__', 'a')])[0]!.series.chunks(0, R - 1)).toEqual([]);
  });
});

describe('WAL checkpoint', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('keeps live series and recent samples, then replays checkpoint + later segments', async () => {
    const wal = await WAL.open(dir);
    wal.log(encodeSeriesRecord([{ ref: 1, labels: [{ name: '__name__', value: 'live' }] }, { ref: 2, labels: [{ name: '__name__', value: 'dead' }] }]));
    const b = new SamplesRecordBuilder();
    for (let t = 0; t < 10; t++) {
      b.reset();
      b.add(1, t * 1000, 0, t);
      b.add(2, t * 1000, 0, t);
      wal.log(b.finish());
    }
    await wal.sync();
    const seg = await wal.nextSegment();
    b.reset();
    b.add(1, 10_000, 0, 10);
    wal.log(b.finish());
    await wal.sync();
    const res = await writeCheckpoint(dir, seg - 1, { keepSeries: (r) => r === 1, minTime: 5000 });
    expect(res).toMatchObject({ series: 1, samples: 5 });
    await wal.truncateBefore(seg);
    expect((await lastCheckpoint(dir))!.segment).toBe(seg - 1);
    expect(readdirSync(dir).filter((n) => /^\d+$/.test(n))).toEqual([String(seg).padStart(8, '0')]);
    const seen: string[] = [];
    await replayWithCheckpoint(dir, (rec) => {
      const r = decodeRecord(rec);
      if (r.type === 'series') seen.push(...r.series.map((s) => `series ${s.ref}`));
      if (r.type === 'samples') seen.push(...r.samples.refs.map((ref, i) => `${ref}@${r.samples.ts[i]}`));
    });
    expect(seen).toEqual(['series 1', '1@5000', '1@6000', '1@7000', '1@8000', '1@9000', '1@10000']);
    await wal.close();
  });
});
