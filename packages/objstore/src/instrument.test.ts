import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRegistry, nopLogger, type Registry } from '@strata/common';
import { ObjectNotFoundError } from './errors';
import { createBucket } from './factory';
import { OPERATIONS, instrumentBucket } from './instrument';
import { MemoryBucket } from './testing/memory-bucket';

async function value(reg: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = reg.getSingleMetric(name);
  if (m === undefined) return undefined;
  const { values } = await m.get();
  const match = values.find(
    (v) =>
      Object.keys(labels).length === Object.keys(v.labels).filter((k) => k !== 'le').length &&
      Object.entries(labels).every(([k, want]) => v.labels[k] === want) &&
      (v as { metricName?: string }).metricName !== `${name}_bucket`,
  );
  return match?.value;
}

const OPS = 'thanos_objstore_bucket_operations_total';
const FAILURES = 'thanos_objstore_bucket_operation_failures_total';

describe('instrumentBucket', () => {
  it('counts operations by operation label, failures and durations', async () => {
    const reg = createRegistry(false);
    const mem = new MemoryBucket('blocks');
    const b = instrumentBucket(mem, reg);

    // Every operation's series exists from the start, at 0.
    for (const op of OPERATIONS) expect(await value(reg, OPS, { bucket: 'blocks', operation: op })).toBe(0);

    await b.upload('t/a', Buffer.from('a'));
    await b.upload('t/b', Buffer.from('b'));
    await b.get('t/a');
    await b.getRange('t/a', 0, 1);
    await b.exists('t/a');
    await b.attributes('t/a');
    await b.iter('t/');
    await b.delete('t/b');
    expect(await value(reg, OPS, { bucket: 'blocks', operation: 'upload' })).toBe(2);
    for (const op of ['get', 'get_range', 'exists', 'attributes', 'iter', 'delete']) {
      expect(await value(reg, OPS, { bucket: 'blocks', operation: op })).toBe(1);
      expect(await value(reg, FAILURES, { bucket: 'blocks', operation: op })).toBe(0);
    }

    const durations = await reg.getSingleMetric('thanos_objstore_bucket_operation_duration_seconds')!.get();
    const uploadCount = durations.values.find(
      (v) => (v as { metricName?: string }).metricName === 'thanos_objstore_bucket_operation_duration_seconds_count' && v.labels['operation'] === 'upload',
    );
    expect(uploadCount?.value).toBe(2);
    const lastUpload = await value(reg, 'thanos_objstore_bucket_last_successful_upload_time', { bucket: 'blocks' });
    expect(lastUpload).toBeGreaterThan(Date.now() / 1000 - 60);

    // A real failure counts; a missing object is an expected outcome, not a failure.
    mem.failNext('get', Object.assign(new Error('boom'), { statusCode: 500 }));
    await expect(b.get('t/a')).rejects.toThrow('boom');
    await expect(b.get('t/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await value(reg, OPS, { bucket: 'blocks', operation: 'get' })).toBe(3);
    expect(await value(reg, FAILURES, { bucket: 'blocks', operation: 'get' })).toBe(1);
  });

  it('lets several buckets share one registry, with a component label when given', async () => {
    const reg = createRegistry(false);
    const one = instrumentBucket(new MemoryBucket('one'), reg, 'ingester');
    const two = instrumentBucket(new MemoryBucket('two'), reg, 'querier');
    const three = instrumentBucket(new MemoryBucket('one'), reg);
    await one.upload('k', Buffer.from('1'));
    await two.upload('k', Buffer.from('2'));
    await two.exists('k');
    await three.iter('');
    expect(await value(reg, OPS, { bucket: 'one', component: 'ingester', operation: 'upload' })).toBe(1);
    expect(await value(reg, OPS, { bucket: 'two', component: 'querier', operation: 'upload' })).toBe(1);
    expect(await value(reg, OPS, { bucket: 'two', component: 'querier', operation: 'exists' })).toBe(1);
    expect(await value(reg, OPS, { bucket: 'one', operation: 'iter' })).toBe(1);
    expect(await reg.metrics()).toContain('thanos_objstore_bucket_operations_total{bucket="one",component="ingester",operation="upload"} 1');
  });
});

describe('createBucket (filesystem)', () => {
  it('returns an instrumented filesystem bucket; config errors name the flag', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-create-'));
    try {
      const reg = createRegistry(false);
      const cfg = {
        backend: 'filesystem' as const,
        filesystemDir: path.join(dir, 'bucket'),
        s3: { endpoint: '', bucketName: '', accessKeyId: '', secretAccessKey: '', insecure: false, region: '' },
      };
      const b = await createBucket(cfg, { registry: reg, logger: nopLogger() });
      await b.upload('tenant-1/01ABC/meta.json', Buffer.from('{}'));
      expect(fs.readFileSync(path.join(dir, 'bucket', 'tenant-1', '01ABC', 'meta.json'), 'utf8')).toBe('{}');
      expect(await b.iter('')).toEqual(['tenant-1/']);
      expect(await value(reg, OPS, { bucket: b.name, operation: 'upload' })).toBe(1);
      await b.close?.();

      await expect(createBucket({ ...cfg, filesystemDir: '' }, { registry: reg, logger: nopLogger() })).rejects.toThrow(
        /-blocks-storage\.filesystem\.dir/,
      );
      await expect(createBucket({ ...cfg, backend: 's3' }, { registry: reg, logger: nopLogger() })).rejects.toThrow(
        /-blocks-storage\.s3\.endpoint/,
      );
      await expect(
        createBucket({ ...cfg, backend: 'gcs' as unknown as 's3' }, { registry: reg, logger: nopLogger() }),
      ).rejects.toThrow(/-blocks-storage\.backend/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
