/**
 * Reader of a Prometheus index file, format v2 (docs formats.md §4.4), over a ByteSource.
 *
 * `open` reads the TOC, the symbol table and the postings offset table: this "index header" stays in
 * memory (symbols as strings, the postings offset table as its raw bytes plus every 32nd value per
 * label name). Series entries and postings lists are read lazily with ranged reads, and reads of
 * nearby entries are coalesced so that a query costs few round trips on object storage.
 */
import { ByteReader, DecodeError, uvarint64At } from '../encoding';
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

/**
 * Series entries decoded into flat columns (IndexReader.seriesColumns), so that reading many series
 * allocates a few arrays rather than objects per series, label and chunk. Series i is the entry of
 * series ref `refs[i]`; its labels are the pairs [labelStart[i], labelStart[i+1]) with the name at
 * labelSyms[2k] and the value at labelSyms[2k+1], both indexes into the symbol table; its chunk
 * metas are [chunkStart[i], chunkStart[i+1]), chunk c spanning [chunkTimes[2c], chunkTimes[2c+1]]
 * with reference chunkRef[c]. Arrays may be longer than used.
 */
export interface SeriesColumns {
  numSeries: number;
  refs: Float64Array;
  labelStart: Uint32Array;
  labelSyms: Uint32Array;
  chunkStart: Uint32Array;
  chunkTimes: Float64Array;
  chunkRef: Float64Array;
}

/**
 * Symbol strings and tables shared by the index readers of many blocks (IndexReaderOptions): a
 * reader's symbols are replaced by the pool's copies of the same strings, and its whole table by an
 * identical one already in the pool. Equal labels of different blocks are then the same strings,
 * and blocks with the same symbols (blocks of one tenant without series churn) the same table, so
 * merging them compares references and symbol indexes rather than string contents. Also saves the
 * memory of the copies.
 */
export class SymbolPool {
  private readonly strings = new Map<string, string>();
  /** Tables by length. */
  private readonly tables = new Map<number, (readonly string[])[]>();

  /** Number of distinct strings. */
  get size(): number {
    return this.strings.size;
  }

  /**
   * Makes the strings of `syms` the pool's (in place) and returns the pool's table equal to it,
   * `syms` itself if there was none (it is then added).
   */
  intern(syms: string[]): readonly string[] {
    const strings = this.strings;
    for (let i = 0; i < syms.length; i++) {
      const s = syms[i]!;
      const c = strings.get(s);
      if (c === undefined) strings.set(s, s);
      else syms[i] = c;
    }
    let same = this.tables.get(syms.length);
    if (same === undefined) {
      same = [];
      this.tables.set(syms.length, same);
    }
    for (const t of same) {
      if (t === syms) return t;
      let i = 0;
      while (i < syms.length && t[i] === syms[i]) i++;
      if (i === syms.length) return t;
    }
    same.push(syms);
    return syms;
  }
}

export interface IndexReaderOptions {
  /** Shares the symbol strings and table with other readers; see SymbolPool. */
  symbolPool?: SymbolPool;
}

