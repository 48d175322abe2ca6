import { StrataError } from '@strata/common';
import { WriteBatch, type IngesterClient, type PushResult } from '@strata/tsdb-core';
import { pushReplicated, type IngesterInstance, type Replicator } from './replication';

const INST: IngesterInstance[] = ['a', 'b', 'c', 'd'].map((id) => ({ id, addr: `${id}:9095` }));

function batch(n: number): WriteBatch {
  const b = new WriteBatch(4);
  for (let i = 0; i < n; i++) {
    b.addSample(1000 + i, 0, i);
    b.endSeries(`series-${i}`);
  }
  return b;
}

function replicator(behaviour: Record<string, (b: WriteBatch) => Promise<PushResult>>) {
  const seen: Record<string, string[]> = {};
  const r: Replicator = {
    ring: {
      token: (_t, key) => Number(key.split('-')[1]),
      // Series i goes to 3 consecutive instances starting at i % 4.
      replicationSets: (tokens) => Array.from(tokens, (t) => ({ instances: [0, 1, 2].map((k) => INST[(t + k) % 4]!), maxErrors: 1 })),
    },
    clientFor: (inst) =>
      ({
        push: async (_tenant: string, b: WriteBatch) => {
          (seen[inst.id] ??= []).push(...b.keys, ...b.metadata.map((m) => `md:${m.metricFamilyName}`));
          return behaviour[inst.id]!(b);
        },
      }) as unknown as IngesterClient,
  };
  return { r, seen };
}

const ok = async (b: WriteBatch): Promise<PushResult> => ({ appended: b.numSamples, rejected: 0 });
const down = async (): Promise<PushResult> => {
  throw new Error('connection refused');
};

describe('replicated push', () => {
  test('every series goes to its 3 instances; one failure per series is tolerated', async () => {
    const { r, seen } = replicator({ a: ok, b: down, c: ok, d: ok });
    const res = await pushReplicated(r, 't', batch(8));
    expect(res.firstError).toBeUndefined();
    expect(seen.a!.sort()).toEqual(['series-0', 'series-2', 'series-3', 'series-4', 'series-6', 'series-7']);
    expect(Object.values(seen).flat()).toHaveLength(24);
  });

  test('two failures for a series fail the request with 500 naming the ingester', async () => {
    const { r } = replicator({ a: ok, b: down, c: down, d: ok });
    await expect(pushReplicated(r, 't', batch(4))).rejects.toMatchObject({ status: 500, message: expect.stringMatching(/^failed pushing to ingester [bc]: connection refused$/) });
  });

  test('4xx from ingesters keeps its status; soft per-sample errors are returned', async () => {
    const limit = async (): Promise<PushResult> => {
      throw new StrataError('max-series-per-user', 400, 'per-user series limit of 1 exceeded');
    };
    const { r } = replicator({ a: limit, b: limit, c: limit, d: limit });
    await expect(pushReplicated(r, 't', batch(2))).rejects.toMatchObject({ status: 400 });
    const soft = async (b: WriteBatch): Promise<PushResult> => ({ appended: b.numSamples - 1, rejected: 1, firstError: { id: 'sample-out-of-order', status: 400, message: 'ooo' } });
    const { r: r2 } = replicator({ a: soft, b: soft, c: ok, d: ok });
    const res = await pushReplicated(r2, 't', batch(4));
    expect(res.firstError?.id).toBe('sample-out-of-order');
  });

  test('metadata entries are placed like series, by the token of their metric name', async () => {
    const tokens: Record<string, number> = {};
    const { r, seen } = replicator({ a: ok, b: ok, c: ok, d: down });
    const token = r.ring.token;
    r.ring.token = (t, key) => {
      // Metadata keys are the series key of {__name__="<name>"}; send name "m<k>" to token k.
      const m = /m(\d)$/.exec(key);
      if (m !== null && !key.startsWith('series-')) return (tokens[key] = Number(m[1]));
      return token(t, key);
    };
    const b = batch(1);
    b.metadata.push({ type: 1, metricFamilyName: 'm1', help: '', unit: '' }, { type: 2, metricFamilyName: 'm2', help: 'h', unit: '' });
    const res = await pushReplicated(r, 't', b);
    expect(res.firstError).toBeUndefined();
    expect(Object.keys(tokens)).toHaveLength(2);
    // m1 → b, c, d; m2 → c, d, a; series-0 → a, b, c.
    expect(seen.a!.sort()).toEqual(['md:m2', 'series-0']);
    expect(seen.b!.sort()).toEqual(['md:m1', 'series-0']);
    expect(seen.c!.sort()).toEqual(['md:m1', 'md:m2', 'series-0']);
    expect(seen.d!.sort()).toEqual(['md:m1', 'md:m2']);
  });

  test('no quorum in the ring is a 500', async () => {
    const r: Replicator = {
      ring: {
        token: () => 0,
        replicationSets: () => {
          throw new Error('at least 2 live replicas required, could only find 1');
        },
      },
      clientFor: () => ({}) as IngesterClient,
    };
    await expect(pushReplicated(r, 't', batch(1))).rejects.toMatchObject({ status: 500, message: 'at least 2 live replicas required, could only find 1' });
  });
});
