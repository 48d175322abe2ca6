/**
 * Reader of a Prometheus index file, format v2 (docs formats.md §4.4), over a ByteSource.
 *
 * `open` reads the TOC, the symbol table and the postings offset table: this "index header" stays in
 * memory (symbols as strings, the postings offset table as its raw bytes plus every 32nd value per
 * label name). Series entries and postings lists are read lazily with ranged reads, and reads of
 * nearby entries are coalesced so that a query costs few round trips on object storage.
 */
import { ByteReader, DecodeError } from '../encoding';
import { crc32c } from '../crc32c';
import type { Label, Labels } from '../labels';
import { compareStrings } from '../labels';
import { MatchType, type Matcher } from '../matchers';
import { intersect, subtract, union } from '../head/postings';
import type { ByteSource } from './byte-source';
import { BlockCorruptionError } from './errors';
import { INDEX_HEADER_LEN, INDEX_MAGIC, INDEX_TOC_LEN, SERIES_ALIGNMENT } from './format';

export interface IndexTOC {
  symbols: number;
  series: number;
  labelIndices: number;
  labelIndicesTable: number;
  postings: number;
  postingsTable: number;
}

export interface ChunkMeta {
  /** First sample timestamp (inclusive). */
  mint: number;
  /** Last sample timestamp (inclusive). */
  maxt: number;
  /** Chunk reference: segment index << 32 | offset. */
  ref: number;
}

export interface SeriesEntry {
  labels: Labels;
  chunks: ChunkMeta[];
}

/** Every SAMPLE_EVERY-th value of a label name is kept in memory for binary search. */
const SAMPLE_EVERY = 32;
/** Bytes read for a series entry whose length is not known yet. */
const SERIES_WINDOW = 1024;
/** Entries closer than this are fetched with one read. */
const MAX_GAP = 64 * 1024;
const MAX_SPAN = 16 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8');

interface NameInfo {
  /** Byte position of the name's first entry in the table body. */
  start: number;
  /** Byte position after its last entry. */
  end: number;
  count: number;
  /** Values and positions of entries 0, 32, 64, ... */
  sampleValues: string[];
  samplePos: number[];
  /** Offset of the postings list after this name's last list (the next name's first), or the postings end. */
  nextOffset: number;
}

/** A postings list location: [off, bound) contains the list (bound = next list's offset). */
interface ListRange {
  off: number;
  bound: number;
}

function compareBytes(b: Uint8Array, s1: number, l1: number, s2: number, l2: number): number {
  const n = Math.min(l1, l2);
  for (let i = 0; i < n; i++) {
    const d = b[s1 + i]! - b[s2 + i]!;
    if (d !== 0) return d;
  }
  return l1 - l2;
}

