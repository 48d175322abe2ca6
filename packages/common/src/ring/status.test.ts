import { nopLogger } from '../logger';
import type { InstanceDesc, RingDesc } from './model';
import { Ring } from './ring';
import { formatAge, renderRingHTML, ringJSON, ringStatus } from './status';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function inst(id: string, over: Partial<InstanceDesc> = {}): InstanceDesc {
  return { id, addr: `${id}:9095`, zone: 'zone-a', state: 'ACTIVE', tokens: [], heartbeat: NOW - 2500, registeredAt: Date.UTC(2024, 0, 1), ...over };
}

const desc: RingDesc = {
  instances: {
    'ingester-2': inst('ingester-2', { tokens: [0xc0000000], state: 'LEAVING', zone: 'zone-b' }),
    'ingester-1': inst('ingester-1', { tokens: [0x40000000] }),
    'ingester-<3>': inst('ingester-<3>', { heartbeat: NOW - 61_000 }),
  },
};

test('ringStatus: one row per instance by ID, UNHEALTHY for an old heartbeat, ownership in percent', () => {
  const st = ringStatus(desc, NOW);
  expect(st.instances.map((e) => [e.id, e.state, e.numTokens, e.ownership, e.heartbeatAgeMs])).toEqual([
    ['ingester-1', 'ACTIVE', 1, 50, 2500],
    ['ingester-2', 'LEAVING', 1, 50, 2500],
    ['ingester-<3>', 'UNHEALTHY', 0, 0, 61_000],
  ]);
  // The ring's heartbeat timeout is used when given a Ring.
  const ring = new Ring({ heartbeatTimeout: 120_000 }, { logger: nopLogger(), now: () => NOW });
  ring.update(desc);
  expect(ringStatus(ring, NOW).instances[2]!.state).toBe('ACTIVE');
  expect(ringStatus(ring, NOW, { heartbeatTimeout: 1000 }).instances[0]!.state).toBe('UNHEALTHY');
});

test('ringJSON has dskit’s fields', () => {
  const j = ringJSON(desc, NOW);
  expect(j.now).toBe('2024-01-02T03:04:05.678Z');
  expect(j.shards[0]).toEqual({
    id: 'ingester-1',
    state: 'ACTIVE',
    address: 'ingester-1:9095',
    timestamp: '2024-01-02T03:04:03.178Z',
    registered_timestamp: '2024-01-01T00:00:00.000Z',
    zone: 'zone-a',
    tokens: [0x40000000],
    num_tokens: 1,
    ownership: 50,
  });
  expect(JSON.parse(JSON.stringify(j))).toEqual(j);
});

test('renderRingHTML: Mimir’s columns, one escaped row per instance, a Forget button, tokens on request', () => {
  const html = renderRingHTML(desc, NOW);
  for (const h of ['Instance ID', 'Availability Zone', 'State', 'Address', 'Registered At', 'Last Heartbeat', 'Tokens', 'Ownership', 'Actions']) {
    expect(html).toContain(`<th>${h}</th>`);
  }
  expect(html.match(/<tr/g)).toHaveLength(4); // header + 3 instances
  expect(html).toContain('<td>ingester-1</td>');
  expect(html).toContain('<td>zone-b</td>');
  expect(html).toContain('<td>UNHEALTHY</td>');
  expect(html).toContain('<td>2.5s ago (03:04:03.178)</td>');
  expect(html).toContain('<td>50%</td>');
  expect(html).toContain('<td>ingester-&#60;3&#62;</td>');
  expect(html).not.toContain('<3>');
  expect(html).toContain('<button name="forget" value="ingester-1" type="submit">Forget</button>');
  expect(html).not.toContain(String(0x40000000));
  expect(renderRingHTML(desc, NOW, { showTokens: true })).toContain(String(0x40000000));
});

test('formatAge prints like Go durations', () => {
  expect(formatAge(0)).toBe('0s');
  expect(formatAge(850)).toBe('850ms');
  expect(formatAge(12_500)).toBe('12.5s');
  expect(formatAge(184_250)).toBe('3m4.25s');
  expect(formatAge(3_602_000)).toBe('1h0m2s');
  expect(formatAge(-1500)).toBe('-1.5s');
});
