import type { MetricMetadataEntry, PushError } from '@strata/tsdb-core';
import { IngesterErrors } from './errors';

/** Per-tenant metadata limits (0 = unlimited), from the tenant's overrides. */
export interface MetadataLimits {
  /** `-ingester.max-global-metadata-per-user`: metric names with metadata of the tenant. */
  maxPerUser: number;
  /** `-ingester.max-global-metadata-per-metric`: entries of one metric family name. */
  maxPerMetric: number;
}

/** What one `add()` did. */
export interface MetadataAddResult {
  /** Entries stored or refreshed. */
  ingested: number;
  /** Entries new to the store (the rest of `ingested` were refreshed). */
  created: number;
  /** Entries dropped by a limit. */
  rejectedPerUser: number;
  rejectedPerMetric: number;
  /** The first limit rejection. */
  firstError?: PushError;
}

interface Stored {
  entry: MetricMetadataEntry;
  lastSeen: number;
}

/**
 * One tenant's metric metadata, as Mimir's userMetricsMetadata (pkg/ingester/user_metrics_metadata.go):
 * per metric family name, the set of distinct (type, help, unit) entries, each with the time it
 * was last received. Prometheus sends every family's metadata about once a minute, so an entry
 * that is not sent again within the retain period is dropped by `purge()`. Memory only, no WAL.
 *
 * Limits as in Mimir's `add`: a metric name new to the store needs room under the per-user limit
 * (metric names with metadata); any entry, new or sent again, needs its family to be below the
 * per-metric limit (so a family that is full can only expire).
 */
export class UserMetricsMetadata {
  private readonly families = new Map<string, Map<string, Stored>>();
  private total = 0;

  /** Entries held. */
  get size(): number {
    return this.total;
  }

  /** Stores or refreshes `entries` as seen at `now` (ms). */
  add(entries: readonly MetricMetadataEntry[], limits: MetadataLimits, now: number): MetadataAddResult {
    const res: MetadataAddResult = { ingested: 0, created: 0, rejectedPerUser: 0, rejectedPerMetric: 0 };
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const name = e.metricFamilyName;
      const key = entryKey(e);
      let set = this.families.get(name);
      if (set === undefined && limits.maxPerUser > 0 && this.families.size >= limits.maxPerUser) {
        res.rejectedPerUser++;
        res.firstError ??= { id: IngesterErrors.maxMetadataPerUser.id, status: 400, message: IngesterErrors.maxMetadataPerUser.message(limits.maxPerUser) };
        continue;
      }
      if (set !== undefined && limits.maxPerMetric > 0 && set.size >= limits.maxPerMetric) {
        res.rejectedPerMetric++;
        res.firstError ??= {
          id: IngesterErrors.maxMetadataPerMetric.id,
          status: 400,
          message: IngesterErrors.maxMetadataPerMetric.message(limits.maxPerMetric, name),
        };
        continue;
      }
      const existing = set?.get(key);
      if (existing !== undefined) {
        existing.lastSeen = now;
        res.ingested++;
        continue;
      }
      if (set === undefined) {
        set = new Map();
        this.families.set(name, set);
      }
      // A copy: the store keeps nothing of the request.
      set.set(key, { entry: { type: e.type, metricFamilyName: name, help: e.help, unit: e.unit }, lastSeen: now });
      this.total++;
      res.created++;
      res.ingested++;
    }
    return res;
  }

  /** Drops entries last seen before `deadline` (ms; -Infinity keeps all, Infinity drops all). Returns how many. */
  purge(deadline: number): number {
    let removed = 0;
    for (const [name, set] of this.families) {
      for (const [key, s] of set) {
        if (s.lastSeen < deadline) {
          set.delete(key);
          removed++;
        }
      }
      if (set.size === 0) this.families.delete(name);
    }
    this.total -= removed;
    return removed;
  }

  /** Every entry once, grouped by metric family in the order the families arrived. */
  entries(): MetricMetadataEntry[] {
    const out: MetricMetadataEntry[] = [];
    for (const set of this.families.values()) for (const s of set.values()) out.push({ ...s.entry });
    return out;
  }
}

/** Identity of an entry within its family: type, unit and help, unambiguously joined. */
function entryKey(e: MetricMetadataEntry): string {
  return `${e.type}:${e.unit.length}:${e.unit}${e.help}`;
}
