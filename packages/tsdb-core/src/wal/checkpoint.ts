import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SamplesRecordBuilder, decodeRecord, encodeSeriesRecord } from './records';
import { WAL } from './wal';

const CHECKPOINT_RE = /^checkpoint\.(\d{8})$/;

export function checkpointName(segment: number): string {
  return `checkpoint.${String(segment).padStart(8, '0')}`;
}

/** The newest complete checkpoint in a WAL directory, if any. */
export async function lastCheckpoint(walDir: string): Promise<{ segment: number; dir: string } | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(walDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let best = -1;
  for (const n of names) {
    const m = CHECKPOINT_RE.exec(n);
    if (m !== null) best = Math.max(best, Number(m[1]));
  }
  return best < 0 ? undefined : { segment: best, dir: path.join(walDir, checkpointName(best)) };
}

export interface CheckpointFilter {
  /** Keep the series record of this ref (the series is still in the head). */
  keepSeries(ref: number): boolean;
  /** Samples older than this are in a block already. */
  minTime: number;
}

/**
 * Writes `checkpoint.<upTo>`: the previous checkpoint plus segments up to `upTo`, keeping only
 * the series still alive and samples at or after `minTime` (Prometheus' checkpoint). The
 * segments it covers can then be deleted. Written to a temp dir and renamed, so a crash leaves
 * either the old or the new checkpoint.
 */
export async function writeCheckpoint(walDir: string, upTo: number, keep: CheckpointFilter): Promise<{ dir: string; series: number; samples: number }> {
  const prev = await lastCheckpoint(walDir);
  const name = checkpointName(upTo);
  const tmp = path.join(walDir, `${name}.tmp`);
  await fsp.rm(tmp, { recursive: true, force: true });
  const out = await WAL.open(tmp);
  const builder = new SamplesRecordBuilder();
  let series = 0;
  let samples = 0;
  const onRecord = (rec: Uint8Array) => {
    const r = decodeRecord(rec);
    if (r.type === 'series') {
      const kept = r.series.filter((s) => keep.keepSeries(s.ref));
      if (kept.length > 0) {
        out.log(encodeSeriesRecord(kept));
        series += kept.length;
      }
    } else if (r.type === 'samples') {
      builder.reset();
      const { refs, ts, his, los } = r.samples;
      for (let i = 0; i < refs.length; i++) {
        if (ts[i]! >= keep.minTime && keep.keepSeries(refs[i]!)) builder.add(refs[i]!, ts[i]!, his[i]!, los[i]!);
      }
      if (builder.size() > 0) {
        out.log(builder.finish());
        samples += builder.size();
      }
    }
  };
  if (prev !== undefined && prev.segment < upTo) await WAL.replay(prev.dir, onRecord);
  await WAL.replay(walDir, onRecord, { from: prev === undefined ? 0 : prev.segment + 1, to: upTo });
  await out.close();
  const final = path.join(walDir, name);
  await fsp.rm(final, { recursive: true, force: true });
  await fsp.rename(tmp, final);
  const dh = await fsp.open(walDir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  for (const n of await fsp.readdir(walDir)) {
    const m = CHECKPOINT_RE.exec(n);
    if (m !== null && Number(m[1]) < upTo) await fsp.rm(path.join(walDir, n), { recursive: true, force: true });
  }
  return { dir: final, series, samples };
}

/** Replays checkpoint + the segments after it. */
export async function replayWithCheckpoint(walDir: string, onRecord: (rec: Uint8Array) => void): Promise<void> {
  const cp = await lastCheckpoint(walDir);
  if (cp !== undefined) await WAL.replay(cp.dir, onRecord);
  await WAL.replay(walDir, onRecord, { from: cp === undefined ? 0 : cp.segment + 1 });
}
