import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32c } from '../crc32c';
import { WAL, WALCorruptionError, WAL_PAGE_SIZE, segmentName } from './wal';

const PAGE = WAL_PAGE_SIZE;

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-wal-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Deterministic record contents: length n, bytes derived from seed. */
function record(n: number, seed: number): Uint8Array {
  const r = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    r[i] = s;
  }
  return r;
}

async function replayAll(d = dir): Promise<{ recs: Uint8Array[]; records: number; repaired: boolean }> {
  const recs: Uint8Array[] = [];
  const res = await WAL.replay(d, (rec) => recs.push(rec.slice()));
  return { recs, ...res };
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seg = (i: number): string => path.join(dir, segmentName(i));

describe('WAL', () => {
  it('writes fragments in the Prometheus page layout', async () => {
    const wal = await WAL.open(dir);
    const small = record(5, 1);
    wal.log(small);
    wal.log(record(PAGE - 7 - 12 - 3, 2)); // leaves 3 bytes in page 0
    wal.log(record(PAGE, 3)); // must start on page 1 and span into page 2
    await wal.sync();
    const f = new Uint8Array(await fsp.readFile(seg(0)));
    // Full fragment: type 1 | BE16 len | BE32 crc32c(data) | data
    expect(f[0]).toBe(1);
    expect((f[1]! << 8) | f[2]!).toBe(5);
    expect(Buffer.from(f.subarray(3, 7)).readUInt32BE(0)).toBe(crc32c(small));
    expect(f.subarray(7, 12)).toEqual(small);
    expect([...f.subarray(PAGE - 3, PAGE)]).toEqual([0, 0, 0]); // padded tail
    expect(f[PAGE]).toBe(2); // first fragment fills page 1
    expect((f[PAGE + 1]! << 8) | f[PAGE + 2]!).toBe(PAGE - 7);
    expect(f[2 * PAGE]).toBe(4); // last fragment on page 2
    expect((f[2 * PAGE + 1]! << 8) | f[2 * PAGE + 2]!).toBe(7);
    expect(f.length).toBe(2 * PAGE + 14); // partial page not padded until close
    await wal.close();
    expect((await fsp.stat(seg(0))).size).toBe(3 * PAGE);
    expect((await replayAll()).recs.map((r) => r.length)).toEqual([5, PAGE - 22, PAGE]);
  });

  it('replays many records, including ones larger than a page, in order', async () => {
    const wal = await WAL.open(dir);
    const want: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const n = i % 50 === 0 ? 3 * PAGE + (i % 7) : i % 9 === 0 ? 0 : (i * 977) % 5000;
      const rec = record(n, i + 1);
      want.push(rec);
      wal.log(rec);
      if (i % 37 === 0) await wal.sync(); // mid-page flushes continue in the same page
    }
    await wal.close();
    const got = await replayAll();
    expect(got.records).toBe(400);
    expect(got.repaired).toBe(false);
    expect(got.recs.map(hexOf)).toEqual(want.map(hexOf));
  });

  it('continues in the same page after a mid-page sync and after reopening', async () => {
    let wal = await WAL.open(dir);
    wal.log(record(10, 1));
    await wal.sync();
    wal.log(record(20, 2));
    await wal.sync();
    expect((await fsp.stat(seg(0))).size).toBe(17 + 27);
    await wal.close();
    wal = await WAL.open(dir); // resumes after the last record of the last segment
    expect(wal.segmentRange()).toEqual({ first: 0, last: 0 });
    wal.log(record(30, 3));
    await wal.sync();
    expect((await fsp.stat(seg(0))).size).toBe(17 + 27 + 37);
    await wal.close();
    expect((await replayAll()).recs).toEqual([record(10, 1), record(20, 2), record(30, 3)]);
  });

  it('rolls over to new segments without splitting records across them', async () => {
    const segmentSize = 2 * PAGE;
    const wal = await WAL.open(dir, { segmentSize });
    const want: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) {
      const rec = record(1000 + ((i * 4099) % 20000), i + 1);
      want.push(rec);
      wal.log(rec);
    }
    await wal.sync();
    const { first, last } = wal.segmentRange();
    expect(first).toBe(0);
    expect(last).toBeGreaterThan(5);
    const names = (await fsp.readdir(dir)).sort();
    expect(names[0]).toBe('00000000');
    expect(names.length).toBe(last + 1);
    for (let i = 0; i < last; i++) {
      expect((await fsp.stat(seg(i))).size).toBe(segmentSize); // completed segments are padded to the page
      // Every segment parses on its own, so no record crosses a segment boundary.
      const single = await fsp.mkdtemp(path.join(os.tmpdir(), 'strata-wal-seg-'));
      await fsp.copyFile(seg(i), path.join(single, segmentName(0)));
      expect((await replayAll(single)).repaired).toBe(false);
      await fsp.rm(single, { recursive: true });
    }
    expect(await wal.nextSegment()).toBe(last + 1);
    wal.log(record(10, 99));
    want.push(record(10, 99));
    await wal.close();
    expect((await replayAll()).recs.map(hexOf)).toEqual(want.map(hexOf));

    await expect(WAL.open(dir, { segmentSize: 1000 })).rejects.toThrow(RangeError);
    const w2 = await WAL.open(dir, { segmentSize });
    expect(() => w2.log(new Uint8Array(2 * (PAGE - 7) + 1))).toThrow(/does not fit/);
    w2.log(new Uint8Array(2 * (PAGE - 7))); // exactly one empty segment's capacity
    await w2.sync();
    await w2.truncateBefore(last);
    expect(w2.segmentRange()).toEqual({ first: last, last: last + 2 });
    expect((await fsp.readdir(dir)).sort()).toEqual([last, last + 1, last + 2].map(segmentName));
    await w2.close();
  });

  it('repairs a record torn by truncation and appends cleanly afterwards', async () => {
    let wal = await WAL.open(dir);
    const good = [record(100, 1), record(PAGE + 500, 2), record(300, 3)];
    for (const r of good) wal.log(r);
    wal.log(record(2 * PAGE, 4)); // will be torn: spans three pages
    await wal.close();
    // Record 2 fills page 0 and ends with a (7 + 614)-byte last fragment on page 1.
    const goodEnd = PAGE + 621 + 307;
    await fsp.truncate(seg(0), 2 * PAGE + 5000); // inside the last record's third page

    const r1 = await replayAll();
    expect(r1.recs.map(hexOf)).toEqual(good.map(hexOf));
    expect(r1.repaired).toBe(true);
    expect((await fsp.stat(seg(0))).size).toBe(goodEnd);
    expect((await replayAll()).repaired).toBe(false); // already clean

    wal = await WAL.open(dir);
    wal.log(record(50, 5));
    wal.log(record(PAGE * 2, 6));
    await wal.sync();
    await wal.close();
    const r2 = await replayAll();
    expect(r2.recs.map(hexOf)).toEqual([...good, record(50, 5), record(PAGE * 2, 6)].map(hexOf));
    expect(r2.repaired).toBe(false);
  });

  it('repairs a last record with a flipped byte', async () => {
    let wal = await WAL.open(dir);
    for (let i = 0; i < 10; i++) wal.log(record(200, i + 1));
    await wal.sync();
    await wal.close();
    const f = await fsp.readFile(seg(0));
    f[9 * 207 + 7 + 150]! ^= 0x01; // inside the data of record 10
    await fsp.writeFile(seg(0), f);

    const r1 = await replayAll();
    expect(r1.records).toBe(9);
    expect(r1.repaired).toBe(true);
    expect(r1.recs).toEqual(Array.from({ length: 9 }, (_, i) => record(200, i + 1)));

    wal = await WAL.open(dir);
    wal.log(record(7, 42));
    await wal.close();
    const r2 = await replayAll();
    expect(r2.recs.length).toBe(10);
    expect(r2.recs[9]).toEqual(record(7, 42));
  });

  it('cuts off a torn tail when opening without a replay first', async () => {
    let wal = await WAL.open(dir);
    wal.log(record(100, 1));
    wal.log(record(100, 2));
    await wal.sync();
    await wal.close();
    await fsp.truncate(seg(0), 107 + 50);
    wal = await WAL.open(dir);
    wal.log(record(100, 3));
    await wal.close();
    expect((await replayAll()).recs).toEqual([record(100, 1), record(100, 3)]);
  });

  it('throws, naming segment and offset, on corruption in a non-last segment', async () => {
    const wal = await WAL.open(dir, { segmentSize: PAGE });
    for (let i = 0; i < 20; i++) wal.log(record(5000, i + 1));
    await wal.close();
    const f = await fsp.readFile(seg(1));
    f[5007 + 7 + 10]! ^= 0xff; // data of the second record in segment 1
    await fsp.writeFile(seg(1), f);
    const err = await WAL.replay(dir, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WALCorruptionError);
    expect((err as WALCorruptionError).message).toMatch(/segment 00000001 is corrupt at offset 5007: fragment checksum mismatch/);
    expect((err as WALCorruptionError).segment).toBe(1);
    expect((err as WALCorruptionError).offset).toBe(5007);

    await fsp.truncate(seg(1), 100); // torn, but still not the last segment
    await expect(WAL.replay(dir, () => {})).rejects.toThrow(/00000001.*fragment of 5000 bytes runs past the page end/);
  });

  it('coalesces concurrent sync() callers into few fsyncs and resolves them all', async () => {
    const wal = await WAL.open(dir);
    const fh = (wal as unknown as { fh: object }).fh;
    const spy = jest.spyOn(Object.getPrototypeOf(fh) as { datasync(): Promise<void> }, 'datasync');
    const done: number[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      wal.log(record(100, i + 1));
      calls.push(wal.sync().then(() => void done.push(i)));
    }
    await Promise.all(calls);
    expect(done.length).toBe(50);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    spy.mockRestore();
    await wal.sync(); // nothing pending: resolves without writing
    await wal.close();
    expect((await replayAll()).records).toBe(50);
    expect(() => wal.log(record(1, 1))).toThrow(/closed/);
  });

  it('rejects sync() on I/O errors and refuses further use', async () => {
    const wal = await WAL.open(dir);
    await (wal as unknown as { fh: { close(): Promise<void> } }).fh.close();
    wal.log(record(10, 1));
    await expect(wal.sync()).rejects.toThrow();
    expect(() => wal.log(record(10, 2))).toThrow();
    await expect(wal.sync()).rejects.toThrow();
    await wal.close(); // still releases the file
  });

  it('replays an empty or missing directory as nothing', async () => {
    expect(await WAL.replay(path.join(dir, 'missing'), () => {})).toEqual({ records: 0, repaired: false });
    const wal = await WAL.open(path.join(dir, 'new'));
    await wal.close();
    expect(await fsp.readdir(path.join(dir, 'new'))).toEqual(['00000000']);
    expect(await WAL.replay(path.join(dir, 'new'), () => {})).toEqual({ records: 0, repaired: false });
  });
});
