/**
 * Seven days of data in -target=all with the default block range and query windows: older data
 * is read from shipped blocks in the bucket, recent data from the ingester; both survive a restart.
 */
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pushSeries } from '../helpers/remote-write';
import { startStrata } from '../helpers/strata';
import { api, type MatrixSeries, type VectorSample } from './api';

jest.setTimeout(240_000);

const P = '/prometheus/api/v1';
const STEP = 5 * 60_000;
const N = 2016; // 7 days at 5m
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('queries over 7 days across a restart', async () => {
  const end = Math.floor(Date.now() / STEP) * STEP;
  const times = Array.from({ length: N }, (_, i) => end - (N - 1 - i) * STEP);
  const args = ['-blocks-storage.tsdb.head-compaction-interval=200ms', '-blocks-storage.tsdb.ship-interval=200ms', '-blocks-storage.bucket-store.sync-interval=200ms'];
  let s = await startStrata({ args, keepDir: true });
  const dir = s.dir;
  try {
    for (let i = 0; i < N; i += 12) {
      const chunk = times.slice(i, i + 12);
      const series = [0, 1, 2].map((k) => ({ labels: { __name__: 'week', k: String(k) }, samples: chunk.map((t) => ({ t, v: k * 10000 + times.indexOf(t) })) }));
      expect((await pushSeries(s.pushUrl, series, { tenant: 'weekly' })).status).toBe(200);
    }
    // 84 block ranges: all but the head's last ones get cut and shipped.
    const bucket = join(dir, 'bucket', 'weekly');
    for (let i = 0; i < 300 && !(existsSync(bucket) && readdirSync(bucket).length >= 80); i++) await sleep(100);
    expect(readdirSync(bucket).length).toBeGreaterThanOrEqual(80);
    await sleep(500);
  } finally {
    await s.stop();
  }
  s = await startStrata({ args, dir });
  try {
    const c = await api(s.url, `${P}/query`, { query: 'count_over_time(week[7d])', time: String(end / 1000) }, { tenant: 'weekly' });
    expect(c.status).toBe(200);
    const counts = (c.json.data as { result: VectorSample[] }).result.map((r) => [r.metric.k, r.value[1]]);
    expect(counts).toEqual([['0', String(N)], ['1', String(N)], ['2', String(N)]]);
    const r = await api(
      s.url,
      `${P}/query_range`,
      { query: 'sum(week)', start: String(times[0]! / 1000), end: String(end / 1000), step: '3600' },
      { tenant: 'weekly' },
    );
    const m = (r.json.data as { result: MatrixSeries[] }).result;
    expect(m).toHaveLength(1);
    expect(m[0]!.values).toHaveLength(168);
    for (const [t, v] of m[0]!.values) {
      const i = Math.round((t * 1000 - times[0]!) / STEP);
      expect(Number(v)).toBe(30000 + 3 * i);
    }
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