function growU32(a: Uint32Array, need: number): Uint32Array {
  if (need <= a.length) return a;
  const b = new Uint32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

function growF64(a: Float64Array, need: number): Float64Array {
  if (need <= a.length) return a;
  const b = new Float64Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

/**
 * Cursor of uvarintAt/varintAt: the position to read at, advanced past what they read. A typed
 * array rather than a variable so that updating it never boxes the number.
 */
const cur = new Int32Array(1);

/** ByteReader.readUvarint at b[cur[0]] (before `end`), advancing the cursor; NaN where ByteReader throws. */
function uvarintAt(b: Uint8Array, end: number): number {
  const i = cur[0]!;
  // Up to 3 bytes (symbol indexes, counts, small deltas) with int32 ops.
  if (i + 2 < end) {
    const c0 = b[i]!;
    if (c0 < 0x80) {
      cur[0] = i + 1;
      return c0;
    }
    const c1 = b[i + 1]!;
    if (c1 < 0x80) {
      cur[0] = i + 2;
      return (c0 & 0x7f) | (c1 << 7);
    }
    const c2 = b[i + 2]!;
    if (c2 < 0x80) {
      cur[0] = i + 3;
      return (c0 & 0x7f) | ((c1 & 0x7f) << 7) | (c2 << 14);
    }
  }
  return uvarintSlow(b, i, end);
}

function uvarintSlow(b: Uint8Array, i: number, end: number): number {
  const v = uvarint49At(b, i, end);
  if (v !== -1) return v;
  const len = uvarint64At(b, i, end, u64);
  if (len < 0) return NaN;
  const n = u64[0]! * 4294967296 + u64[1]!;
  if (n > Number.MAX_SAFE_INTEGER) return NaN;
  cur[0] = i + len;
  return n;
}

/**
 * The uvarint at b[i] if it has at most 7 groups (49 bits, exact as a double), advancing the
 * cursor; NaN if truncated; -1 if it is longer (then uvarint64At reads it).
 */
function uvarint49At(b: Uint8Array, i: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let k = 0; k < 7; k++) {
    if (i + k >= end) return NaN;
    const c = b[i + k]!;
    v += (c & 0x7f) * mul;
    if (c < 0x80) {
      cur[0] = i + k + 1;
      return v;
    }
    mul *= 128;
  }
  return -1;
}

/** ByteReader.readVarint at b[cur[0]] (before `end`), advancing the cursor; NaN where ByteReader throws. */
function varintAt(b: Uint8Array, end: number): number {
  const i = cur[0]!;
  // Zigzag: exact as doubles up to 7 groups (49 bits).
  const u = uvarint49At(b, i, end);
  if (u !== -1) return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  const len = uvarint64At(b, i, end, u64);
  if (len < 0) return NaN;
  const hi = u64[0]!;
  const lo = u64[1]!;
  const mask = -(lo & 1);
  const n = ((hi >>> 1) ^ mask) * 4294967296 + ((((lo >>> 1) | (hi << 31)) ^ mask) >>> 0);
  if (!Number.isSafeInteger(n)) return NaN;
  cur[0] = i + len;
  return n;
}

/** uvarint64At's [hi, lo] for uvarintSlow and varintAt. */
const u64 = new Uint32Array(2);

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

/** A label's values and the offsets of their postings lists (see IndexReader.valueLists). */
interface ValueLists {
  values: string[];
  offs: Float64Array;
}

/** Label names whose value lists an IndexReader keeps decoded (the oldest is dropped first)… */
const VALUE_CACHE_NAMES = 64;
/** …and how many values in all (about 3 MB per block at most). */
const VALUE_CACHE_MAX = 1 << 18;

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
  private readonly valueCache = new Map<string, ValueLists>();
  private valueCacheSize = 0;

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
  static async open(src: ByteSource, file = 'index', opts: IndexReaderOptions = {}): Promise<IndexReader> {
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
    let syms: string[] = [];
    try {
      const sr = new ByteReader(symBody);
      const n = sr.readBE32();
      if (n > symBody.length) throw new DecodeError(`symbol count ${n} is larger than the table`);
      for (let i = 0; i < n; i++) syms.push(sr.readUvarintString());
    } catch (e) {
      throw corrupt(`symbol table: ${(e as Error).message}`);
    }
    // The shared table is never modified (as this reader's own is not).
    if (opts.symbolPool !== undefined) syms = opts.symbolPool.intern(syms) as string[];

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

  /** The symbol table itself (not a copy): the label symbol indexes of seriesColumns point into it. */
  get symbolTable(): readonly string[] {
    return this.syms;
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
  /**
   * The values of label `name` in table order, and where their postings lists are: list i is
   * [offs[i], offs[i + 1]). Decoded once per name (regex and negative matchers scan every value of
   * a label at every query); value strings are the symbol table's own, so the cache costs little
   * more than the offsets.
   */
  private valueLists(name: string): ValueLists {
    const cached = this.valueCache.get(name);
    if (cached !== undefined) return cached;
    const values: string[] = [];
    const offs: number[] = [];
    const info = this.nameInfo.get(name);
    if (info !== undefined) {
      const r = new ByteReader(this.table, info.start, info.end);
      while (r.remaining() > 0) {
        r.readUvarint();
        r.skip(r.readUvarint());
        values.push(this.symbolOf(r.readUvarintString()));
        offs.push(r.readUvarint());
      }
      offs.push(info.nextOffset);
    }
    const lists: ValueLists = { values, offs: Float64Array.from(offs) };
    if (values.length > VALUE_CACHE_MAX) return lists; // too big to keep (about 12 bytes a value)
    this.valueCacheSize += values.length;
    this.valueCache.set(name, lists);
    // Oldest names out first, within both budgets.
    while (this.valueCache.size > VALUE_CACHE_NAMES || this.valueCacheSize > VALUE_CACHE_MAX) {
      const [oldest, l] = this.valueCache.entries().next().value!;
      this.valueCache.delete(oldest);
      this.valueCacheSize -= l.values.length;
    }
    return lists;
  }

  /** The symbol table's instance of `s` (binary search), or `s` itself. */
  private symbolOf(s: string): string {
    const syms = this.syms;
    let lo = 0;
    let hi = syms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = syms[mid]!;
      if (x === s) return x;
      if (compareStrings(x, s) < 0) lo = mid + 1;
      else hi = mid;
    }
    return s;
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
    const { values, offs } = this.valueLists(m.name);
    const sel: ListRange[] = [];
    for (let i = 0; i < values.length; i++) if (m.matches(values[i]!) === want) sel.push({ off: offs[i]!, bound: offs[i + 1]! });
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
    const buf = await this.entryBytes(ref, off, head);
    const s = this.decodeSeries(buf, 0, ref);
    if (s === null) throw this.corrupt(`series ${ref} at offset ${off} is truncated`);
    return s;
  }

  /** Reads the whole entry at `off`, whose length is read from `head` (or from a fresh read). */
  private async entryBytes(ref: number, off: number, head: Uint8Array | undefined): Promise<Uint8Array> {
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
    return this.src.read(off, n + len + 4);
  }

  /**
   * Reads the series entries of `refs` (ascending, as postings are) into columns, keeping only the
   * series with a chunk overlapping [mint, maxt] and of those only such chunks (Block.select's
   * filter). Every entry is read and verified as seriesMany does, with the same errors.
   */
  async seriesColumns(refs: readonly number[], mint: number, maxt: number): Promise<SeriesColumns> {
    const n = refs.length;
    for (let i = 0; i < n; i++) {
      this.seriesOffset(refs[i]!);
      if (i > 0 && refs[i]! <= refs[i - 1]!) throw new RangeError('seriesColumns: series refs must be ascending');
    }
    const cols: SeriesColumns = {
      numSeries: 0,
      refs: new Float64Array(n),
      labelStart: new Uint32Array(n + 1),
      labelSyms: new Uint32Array(Math.max(64, 16 * n)),
      chunkStart: new Uint32Array(n + 1),
      chunkTimes: new Float64Array(Math.max(32, 2 * n)),
      chunkRef: new Float64Array(Math.max(16, n)),
    };
    let i = 0;
    while (i < n) {
      // Offsets are valid (checked above).
      const start = refs[i]! * SERIES_ALIGNMENT;
      let last = start;
      let j = i + 1;
      while (j < n) {
        const o = refs[j]! * SERIES_ALIGNMENT;
        if (o - last > MAX_GAP || o - start > MAX_SPAN) break;
        last = o;
        j++;
      }
      const end = Math.min(last + SERIES_WINDOW, this.seriesEnd);
      const buf = await this.src.read(start, end - start);
      for (let k = i; k < j; k++) {
        const off = refs[k]! * SERIES_ALIGNMENT;
        if (this.decodeSeriesInto(buf, off - start, refs[k]!, mint, maxt, cols)) continue;
        const exact = await this.entryBytes(refs[k]!, off, undefined);
        if (!this.decodeSeriesInto(exact, 0, refs[k]!, mint, maxt, cols)) throw this.corrupt(`series ${refs[k]!} at offset ${off} is truncated`);
      }
      i = j;
    }
    return cols;
  }

  /**
   * decodeSeries into columns (see seriesColumns): appends the entry at b[pos] if it has chunks in
   * [mint, maxt]; false when b ends before the entry does. Where the entry is invalid, decodeSeries
   * runs on it to throw its error.
   */
  private decodeSeriesInto(b: Uint8Array, pos: number, ref: number, mint: number, maxt: number, c: SeriesColumns): boolean {
    cur[0] = pos;
    const len = uvarintAt(b, b.length);
    if (Number.isNaN(len)) return this.decodeSeriesError(b, pos, ref);
    const start = cur[0]!;
    const end = start + len;
    if (end + 4 > b.length) return false;
    if (be32(b, end) !== crc32c(b, start, end)) return this.decodeSeriesError(b, pos, ref);
    const nsyms = this.syms.length;
    const ns = c.numSeries;
    // Labels: pairs of symbol indexes.
    const nl = uvarintAt(b, end);
    if (!(nl <= len)) return this.decodeSeriesError(b, pos, ref);
    const l0 = c.labelStart[ns]!;
    if (2 * (l0 + nl) > c.labelSyms.length) c.labelSyms = growU32(c.labelSyms, 2 * (l0 + nl));
    const ls = c.labelSyms;
    for (let k = 0, p = 2 * l0; k < nl; k++, p += 2) {
      const nm = uvarintAt(b, end);
      const v = uvarintAt(b, end);
      if (!(nm < nsyms && v < nsyms)) return this.decodeSeriesError(b, pos, ref);
      ls[p] = nm;
      ls[p + 1] = v;
    }
    // Chunk metas overlapping [mint, maxt].
    const nc = uvarintAt(b, end);
    if (!(nc <= len)) return this.decodeSeriesError(b, pos, ref);
    const c0 = c.chunkStart[ns]!;
    if (c0 + nc > c.chunkRef.length || 2 * (c0 + nc) > c.chunkTimes.length) {
      c.chunkTimes = growF64(c.chunkTimes, 2 * (c0 + nc));
      c.chunkRef = growF64(c.chunkRef, c0 + nc);
    }
    const times = c.chunkTimes;
    const cref = c.chunkRef;
    let kept = c0;
    let cmaxt = 0;
    let r = 0;
    for (let k = 0; k < nc; k++) {
      let cmint: number;
      if (k === 0) {
        cmint = varintAt(b, end);
        cmaxt = cmint + uvarintAt(b, end);
        r = uvarintAt(b, end);
      } else {
        cmint = cmaxt + uvarintAt(b, end);
        cmaxt = cmint + uvarintAt(b, end);
        r += varintAt(b, end);
      }
      // NaN propagates: one check covers every read of the chunk meta.
      if (Number.isNaN(cmaxt) || Number.isNaN(r)) return this.decodeSeriesError(b, pos, ref);
      if (cmaxt >= mint && cmint <= maxt) {
        times[2 * kept] = cmint;
        times[2 * kept + 1] = cmaxt;
        cref[kept] = r;
        kept++;
      }
    }
    if (kept === c0) return true; // nothing in range: the series is left out
    c.refs[ns] = ref;
    c.labelStart[ns + 1] = l0 + nl;
    c.chunkStart[ns + 1] = kept;
    c.numSeries = ns + 1;
    return true;
  }

  /** Throws decodeSeries' error for an entry decodeSeriesInto found invalid; false if it is just cut short. */
  private decodeSeriesError(b: Uint8Array, pos: number, ref: number): false {
    if (this.decodeSeries(b, pos, ref) === null) return false;
    throw this.corrupt(`series ${ref} at offset ${ref * SERIES_ALIGNMENT}: invalid entry`);
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
