import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Bucket } from '@strata/objstore';
import { objectKey } from '@strata/objstore';
import { isULID } from '@strata/tsdb-core';

export const SHIPPER_FILE = 'thanos.shipper.json';

interface ShipperState {
  version: 1;
  uploaded: string[];
}

/**
 * Uploads a tenant's local blocks to the bucket as `<tenant>/<ULID>/…`, meta.json last so that
 * readers never see a partial block, and remembers what it shipped in `thanos.shipper.json`
 * (Thanos' format), so blocks not shipped before a restart are shipped after it.
 */
export class Shipper {
  private state: ShipperState | undefined;

  constructor(
    private readonly bucket: Bucket,
    private readonly tenant: string,
    private readonly dir: string,
  ) {}

  private async load(): Promise<ShipperState> {
    if (this.state !== undefined) return this.state;
    try {
      const s = JSON.parse(await fsp.readFile(path.join(this.dir, SHIPPER_FILE), 'utf8')) as ShipperState;
      this.state = { version: 1, uploaded: Array.isArray(s.uploaded) ? s.uploaded.filter((u) => typeof u === 'string') : [] };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.state = { version: 1, uploaded: [] };
    }
    return this.state;
  }

  async shipped(): Promise<Set<string>> {
    return new Set((await this.load()).uploaded);
  }

  private async save(): Promise<void> {
    const file = path.join(this.dir, SHIPPER_FILE);
    const tmp = file + '.tmp';
    await fsp.writeFile(tmp, JSON.stringify(this.state, null, 1));
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  }

  /** Ships every complete local block not shipped yet; returns how many it uploaded. */
  async ship(): Promise<number> {
    const st = await this.load();
    const done = new Set(st.uploaded);
    let n = 0;
    const names = (await fsp.readdir(this.dir)).filter(isULID).sort();
    for (const ulid of names) {
      if (done.has(ulid)) continue;
      const blockDir = path.join(this.dir, ulid);
      try {
        await fsp.access(path.join(blockDir, 'meta.json'));
      } catch {
        continue; // not a complete block
      }
      const files: string[] = ['index'];
      for (const c of (await fsp.readdir(path.join(blockDir, 'chunks'))).sort()) files.unshift(`chunks/${c}`);
      try {
        await fsp.access(path.join(blockDir, 'tombstones'));
        files.push('tombstones');
      } catch {
        // optional
      }
      for (const f of [...files, 'meta.json']) {
        await this.bucket.upload(objectKey(this.tenant, ulid, ...f.split('/')), createReadStream(path.join(blockDir, f)));
      }
      st.uploaded.push(ulid);
      await this.save();
      n++;
    }
    return n;
  }

  /** Forgets blocks that no longer exist locally. */
  async forget(deleted: readonly string[]): Promise<void> {
    const st = await this.load();
    const gone = new Set(deleted);
    const next = st.uploaded.filter((u) => !gone.has(u));
    if (next.length !== st.uploaded.length) {
      st.uploaded = next;
      await this.save();
    }
  }
}
