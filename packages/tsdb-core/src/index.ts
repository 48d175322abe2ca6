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
export type { SeriesKey } from './series-key';
export { seriesKeyFromLabels, labelsFromSeriesKey, seriesKeyLabel } from './series-key';
export { WriteBatch } from './ingest';
export type { PushError, PushResult, ChunkData, SeriesChunks, IngesterClient } from './ingest';
export { Head } from './head/head';
export type { HeadOptions } from './head/head';
export { MemSeries, AppendStatus, SAMPLES_PER_CHUNK, ENCODING_XOR } from './head/mem-series';
export { MemPostings, intersect, subtract, union } from './head/postings';
export { ChunkSeries, ChunksIterator } from './chunk-series';