function be32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export class IndexReader {
  private constructor(
    private readonly src: ByteSource,
    private readonly file: string,
    readonly size: number,
    readonly version: number,
    readonly toc: IndexTOC,
    private readonly syms: string[],
    /** Body of the postings offset table (after the length, without the CRC). */
    private readonly table: Uint8Array,
    private readonly names: string[],
    private readonly nameInfo: Map<string, NameInfo>,
    private readonly allPostingsRange: ListRange,
    private readonly seriesEnd: number,
  ) {}

  /** Opens an index; `file` names it in error messages. */
  static async open(src: ByteSource, file = 'index'): Promise<IndexReader> {
    const corrupt = (msg: string): BlockCorruptionError => new BlockCorruptionError(`${file}: ${msg}`);
    const size = await src.size();
    if (size < INDEX_HEADER_LEN + INDEX_TOC_LEN) throw corrupt(`file of ${size} bytes is too short for an index`);
    const head = await src.read(0, INDEX_HEADER_LEN);
    const magic = be32(head, 0);
    if (magic !== INDEX_MAGIC) throw corrupt(`bad magic 0x${magic.toString(16)} (want 0x${INDEX_MAGIC.toString(16)})`);
    const version = head[4]!;
    if (version !== 2 && version !== 3) {
      throw corrupt(`unsupported index format version ${version}${version === 1 ? ' (v1 indexes are not supported)' : ''}`);
    }

    // TOC: 6 × BE64 + CRC of those 48 bytes.
    const tocStart = size - INDEX_TOC_LEN;
    const tb = await src.read(tocStart, INDEX_TOC_LEN);
    const tocCrc = be32(tb, 48);
    if (crc32c(tb, 0, 48) !== tocCrc) throw corrupt('TOC checksum mismatch');
    const r = new ByteReader(tb);
    const offs: number[] = [];
    for (let i = 0; i < 6; i++) {
      let v: number;
      try {
        v = r.readBE64();
      } catch {
        throw corrupt(`TOC entry ${i} is out of range`);
      }
      if (v < 0 || v > tocStart) throw corrupt(`TOC entry ${i} (${v}) points outside the file`);
      offs.push(v);
    }
    const toc: IndexTOC = {
      symbols: offs[0]!,
      series: offs[1]!,
      labelIndices: offs[2]!,
      labelIndicesTable: offs[3]!,
      postings: offs[4]!,
      postingsTable: offs[5]!,
    };
    if (toc.symbols < INDEX_HEADER_LEN) throw corrupt(`symbol table offset ${toc.symbols} is invalid`);
    if (toc.postingsTable < INDEX_HEADER_LEN) throw corrupt(`postings offset table offset ${toc.postingsTable} is invalid`);
    if (toc.series !== 0 && toc.series < toc.symbols) throw corrupt(`series offset ${toc.series} precedes the symbol table`);
    /** End of the section starting at `start`: the next section's offset, or the TOC. */
    const sectionEnd = (start: number): number => {
      let e = tocStart;
      for (const o of offs) if (o > start && o < e) e = o;
      return e;
    };

    const readSection = async (off: number, what: string): Promise<Uint8Array> => {
      if (off + 8 > tocStart) throw corrupt(`${what} at ${off} runs into the TOC`);
      const len = be32(await src.read(off, 4), 0);
      if (off + 8 + len > tocStart) throw corrupt(`${what} at ${off}: length ${len} runs past the end of the file`);
      const b = await src.read(off + 4, len + 4);
      const want = be32(b, len);
      const got = crc32c(b, 0, len);
      if (want !== got) {
        throw corrupt(`${what} checksum mismatch at offset ${off} (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
      }
      return b.subarray(0, len);
    };

    // Symbol table.
    const symBody = await readSection(toc.symbols, 'symbol table');
    const syms: string[] = [];
    try {
      const sr = new ByteReader(symBody);
      const n = sr.readBE32();
      if (n > symBody.length) throw new DecodeError(`symbol count ${n} is larger than the table`);
      for (let i = 0; i < n; i++) syms.push(sr.readUvarintString());
    } catch (e) {
      throw corrupt(`symbol table: ${(e as Error).message}`);
    }

    // Postings offset table.
    const table = (await readSection(toc.postingsTable, 'postings offset table')).slice();
    const postingsEnd = sectionEnd(toc.postings);
    const names: string[] = [];
    const nameInfo = new Map<string, NameInfo>();
    let all: ListRange | undefined;
    try {
      const tr = new ByteReader(table);
      const n = tr.readBE32();
      let cur: NameInfo | undefined;
      let curName = '';
      let prevNameStart = -1;
      let prevNameLen = -1;
      let prevValStart = -1;
      let prevValLen = -1;
      let prevOff = -1;
      for (let i = 0; i < n; i++) {
        const entryPos = tr.pos;
        if (tr.readUvarint() !== 2) throw new DecodeError(`entry ${i} does not have 2 keys`);
        const nameLen = tr.readUvarint();
        const nameStart = tr.pos;
        tr.skip(nameLen);
        const valLen = tr.readUvarint();
        const valStart = tr.pos;
        tr.skip(valLen);
        const off = tr.readUvarint();
        if (off < toc.postings || off + 8 > postingsEnd) {
          throw new DecodeError(`entry ${i}: postings offset ${off} is outside the postings section`);
        }
        if (off <= prevOff) throw new DecodeError(`entry ${i}: postings offsets are not increasing`);
        prevOff = off;
        if (i === 0) {
          if (nameLen !== 0 || valLen !== 0) throw new DecodeError('the first entry is not the all-postings key ("", "")');
          all = { off, bound: postingsEnd };
          continue;
        }
        const c = prevNameStart < 0 ? -1 : compareBytes(table, prevNameStart, prevNameLen, nameStart, nameLen);
        if (c > 0 || nameLen === 0) throw new DecodeError(`entry ${i}: label names are not sorted`);
        if (i === 1) all!.bound = off;
        if (c !== 0) {
          if (cur !== undefined) {
            cur.end = entryPos;
            cur.nextOffset = off;
          }
          curName = utf8.decode(table.subarray(nameStart, nameStart + nameLen));
          cur = { start: entryPos, end: 0, count: 0, sampleValues: [], samplePos: [], nextOffset: postingsEnd };
          names.push(curName);
          nameInfo.set(curName, cur);
          prevNameStart = nameStart;
          prevNameLen = nameLen;
        } else if (compareBytes(table, prevValStart, prevValLen, valStart, valLen) >= 0) {
          throw new DecodeError(`entry ${i}: values of label ${JSON.stringify(curName)} are not sorted`);
        }
        prevValStart = valStart;
        prevValLen = valLen;
        if (cur!.count % SAMPLE_EVERY === 0) {
          cur!.sampleValues.push(utf8.decode(table.subarray(valStart, valStart + valLen)));
          cur!.samplePos.push(entryPos);
        }
        cur!.count++;
      }
      if (cur !== undefined) cur.end = tr.pos;
      if (all === undefined) throw new DecodeError('the table is empty (no all-postings entry)');
    } catch (e) {
      throw corrupt(`postings offset table: ${(e as Error).message}`);
    }
    const seriesEnd = toc.series === 0 ? toc.series : sectionEnd(toc.series);
    return new IndexReader(src, file, size, version, toc, syms, table, names, nameInfo, all, seriesEnd);
  }

  private corrupt(msg: string): BlockCorruptionError {
    return new BlockCorruptionError(`${this.file}: ${msg}`);
  }

  /** All symbols, sorted by UTF-8 bytes (a copy). */
  symbols(): string[] {
    return this.syms.slice();
  }

  /** Number of symbols; `symbol(i)` is the i-th. */
  get numSymbols(): number {
    return this.syms.length;
  }

  symbol(i: number): string {
    const s = this.syms[i];
    if (s === undefined) throw new RangeError(`symbol ${i} out of range (${this.syms.length} symbols)`);
    return s;
  }

  /** Label names that have postings, sorted. */
  labelNames(): string[] {
    return this.names.slice();
  }

  /** Values of a label name, sorted. */
  labelValues(name: string): string[] {
    const info = this.nameInfo.get(name);
    if (info === undefined) return [];
    const out: string[] = [];
    const r = new ByteReader(this.table, info.start, info.end);
    while (r.remaining() > 0) {
      r.readUvarint();
      r.skip(r.readUvarint());
      out.push(r.readUvarintString());
      r.readUvarint();
    }
    return out;
  }

  /** Number of series in the index (length of the all-postings list). */
  async numSeries(): Promise<number> {
    return (await this.readLists([this.allPostingsRange]))[0]!.length;
  }

  /** Series refs having label `name` = `value` (for ("", ""): every series), ascending. */
  async postings(name: string, value: string): Promise<number[]> {
    const range = name === '' && value === '' ? this.allPostingsRange : this.findList(name, value);
    if (range === undefined) return [];
    return (await this.readLists([range]))[0]!;
  }

  /** Finds the postings list range of (name, value) through the sampled values. */
  private findList(name: string, value: string): ListRange | undefined {
    const info = this.nameInfo.get(name);
    if (info === undefined) return undefined;
    // Last sample <= value.
    let lo = 0;
    let hi = info.sampleValues.length - 1;
    if (hi < 0 || compareStrings(info.sampleValues[0]!, value) > 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compareStrings(info.sampleValues[mid]!, value) <= 0) lo = mid;
      else hi = mid - 1;
    }
    const r = new ByteReader(this.table, info.samplePos[lo]!, info.end);
    for (let k = 0; k < SAMPLE_EVERY && r.remaining() > 0; k++) {
      r.readUvarint();
      r.skip(r.readUvarint());
      const v = r.readUvarintString();
      const off = r.readUvarint();
      const c = compareStrings(v, value);
      if (c > 0) return undefined;
      if (c === 0) return { off, bound: this.nextListOffset(r, info) };
    }
    return undefined;
  }

  /** Offset of the entry at r's position, or the name's nextOffset when r is at the end of the name. */
  private nextListOffset(r: ByteReader, info: NameInfo): number {
    if (r.remaining() === 0) return info.nextOffset;
    r.readUvarint();
    r.skip(r.readUvarint());
    r.skip(r.readUvarint());
    return r.readUvarint();
  }

  /** All (value, list range) of a label name, in value order. */
  private valueLists(name: string): { values: string[]; ranges: ListRange[] } {
    const values: string[] = [];
    const ranges: ListRange[] = [];
    const info = this.nameInfo.get(name);
    if (info === undefined) return { values, ranges };
    const r = new ByteReader(this.table, info.start, info.end);
    let prev: ListRange | undefined;
    while (r.remaining() > 0) {
      r.readUvarint();
      r.skip(r.readUvarint());
      values.push(r.readUvarintString());
      const off = r.readUvarint();
      if (prev !== undefined) prev.bound = off;
      prev = { off, bound: info.nextOffset };
      ranges.push(prev);
    }
    return { values, ranges };
  }

  /** Reads postings lists, one ranged read per group of nearby lists. */
  private async readLists(ranges: readonly ListRange[]): Promise<number[][]> {
    const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.off - ranges[b]!.off);
    const out: number[][] = new Array<number[]>(ranges.length);
    let i = 0;
    while (i < order.length) {
      const first = ranges[order[i]!]!;
      let end = first.bound;
      let j = i + 1;
      while (j < order.length) {
        const r = ranges[order[j]!]!;
        if (r.off - end > MAX_GAP || r.bound - first.off > MAX_SPAN) break;
        end = Math.max(end, r.bound);
        j++;
      }
      const buf = await this.src.read(first.off, end - first.off);
      for (let k = i; k < j; k++) {
        const rg = ranges[order[k]!]!;
        out[order[k]!] = this.decodeList(buf, rg.off - first.off, rg.bound - first.off, rg.off);
      }
      i = j;
    }
    return out;
  }

  private decodeList(b: Uint8Array, pos: number, bound: number, fileOff: number): number[] {
    if (pos + 8 > bound) throw this.corrupt(`postings list at offset ${fileOff} is truncated`);
    const len = be32(b, pos);
    if (len < 4 || pos + 8 + len > bound) throw this.corrupt(`postings list at offset ${fileOff}: invalid length ${len}`);
    const want = be32(b, pos + 4 + len);
    const got = crc32c(b, pos + 4, pos + 4 + len);
    if (want !== got) {
      throw this.corrupt(`postings list at offset ${fileOff}: checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
    }
    const n = be32(b, pos + 4);
    if (len !== 4 + 4 * n) throw this.corrupt(`postings list at offset ${fileOff}: length ${len} does not match ${n} entries`);
    const out = new Array<number>(n);
    let prev = -1;
    for (let k = 0, p = pos + 8; k < n; k++, p += 4) {
      const id = be32(b, p);
      if (id <= prev) throw this.corrupt(`postings list at offset ${fileOff} is not sorted`);
      out[k] = prev = id;
    }
    return out;
  }

  /**
   * Series refs matching all matchers, ascending (Prometheus' PostingsForMatchers): a matcher that
   * matches the empty string also selects series without the label.
   */
  async postingsForMatchers(matchers: readonly Matcher[]): Promise<number[]> {
    let pos: number[] | null = null;
    const negatives: Matcher[] = [];
    for (const m of matchers) {
      if (m.matchesEmpty()) {
        negatives.push(m);
        continue;
      }
      const p = await this.postingsMatching(m, true);
      pos = pos === null ? p : intersect(pos, p);
      if (pos.length === 0) return pos;
    }
    if (pos === null) pos = await this.postings('', '');
    for (const m of negatives) {
      // Series matching m are those without a value of the label that m rejects.
      pos = subtract(pos, await this.postingsMatching(m, false));
      if (pos.length === 0) return pos;
    }
    return pos;
  }

  /** Union of the lists of values v of m.name with m.matches(v) === want. */
  private async postingsMatching(m: Matcher, want: boolean): Promise<number[]> {
    if ((m.type === MatchType.EQ && want) || (m.type === MatchType.NEQ && !want)) return this.postings(m.name, m.value);
    const { values, ranges } = this.valueLists(m.name);
    const sel: ListRange[] = [];
    for (let i = 0; i < values.length; i++) if (m.matches(values[i]!) === want) sel.push(ranges[i]!);
    if (sel.length === 0) return [];
    return union(await this.readLists(sel));
  }

  /** Reads one series entry. */
  async series(ref: number): Promise<SeriesEntry> {
    const off = this.seriesOffset(ref);
    const buf = await this.src.read(off, Math.min(SERIES_WINDOW, this.seriesEnd - off));
    return this.decodeSeries(buf, 0, ref) ?? this.seriesExact(ref, off, buf);
  }

  /** Reads many series entries (in the order of `refs`), coalescing reads of nearby entries. */
  async seriesMany(refs: readonly number[]): Promise<SeriesEntry[]> {
    const offsets = refs.map((r) => this.seriesOffset(r));
    const order = offsets.map((_, i) => i).sort((a, b) => offsets[a]! - offsets[b]!);
    const out = new Array<SeriesEntry>(refs.length);
    let i = 0;
    while (i < order.length) {
      const start = offsets[order[i]!]!;
      let last = start;
      let j = i + 1;
      while (j < order.length) {
        const o = offsets[order[j]!]!;
        if (o - last > MAX_GAP || o - start > MAX_SPAN) break;
        last = o;
        j++;
      }
      const end = Math.min(last + SERIES_WINDOW, this.seriesEnd);
      const buf = await this.src.read(start, end - start);
      for (let k = i; k < j; k++) {
        const idx = order[k]!;
        const off = offsets[idx]!;
        out[idx] = this.decodeSeries(buf, off - start, refs[idx]!) ?? (await this.seriesExact(refs[idx]!, off, undefined));
      }
      i = j;
    }
    return out;
  }

  private seriesOffset(ref: number): number {
    const off = ref * SERIES_ALIGNMENT;
    if (!Number.isSafeInteger(ref) || ref < 0 || off < this.toc.series || off >= this.seriesEnd) {
      throw this.corrupt(`series ref ${ref} is outside the series section`);
    }
    return off;
  }

  /** Reads a series entry whose length is known from `head` (or from a fresh read). */
  private async seriesExact(ref: number, off: number, head: Uint8Array | undefined): Promise<SeriesEntry> {
    head ??= await this.src.read(off, Math.min(10, this.seriesEnd - off));
    let len: number;
    let n: number;
    try {
      const r = new ByteReader(head);
      len = r.readUvarint();
      n = r.pos;
    } catch {
      throw this.corrupt(`series ${ref} at offset ${off}: invalid length`);
    }
    if (off + n + len + 4 > this.seriesEnd) throw this.corrupt(`series ${ref} at offset ${off}: length ${len} runs past the series section`);
    const buf = await this.src.read(off, n + len + 4);
    const s = this.decodeSeries(buf, 0, ref);
    if (s === null) throw this.corrupt(`series ${ref} at offset ${off} is truncated`);
    return s;
  }

  /** Decodes the entry at b[pos]; null when b ends before the entry does. */
  private decodeSeries(b: Uint8Array, pos: number, ref: number): SeriesEntry | null {
    const fileOff = ref * SERIES_ALIGNMENT;
    let r = new ByteReader(b, pos);
    let len: number;
    try {
      len = r.readUvarint();
    } catch {
      if (b.length - pos < 10) return null;
      throw this.corrupt(`series ${ref} at offset ${fileOff}: invalid length`);
    }
    const start = r.pos;
    const end = start + len;
    if (end + 4 > b.length) return null;
    const want = be32(b, end);
    const got = crc32c(b, start, end);
    if (want !== got) {
      throw this.corrupt(`series ${ref} at offset ${fileOff}: checksum mismatch (stored 0x${want.toString(16)}, computed 0x${got.toString(16)})`);
    }
    r = new ByteReader(b, start, end);
    const syms = this.syms;
    try {
      const nl = r.readUvarint();
      const labels: Label[] = new Array<Label>(nl);
      for (let i = 0; i < nl; i++) {
        const n = r.readUvarint();
        const v = r.readUvarint();
        const name = syms[n];
        const value = syms[v];
        if (name === undefined || value === undefined) throw new DecodeError(`symbol ref ${name === undefined ? n : v} out of range`);
        labels[i] = { name, value };
      }
      const nc = r.readUvarint();
      const chunks: ChunkMeta[] = new Array<ChunkMeta>(nc);
      let maxt = 0;
      let cref = 0;
      for (let i = 0; i < nc; i++) {
        let mint: number;
        if (i === 0) {
          mint = r.readVarint();
          maxt = mint + r.readUvarint();
          cref = r.readUvarint();
        } else {
          mint = maxt + r.readUvarint();
          maxt = mint + r.readUvarint();
          cref += r.readVarint();
        }
        chunks[i] = { mint, maxt, ref: cref };
      }
      return { labels, chunks };
    } catch (e) {
      throw this.corrupt(`series ${ref} at offset ${fileOff}: ${(e as Error).message}`);
    }
  }
}
