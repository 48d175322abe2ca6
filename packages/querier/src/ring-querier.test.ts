import { MatchType, Matcher, XorAppender, labelsFromObject, type IngesterClient, type SeriesChunks } from '@strata/tsdb-core';
import { RingIngesterQuerier, type RingInstance } from './ring-querier';

function series(name: string, ts: number[]): SeriesChunks {
  const a = new XorAppender();
  for (const t of ts) a.append(t, 0x3ff00000, 0); // value 1
  return { labels: labelsFromObject({ __name__: name }), chunks: [{ mint: ts[0]!, maxt: ts[ts.length - 1]!, encoding: 1, data: a.bytes().slice() }] };
}

const fake = (data: SeriesChunks[] | Error) =>
  ({
    queryChunks: async () => {
      if (data instanceof Error) throw data;
      return data;
    },
    labelNames: async () => (data instanceof Error ? Promise.reject(data) : ['__name__']),
  }) as unknown as IngesterClient;

const INST: RingInstance[] = ['a', 'b', 'c'].map((id) => ({ id, addr: id }));

async function collect(q: RingIngesterQuerier) {
  const out: [string, number[]][] = [];
  for (const s of await q.select(0, 1e9, [new Matcher(MatchType.RE, '__name__', '.+')])) {
    const it = s.iterator();
    const ts: number[] = [];
    while (it.next()) ts.push(it.t);
    out.push([s.labels[0]!.value, ts]);
  }
  return out;
}

describe('ring querier', () => {
  test('replicated copies are merged: every sample once', async () => {
    const clients: Record<string, IngesterClient> = {
      a: fake([series('m', [1, 2, 3]), series('n', [5])]),
      b: fake([series('m', [2, 3, 4])]),
      c: fake([series('m', [1, 2, 3, 4]), series('n', [5, 6])]),
    };
    const q = new RingIngesterQuerier({ readSet: () => ({ instances: INST, maxErrors: 1 }) }, (i) => clients[i.id]!, 't');
    expect(await collect(q)).toEqual([
      ['m', [1, 2, 3, 4]],
      ['n', [5, 6]],
    ]);
  });

  test('up to maxErrors failing ingesters are tolerated', async () => {
    const clients: Record<string, IngesterClient> = { a: fake(new Error('down')), b: fake([series('m', [1])]), c: fake(new Error('down too')) };
    const tolerant = new RingIngesterQuerier({ readSet: () => ({ instances: INST, maxErrors: 2 }) }, (i) => clients[i.id]!, 't');
    expect(await collect(tolerant)).toEqual([['m', [1]]]);
    const strict = new RingIngesterQuerier({ readSet: () => ({ instances: INST, maxErrors: 1 }) }, (i) => clients[i.id]!, 't');
    await expect(strict.select(0, 1, [])).rejects.toThrow(/failed to query ingesters: ingester a: down; ingester c: down too/);
  });

  test('metadata of all ingesters, replicas merged, types by name', async () => {
    const md = (type: number, metricFamilyName: string, help: string, unit = '') => ({ type, metricFamilyName, help, unit });
    const lists: Record<string, ReturnType<typeof md>[]> = {
      a: [md(1, 'http_requests_total', 'Requests.'), md(2, 'temp', 'Temperature', 'celsius')],
      b: [md(1, 'http_requests_total', 'Requests.'), md(1, 'http_requests_total', 'Requests, new help.')],
      c: [md(9, 'odd', '')],
    };
    const clients = Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, { metricsMetadata: async () => v } as unknown as IngesterClient]));
    const q = new RingIngesterQuerier({ readSet: () => ({ instances: INST, maxErrors: 0 }) }, (i) => clients[i.id]!, 't');
    expect(await q.metadata()).toEqual({
      http_requests_total: [
        { type: 'counter', help: 'Requests.', unit: '' },
        { type: 'counter', help: 'Requests, new help.', unit: '' },
      ],
      temp: [{ type: 'gauge', help: 'Temperature', unit: 'celsius' }],
      odd: [{ type: 'unknown', help: '', unit: '' }],
    });
  });
});
