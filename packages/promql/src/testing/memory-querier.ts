import {
  ArraySampleIterator,
  compareLabels,
  getLabel,
  labelsFromObject,
  type Labels,
  type Matcher,
  type Querier,
  type Series,
} from '@strata/tsdb-core';

/**
 * An in-memory Querier for tests, with a loader for Prometheus' test notation:
 * `q.load(60_000, { 'http_requests{job="api"}': '0+10x10' })` adds samples at 0, 60s, … ; values
 * are `a+bxN` / `a-bxN` (N+1 samples), `_` (no sample), `stale` (stale marker), numbers, `Inf`, `NaN`.
 */
export class MemoryQuerier implements Querier {
  private readonly series = new Map<string, { labels: Labels; ts: number[]; vs: number[]; stale: number[] }>();
  /** Every select call, for assertions on how the engine reads storage. */
  readonly selects: { mint: number; maxt: number; matchers: string[] }[] = [];

  load(intervalMs: number, data: Record<string, string>, startMs = 0): this {
    for (const [metric, desc] of Object.entries(data)) {
      const labels = parseMetric(metric);
      let t = startMs;
      for (const v of expandValues(desc)) {
        if (v !== null) this.add(labels, t, v);
        t += intervalMs;
      }
    }
    return this;
  }

  /** Adds one sample; `v === 'stale'` adds a stale marker. Samples must be added in time order. */
  add(labelsOrMetric: Labels | string, t: number, v: number | 'stale'): this {
    const labels = typeof labelsOrMetric === 'string' ? parseMetric(labelsOrMetric) : labelsOrMetric;
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, ts: [], vs: [], stale: [] };
      this.series.set(key, s);
    }
    s.ts.push(t);
    s.vs.push(v === 'stale' ? NaN : v);
    s.stale.push(v === 'stale' ? 1 : 0);
    return this;
  }

  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<Series[]> {
    this.selects.push({ mint, maxt, matchers: matchers.map((m) => m.toString()) });
    const out: Series[] = [];
    for (const s of this.series.values()) {
      if (!matchers.every((m) => m.matches(getLabel(s.labels, m.name)))) continue;
      const idx: number[] = [];
      s.ts.forEach((t, i) => {
        if (t >= mint && t <= maxt) idx.push(i);
      });
      if (idx.length === 0) continue;
      const ts = idx.map((i) => s.ts[i]!);
      const vs = idx.map((i) => s.vs[i]!);
      const stale = idx.map((i) => s.stale[i]!);
      out.push({ labels: s.labels, iterator: () => new ArraySampleIterator(ts, vs, stale) });
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  async labelNames(): Promise<string[]> {
    return [];
  }

  async labelValues(): Promise<string[]> {
    return [];
  }
}

/** Parses `name{a="b", c="d"}` (or `{...}` / `name`). */
export function parseMetric(s: string): Labels {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$/.exec(s);
  if (!m) throw new Error(`bad metric ${s}`);
  const obj: Record<string, string> = {};
  if (m[1]) obj['__name__'] = m[1];
  const body = m[2] ?? '';
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/g;
  let lm: RegExpExecArray | null;
  while ((lm = re.exec(body)) !== null) obj[lm[1]!] = JSON.parse(`"${lm[2]!}"`) as string;
  return labelsFromObject(obj);
}

/** Expands Prometheus' series value notation into values (null = missing, NaN+stale via 'stale'). */
export function expandValues(desc: string): (number | 'stale' | null)[] {
  const out: (number | 'stale' | null)[] = [];
  for (const tok of desc.trim().split(/\s+/)) {
    if (tok === '_') out.push(null);
    else if (tok === 'stale') out.push('stale');
    else {
      const m = /^(-?[\d.e]+|[+-]?Inf|NaN)(?:([+-])([\d.e]+)x(\d+))?$/.exec(tok);
      if (!m) {
        const rep = /^_x(\d+)$/.exec(tok);
        if (rep) {
          for (let i = 0; i < Number(rep[1]); i++) out.push(null);
          continue;
        }
        throw new Error(`bad value ${tok}`);
      }
      const start = Number(m[1]!.replace('Inf', 'Infinity'));
      if (m[2] === undefined) {
        out.push(start);
        continue;
      }
      const inc = Number(m[3]) * (m[2] === '-' ? -1 : 1);
      for (let i = 0; i <= Number(m[4]); i++) out.push(start + inc * i);
    }
  }
  return out;
}
