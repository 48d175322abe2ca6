export type { Label, Labels } from './labels';
export {
  METRIC_NAME,
  compareStrings,
  compareLabels,
  sortLabels,
  getLabel,
  labelsEqual,
  labelsFromObject,
  labelsToObject,
  labelsToString,
  labelsKey,
} from './labels';
export { MatchType, Matcher } from './matchers';
export type { SampleIterator, Series, Querier } from './querier';
export { ArraySampleIterator } from './querier';
export { SampleBuffer, readSeriesInto } from './sample-buffer';
export type { SeriesKey } from './series-key';
export { seriesKeyFromLabels, labelsFromSeriesKey, seriesKeyLabel } from './series-key';
export { WriteBatch, metricTypeName } from './ingest';
export type { PushError, PushResult, ChunkData, SeriesChunks, IngesterClient, MetricMetadataEntry } from './ingest';
export { Head } from './head/head';
export type { HeadOptions } from './head/head';
export { MemSeries, AppendStatus, SAMPLES_PER_CHUNK, ENCODING_XOR } from './head/mem-series';
export { MemPostings, intersect, subtract, union } from './head/postings';
export { ChunkSeries, ChunksIterator } from './chunk-series';
export { ByteWriter, ByteReader, DecodeError, utf8Length, uvarintSize, uvarint32Size, putUvarint32 } from './encoding';
export { crc32c } from './crc32c';
export { BitWriter, BitReader } from './chunkenc/bstream';
export { STALE_HI, STALE_LO, isStaleBits, floatToBits, bitsToFloat, XorAppender, XorIterator } from './chunkenc/xor';
export { WAL, WALCorruptionError, WAL_PAGE_SIZE, WAL_DEFAULT_SEGMENT_SIZE, segmentName } from './wal/wal';
export type { WALOptions, WALReplayResult } from './wal/wal';
export {
  RECORD_SERIES,
  RECORD_SAMPLES,
  RECORD_TOMBSTONES,
  SamplesRecordBuilder,
  encodeSeriesRecord,
  encodeTombstonesRecord,
  decodeRecord,
} from './wal/records';
export type { SeriesRecordEntry, TombstoneEntry, DecodedSamples, DecodedRecord } from './wal/records';
export { writeCheckpoint, lastCheckpoint, replayWithCheckpoint, checkpointName } from './wal/checkpoint';
export type { CheckpointFilter } from './wal/checkpoint';
export { mergeSeriesLists, mergeSeriesChunks, mergeBlockSelections } from './merge';
export { newULID, ulidTime, isULID } from './ulid';
export type { ByteSource } from './block/byte-source';
export { FileByteSource, BufferByteSource } from './block/byte-source';
export { BlockCorruptionError } from './block/errors';
export {
  INDEX_FILENAME,
  CHUNKS_DIRNAME,
  TOMBSTONES_FILENAME,
  TMP_FOR_CREATION_SUFFIX,
  DEFAULT_SEGMENT_SIZE,
  chunkSegmentName,
  chunkRef,
  chunkRefSegment,
  chunkRefOffset,
} from './block/format';
export { META_FILENAME, BlockMetaError, readMeta, encodeMeta } from './block/meta';
export type { BlockMeta, BlockDesc, BlockStats, BlockCompaction, ThanosMeta, ThanosFile } from './block/meta';
export { writeBlock, BlockWriteError } from './block/writer';
export type { BlockSeries, WriteBlockOptions } from './block/writer';
export { IndexReader, SymbolPool } from './block/index-reader';
export type { IndexTOC, ChunkMeta, SeriesEntry, SeriesColumns, IndexReaderOptions } from './block/index-reader';
export { ChunkReader } from './block/chunk-reader';
export type { ChunkRecord, ChunkColumns } from './block/chunk-reader';
export { Block } from './block/reader';
export type { BlockSelection, BlockOptions } from './block/reader';
export { encodeTombstones, decodeTombstones } from './block/tombstones';
export type { Interval, Tombstones } from './block/tombstones';
export { buildIndexHeader, openIndexWithHeader } from './block/index-header';
export { goRegexToJs, compileAnchoredRegex, RegexSyntaxError } from './regex';
