import type { MetricMetadataEntry } from '@strata/tsdb-core';
import { UserMetricsMetadata } from './metadata';

const md = (metricFamilyName: string, type = 1, help = `help of ${metricFamilyName}`, unit = ''): MetricMetadataEntry => ({ type, metricFamilyName, help, unit });
const unlimited = { maxPerUser: 0, maxPerMetric: 0 };
const sorted = (es: MetricMetadataEntry[]) => [...es].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('UserMetricsMetadata', () => {
  test('keeps each distinct entry once; one family may hold several entries', () => {
    const s = new UserMetricsMetadata();
    const r = s.add(
      [
        md('up', 2, 'The scrape target is up.'),
        md('http_requests_total', 1, 'Requests.'),
        md('up', 2, 'The scrape target is up.'), // the same again, in the same request
        md('up', 2, 'Another target says it differently.'),
        md('up', 0, 'The scrape target is up.'), // other type
        md('up', 2, 'The scrape target is up.', 'seconds'), // other unit
      ],
      unlimited,
      1000,
    );
    expect(r).toEqual({ ingested: 6, created: 5, rejectedPerUser: 0, rejectedPerMetric: 0 });
    expect(s.size).toBe(5);
    expect(s.add([md('http_requests_total', 1, 'Requests.')], unlimited, 2000)).toEqual({ ingested: 1, created: 0, rejectedPerUser: 0, rejectedPerMetric: 0 });
    expect(s.size).toBe(5);
    expect(sorted(s.entries())).toEqual(
      sorted([
        md('up', 2, 'The scrape target is up.'),
        md('http_requests_total', 1, 'Requests.'),
        md('up', 2, 'Another target says it differently.'),
        md('up', 0, 'The scrape target is up.'),
        md('up', 2, 'The scrape target is up.', 'seconds'),
      ]),
    );
    // Grouped by family, in arrival order.
    expect(s.entries().map((e) => e.metricFamilyName)).toEqual(['up', 'up', 'up', 'up', 'http_requests_total']);
  });

  test('unit and help cannot be confused by the key', () => {
    const s = new UserMetricsMetadata();
    s.add([md('m', 1, 'bc', 'a'), md('m', 1, 'c', 'ab'), md('m', 1, 'abc', ''), md('m', 1, '', 'abc'), md('m', 1, '', '')], unlimited, 0);
    expect(s.size).toBe(5);
  });

  test('entries are copies: changing a request or a result does not change the store', () => {
    const s = new UserMetricsMetadata();
    const e = md('m');
    s.add([e], unlimited, 0);
    e.help = 'changed';
    s.entries()[0]!.help = 'changed too';
    expect(s.entries()).toEqual([md('m')]);
  });

  test('per-user limit counts metric names with metadata; known names can take more entries', () => {
    const s = new UserMetricsMetadata();
    const lim = { maxPerUser: 2, maxPerMetric: 0 };
    expect(s.add([md('a'), md('a', 2), md('b')], lim, 0).created).toBe(3);
    const r = s.add([md('a'), md('c'), md('a', 5), md('b'), md('d')], lim, 10);
    expect(r.ingested).toBe(3);
    expect(r.created).toBe(1);
    expect(r.rejectedPerUser).toBe(2);
    expect(r.rejectedPerMetric).toBe(0);
    expect(r.firstError).toEqual({
      id: 'max-metadata-per-user',
      status: 400,
      message:
        'per-user metric metadata limit of 2 exceeded (err-strata-max-metadata-per-user). To adjust the related per-tenant limit, configure -ingester.max-global-metadata-per-user, or contact your service administrator.',
    });
    expect(s.size).toBe(4);
    expect(s.entries().some((e) => e.metricFamilyName === 'c' || e.metricFamilyName === 'd')).toBe(false);
  });

  test('per-metric limit counts the entries of one family name; a full family refuses even known entries (as Mimir)', () => {
    const s = new UserMetricsMetadata();
    const lim = { maxPerUser: 0, maxPerMetric: 2 };
    const r = s.add([md('a', 1, 'one'), md('a', 1, 'two'), md('a', 1, 'three'), md('b', 1, 'one'), md('b', 1, 'two'), md('a', 1, 'one')], lim, 0);
    expect(r).toEqual({
      ingested: 4,
      created: 4,
      rejectedPerUser: 0,
      rejectedPerMetric: 2,
      firstError: {
        id: 'max-metadata-per-metric',
        status: 400,
        message:
          'per-metric metadata limit of 2 exceeded (err-strata-max-metadata-per-metric). To adjust the related per-tenant limit, configure -ingester.max-global-metadata-per-metric, or contact your service administrator. This is for metric a',
      },
    });
    expect(sorted(s.entries())).toEqual(sorted([md('a', 1, 'one'), md('a', 1, 'two'), md('b', 1, 'one'), md('b', 1, 'two')]));
  });

  test('the per-user limit is checked before the per-metric limit; the first error is the first rejection', () => {
    const s = new UserMetricsMetadata();
    s.add([md('a', 1, 'x'), md('a', 1, 'y')], unlimited, 0);
    const r = s.add([md('b'), md('a', 1, 'z')], { maxPerUser: 1, maxPerMetric: 2 }, 0);
    expect([r.rejectedPerUser, r.rejectedPerMetric, r.firstError!.id]).toEqual([1, 1, 'max-metadata-per-user']);
    const r2 = s.add([md('a', 1, 'z'), md('b')], { maxPerUser: 3, maxPerMetric: 2 }, 0);
    expect([r2.rejectedPerUser, r2.rejectedPerMetric, r2.created, r2.firstError!.id]).toEqual([0, 1, 1, 'max-metadata-per-metric']);
  });

  test('purge drops entries not seen since the deadline; re-sending refreshes them', () => {
    const s = new UserMetricsMetadata();
    s.add([md('a'), md('b'), md('b', 2)], unlimited, 1000);
    s.add([md('b')], unlimited, 5000); // refreshed
    expect(s.purge(1000)).toBe(0); // last seen at the deadline: kept
    expect(s.purge(1001)).toBe(2);
    expect(s.entries()).toEqual([md('b')]);
    expect(s.size).toBe(1);
    // A purged family makes room under the limits again.
    expect(s.add([md('c')], { maxPerUser: 2, maxPerMetric: 1 }, 6000).created).toBe(1);
    expect(s.purge(Infinity)).toBe(2);
    expect(s.size).toBe(0);
    expect(s.entries()).toEqual([]);
  });
});
