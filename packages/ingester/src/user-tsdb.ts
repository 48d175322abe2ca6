import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import {
  AppendStatus,
  Block,
  Head,
  SamplesRecordBuilder,
  WAL,
  decodeRecord,
  encodeSeriesRecord,
  getLabel,
  isULID,
  labelsFromSeriesKey,
  labelsToString,
  mergeSeriesChunks,
  replayWithCheckpoint,
  seriesKeyFromLabels,
  writeBlock,
  writeCheckpoint,
  type Labels,
  type Matcher,
  type MemSeries,
  type PushError,
  type PushResult,
  type SeriesChunks,
  type WriteBatch,
} from '@strata/tsdb-core';
import { IngesterErrors } from './errors';

export interface UserLimits {
  maxSeriesPerUser: number;
  maxSeriesPerMetric: number;
}

export interface AppendObserver {
  discarded(reason: string, n: number): void;
  seriesCreated(n: number): void;
}

interface LocalBlock {
  ulid: string;
  minTime: number;
  maxTime: number;
  block: Block;
}

/**
 * One tenant's TSDB in an ingester: head + WAL + local blocks. Blocks are cut from the head on
 * block-range boundaries; the WAL is then checkpointed and truncated.
 */
export class UserTSDB {
  readonly head: Head;
  private readonly builder = new SamplesRecordBuilder();
  private readonly perMetric = new Map<string, number>();
  private blocks: LocalBlock[] = [];
  /** Samples before this are in blocks: appends below it are rejected as too old. */
  private minValidTime = -Infinity;
  private compacting: Promise<void> | null = null;
  lastAppend: number;

  private constructor(
    readonly tenant: string,
    readonly dir: string,
    readonly wal: WAL,
    readonly blockRange: number,
    private readonly now: () => number,
  ) {
    this.head = new Head({ chunkRange: blockRange });
    this.lastAppend = now();
  }

  get walDir(): string {
    return join(this.dir, 'wal');
  }

  /** Opens local blocks, replays checkpoint + WAL into a new head. */
  static async open(tenant: string, dir: string, blockRange: number, now: () => number = Date.now): Promise<UserTSDB> {
    await fsp.mkdir(dir, { recursive: true });
    const walDir = join(dir, 'wal');
    const pending: Uint8Array[] = [];
    await replayWithCheckpoint(walDir, (rec) => pending.push(rec.slice()));
    const wal = await WAL.open(walDir);
    const db = new UserTSDB(tenant, dir, wal, blockRange, now);
    await db.openBlocks();
    db.replay(pending);
    return db;
  }

  private async openBlocks(): Promise<void> {
    for (const name of (await fsp.readdir(this.dir)).filter(isULID).sort()) {
      try {
        const block = await Block.open(join(this.dir, name));
        this.blocks.push({ ulid: name, minTime: block.meta.minTime, maxTime: block.meta.maxTime, block });
        this.minValidTime = Math.max(this.minValidTime, block.meta.maxTime);
      } catch {
        // An incomplete block (crash while writing): its data is still in the WAL.
        await fsp.rm(join(this.dir, name), { recursive: true, force: true });
      }
    }
  }

  private replay(records: Uint8Array[]): void {
    const head = this.head;
    let mint = Infinity;
    let maxt = -Infinity;
    for (const rec of records) {
      const r = decodeRecord(rec);
      if (r.type === 'series') {
        for (const s of r.series) {
          const key = seriesKeyFromLabels(s.labels);
          if (head.get(key) === undefined) {
            head.create(key, s.labels, s.ref);
            this.countMetric(s.labels, 1);
          }
        }
      } else if (r.type === 'samples') {
        const { refs, ts, his, los } = r.samples;
        for (let i = 0; i < refs.length; i++) {
          const t = ts[i]!;
          if (t < this.minValidTime) continue; // already in a block
          const s = head.getByRef(refs[i]!);
          if (s === undefined) continue;
          if (s.append(t, his[i]!, los[i]!, head.chunkRange) === AppendStatus.OK) {
            if (t < mint) mint = t;
            if (t > maxt) maxt = t;
          }
        }
      }
    }
    if (maxt >= mint) head.updateTimes(mint, maxt);
    // Series that only had samples already in blocks.
    for (const key of head.truncate(this.minValidTime === -Infinity ? -Infinity : this.minValidTime)) {
      this.countMetric(labelsFromSeriesKey(key), -1);
    }
  }

