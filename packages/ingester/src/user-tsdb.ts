import { join } from 'node:path';
import {
  AppendStatus,
  Head,
  SamplesRecordBuilder,
  WAL,
  decodeRecord,
  encodeSeriesRecord,
  getLabel,
  labelsFromSeriesKey,
  labelsToString,
  seriesKeyFromLabels,
  type Labels,
  type MemSeries,
  type PushError,
  type PushResult,
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

/** One tenant's TSDB in an ingester: head + WAL. */
export class UserTSDB {
  readonly head: Head;
  private readonly builder = new SamplesRecordBuilder();
  private readonly perMetric = new Map<string, number>();
  lastAppend = Date.now();

  private constructor(
    readonly tenant: string,
    readonly dir: string,
    readonly wal: WAL,
    chunkRange: number,
  ) {
    this.head = new Head({ chunkRange });
  }

  /** Opens the tenant's WAL, replaying it into a new head. */
  static async open(tenant: string, dir: string, chunkRange: number): Promise<UserTSDB> {
    const walDir = join(dir, 'wal');
    const pending: Uint8Array[] = [];
    await WAL.replay(walDir, (rec) => pending.push(rec.slice()));
    const wal = await WAL.open(walDir);
    const db = new UserTSDB(tenant, dir, wal, chunkRange);
    db.replay(pending);
    return db;
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
          const s = head.getByRef(refs[i]!);
          if (s === undefined) continue;
          const t = ts[i]!;
          if (s.append(t, his[i]!, los[i]!, head.chunkRange) === AppendStatus.OK) {
            if (t < mint) mint = t;
            if (t > maxt) maxt = t;
          }
        }
      }
    }
    if (maxt >= mint) head.updateTimes(mint, maxt);
  }

  private countMetric(labels: Labels, d: number): void {
    const name = getLabel(labels, '__name__');
    this.perMetric.set(name, (this.perMetric.get(name) ?? 0) + d);
  }

  /**
   * Appends a batch and logs it to the WAL (buffered; the caller awaits `wal.sync()` before
   * acknowledging). Rejected samples are counted and the first rejection returned.
   */
  append(batch: WriteBatch, limits: UserLimits, obs: AppendObserver): PushResult {
    const head = this.head;
    const range = head.chunkRange;
    const minValid = head.maxT === -Infinity ? -Infinity : head.maxT - range / 2;
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
          if (firstError === undefined) fail({ id: IngesterErrors.tooOld.id, status: 400, message: IngesterErrors.tooOld.message(t, labelsToString(labelsFromSeriesKey(key))) });
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
      this.lastAppend = Date.now();
    }
    if (counts.outOfOrder) obs.discarded(IngesterErrors.outOfOrder.reason, counts.outOfOrder);
    if (counts.dup) obs.discarded(IngesterErrors.duplicateTimestamp.reason, counts.dup);
    if (counts.tooOld) obs.discarded(IngesterErrors.tooOld.reason, counts.tooOld);
    if (counts.userLimit) obs.discarded(IngesterErrors.maxSeriesPerUser.reason, counts.userLimit);
    if (counts.metricLimit) obs.discarded(IngesterErrors.maxSeriesPerMetric.reason, counts.metricLimit);
    return firstError === undefined ? { appended, rejected } : { appended, rejected, firstError };
  }

  async close(): Promise<void> {
    await this.wal.close();
  }
}

function seriesString(key: string): string {
  return labelsToString(labelsFromSeriesKey(key));
}
