import { labelsFromObject, type Labels } from '@strata/tsdb-core';
import { hasDuplicateLabels } from './engine/labels';

const sets = (objs: Record<string, string>[]): Labels[] => objs.map((o) => labelsFromObject(o));
const dup = (ls: Labels[], skipName: boolean) => hasDuplicateLabels(ls.length, (i) => ls[i]!, skipName);

test('hasDuplicateLabels finds equal label sets, with or without the metric name', () => {
  const distinct = sets([{ __name__: 'a', x: '1' }, { __name__: 'b', x: '1' }, { __name__: 'a', x: '2' }, { x: '1', y: '' }]);
  expect(dup(distinct, false)).toBe(false);
  // Without names, {x="1"} appears twice.
  expect(dup(distinct, true)).toBe(true);
  expect(dup(sets([{ __name__: 'a', x: '1' }, { __name__: 'a', x: '1' }]), false)).toBe(true);
  expect(dup(sets([{ __name__: 'a' }, { __name__: 'b' }]), true)).toBe(true); // both become {}
  expect(dup(sets([{ a: 'b' }, { a: 'b', c: 'd' }]), false)).toBe(false);
  // Names and values are numbered from one table: a name equal to another set's value must not confuse.
  expect(dup(sets([{ a: 'b' }, { b: 'a' }]), false)).toBe(false);
  expect(dup([], false)).toBe(false);
});

test('hasDuplicateLabels on many sets (hash collisions are checked, not trusted)', () => {
  const many: Labels[] = [];
  for (let i = 0; i < 60000; i++) many.push(labelsFromObject({ __name__: `m${i % 7}`, id: String(i), g: String(i % 13) }));
  expect(dup(many, false)).toBe(false);
  expect(dup(many, true)).toBe(false);
  many.push(labelsFromObject({ __name__: 'other', id: '4242', g: String(4242 % 13) }));
  expect(dup(many, false)).toBe(false);
  expect(dup(many, true)).toBe(true);
});
