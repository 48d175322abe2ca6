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