  private countMetric(labels: Labels, d: number): void {
    const name = getLabel(labels, '__name__');
    const n = (this.perMetric.get(name) ?? 0) + d;
    if (n <= 0) this.perMetric.delete(name);
    else this.perMetric.set(name, n);
  }

  /**
   * Appends a batch and logs it to the WAL (buffered; the caller awaits `wal.sync()` before
   * acknowledging). Rejected samples are counted and the first rejection returned.
   */
  append(batch: WriteBatch, limits: UserLimits, obs: AppendObserver): PushResult {
    const head = this.head;
    const range = head.chunkRange;
    const minValid = Math.max(this.minValidTime, head.maxT === -Infinity ? -Infinity : head.maxT - range / 2);
    const b = this.builder;
    b.reset();
    const newSeries: { ref: number; labels: Labels }[] = [];
    let appended = 0;
    let rejected = 0;
    let firstError: PushError | undefined;
    let mint = Infinity;
    let maxt = -Infinity;
    const counts = { outOfOrder: 0, dup: 0, tooOld: 0, userLimit: 0, metricLimit: 0 };
    const fail = (e: PushError) => {
      if (firstError === undefined) firstError = e;
    };
    const { keys, sampleStart, ts, vhi, vlo } = batch;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const from = sampleStart[i]!;
      const to = sampleStart[i + 1]!;
      let s: MemSeries | undefined = head.get(key);
      if (s === undefined) {
        const labels = labelsFromSeriesKey(key);
        if (limits.maxSeriesPerUser > 0 && head.numSeries >= limits.maxSeriesPerUser) {
          counts.userLimit += to - from;
          rejected += to - from;
          fail({ id: IngesterErrors.maxSeriesPerUser.id, status: 400, message: IngesterErrors.maxSeriesPerUser.message(limits.maxSeriesPerUser) });
          continue;
        }
        if (limits.maxSeriesPerMetric > 0) {
          const name = getLabel(labels, '__name__');
          if ((this.perMetric.get(name) ?? 0) >= limits.maxSeriesPerMetric) {
            counts.metricLimit += to - from;
            rejected += to - from;
            fail({
              id: IngesterErrors.maxSeriesPerMetric.id,
              status: 400,
              message: IngesterErrors.maxSeriesPerMetric.message(limits.maxSeriesPerMetric, name),
            });
            continue;
          }
        }
        s = head.create(key, labels);
        this.countMetric(labels, 1);
        newSeries.push({ ref: s.ref, labels });
      }
      for (let j = from; j < to; j++) {
        const t = ts[j]!;
        if (t < minValid) {
          counts.tooOld++;
          rejected++;
          if (firstError === undefined) fail({ id: IngesterErrors.tooOld.id, status: 400, message: IngesterErrors.tooOld.message(t, seriesString(key)) });
          continue;
        }
        const st = s.append(t, vhi[j]!, vlo[j]!, range);
        if (st === AppendStatus.OK) {
          b.add(s.ref, t, vhi[j]!, vlo[j]!);
          appended++;
          if (t < mint) mint = t;
          if (t > maxt) maxt = t;
        } else if (st === AppendStatus.OUT_OF_ORDER) {
          counts.outOfOrder++;
          rejected++;
          if (firstError === undefined) fail({ id: IngesterErrors.outOfOrder.id, status: 400, message: IngesterErrors.outOfOrder.message(t, seriesString(key)) });
        } else if (st === AppendStatus.DUPLICATE_TIMESTAMP) {
          counts.dup++;
          rejected++;
          if (firstError === undefined) fail({ id: IngesterErrors.duplicateTimestamp.id, status: 400, message: IngesterErrors.duplicateTimestamp.message(t, seriesString(key)) });
        }
      }
    }
    if (newSeries.length > 0) {
      this.wal.log(encodeSeriesRecord(newSeries));
      obs.seriesCreated(newSeries.length);
    }
    if (appended > 0) {
      this.wal.log(b.finish());
      head.updateTimes(mint, maxt);
      this.lastAppend = this.now();
    }
    if (counts.outOfOrder) obs.discarded(IngesterErrors.outOfOrder.reason, counts.outOfOrder);
    if (counts.dup) obs.discarded(IngesterErrors.duplicateTimestamp.reason, counts.dup);
    if (counts.tooOld) obs.discarded(IngesterErrors.tooOld.reason, counts.tooOld);
    if (counts.userLimit) obs.discarded(IngesterErrors.maxSeriesPerUser.reason, counts.userLimit);
    if (counts.metricLimit) obs.discarded(IngesterErrors.maxSeriesPerMetric.reason, counts.metricLimit);
    return firstError === undefined ? { appended, rejected } : { appended, rejected, firstError };
  }

  /**
   * Cuts blocks from the head: while it spans more than 1.5 block ranges (Prometheus' rule), or
   * the whole head when `force` (idle tenant, shutdown). Returns the new blocks' ULIDs.
   */
  compact(force = false): Promise<string[]> {
    const run = async (): Promise<string[]> => {
      const made: string[] = [];
      const head = this.head;
      const range = this.blockRange;
      while (head.numSeries > 0 && head.minT !== Infinity && (force || head.maxT - head.minT > range * 1.5)) {
        const mint = Math.floor(head.minT / range) * range;
        const maxt = mint + range;
        const series = head.cutBlock(mint, maxt);
        // From now on samples below maxt are refused: they would belong to this block.
        this.minValidTime = Math.max(this.minValidTime, maxt);
        if (series.length > 0) {
          const meta = await writeBlock(this.dir, series, { minTime: mint, maxTime: maxt, thanos: { labels: {}, resolution: 0, source: 'ingester' } });
          const block = await Block.open(join(this.dir, meta.ulid));
          this.blocks.push({ ulid: meta.ulid, minTime: mint, maxTime: maxt, block });
          made.push(meta.ulid);
        }
        for (const key of head.truncate(maxt)) this.countMetric(labelsFromSeriesKey(key), -1);
        await this.truncateWAL(maxt);
      }
      return made;
    };
    // One compaction at a time per tenant.
    const p = (this.compacting ?? Promise.resolve()).then(run);
    this.compacting = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async truncateWAL(mint: number): Promise<void> {
    const seg = await this.wal.nextSegment();
    if (seg === 0) return;
    await writeCheckpoint(this.walDir, seg - 1, { keepSeries: (ref) => this.head.getByRef(ref) !== undefined, minTime: mint });
    await this.wal.truncateBefore(seg);
  }

  /** Local blocks ending before `before` that `isShipped` says are in the bucket are deleted. */
  async deleteOldBlocks(before: number, isShipped: (ulid: string) => boolean): Promise<string[]> {
    const deleted: string[] = [];
    const keep: LocalBlock[] = [];
    for (const b of this.blocks) {
      if (b.maxTime <= before && isShipped(b.ulid)) {
        await b.block.close();
        await fsp.rm(join(this.dir, b.ulid), { recursive: true, force: true });
        deleted.push(b.ulid);
      } else keep.push(b);
    }
    this.blocks = keep;
    return deleted;
  }

  localBlocks(): readonly { ulid: string; minTime: number; maxTime: number }[] {
    return this.blocks;
  }

  /** Head and local blocks, merged, sorted by labels. */
  async select(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<SeriesChunks[]> {
    const lists: SeriesChunks[][] = [];
    for (const b of this.blocks) {
      if (b.maxTime <= mint || b.minTime > maxt) continue;
      lists.push(await b.block.select(mint, maxt, matchers));
    }
    lists.push(this.head.select(mint, maxt, matchers).map(({ labels, series }) => ({ labels, chunks: series.chunks(mint, maxt) })));
    return mergeSeriesChunks(lists);
  }

  async labelNames(mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    const names = new Set(this.head.labelNames(mint, maxt, matchers));
    for (const b of this.blocks) {
      if (b.maxTime <= mint || b.minTime > maxt) continue;
      for (const n of await b.block.labelNames(matchers)) names.add(n);
    }
    return [...names];
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: readonly Matcher[]): Promise<string[]> {
    const vals = new Set(this.head.labelValues(name, mint, maxt, matchers));
    for (const b of this.blocks) {
      if (b.maxTime <= mint || b.minTime > maxt) continue;
      for (const v of await b.block.labelValues(name, matchers)) vals.add(v);
    }
    return [...vals];
  }

  async close(): Promise<void> {
    await this.compacting;
    await this.wal.close();
    for (const b of this.blocks) await b.block.close();
  }
}

function seriesString(key: string): string {
  return labelsToString(labelsFromSeriesKey(key));
}
