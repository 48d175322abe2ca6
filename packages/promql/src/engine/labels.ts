import { METRIC_NAME, compareStrings, labelsKey, type Label, type Labels } from '@strata/tsdb-core';
import { goQuote } from '../parser/lexer';

/**
 * Label-set helpers for evaluation. Results are cached per Labels object (WeakMap) because the
 * same label sets come back at every step of a range query.
 */

const keyCache = new WeakMap<Labels, string>();

/** A string unique per label set, for maps keyed by series. */
export function seriesKey(ls: Labels): string {
  let k = keyCache.get(ls);
  if (k === undefined) {
    k = labelsKey(ls);
    keyCache.set(ls, k);
  }
  return k;
}

const dropNameCache = new WeakMap<Labels, Labels>();

export function dropMetricName(ls: Labels): Labels {
  let r = dropNameCache.get(ls);
  if (r === undefined) {
    r = ls;
    for (let i = 0; i < ls.length; i++) {
      if (ls[i]!.name === METRIC_NAME) {
        r = ls.filter((l) => l.name !== METRIC_NAME);
        break;
      }
    }
    dropNameCache.set(ls, r);
  }
  return r;
}

export function getLabelValue(ls: Labels, name: string): string {
  for (let i = 0; i < ls.length; i++) if (ls[i]!.name === name) return ls[i]!.value;
  return '';
}

/** Only the labels in `names`. */
export function keepLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => names.has(l.name));
}

/** All labels except those in `names`. */
export function deleteLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => !names.has(l.name));
}

/** Sets (or, for an empty value, removes) one label. */
export function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let done = value === '';
  for (const l of ls) {
    if (l.name === name) continue;
    if (!done && compareStrings(name, l.name) < 0) {
      out.push({ name, value });
      done = true;
    }
    out.push(l);
  }
  if (!done) out.push({ name, value });
  return out;
}

/** Signature of the labels in `names` (names sorted), for `on(...)` matching and `by` grouping. */
export function signatureOn(ls: Labels, names: ReadonlySet<string>): string {
  let s = '';
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (names.has(l.name)) s += l.name + '\xff' + l.value + '\xff';
  }
  return s;
}

/** Signature of all labels except `names` and the metric name, for `ignoring(...)` and `without`. */
export function signatureWithout(ls: Labels, names: ReadonlySet<string>): string {
  let s = '';
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (l.name !== METRIC_NAME && !names.has(l.name)) s += l.name + '\xff' + l.value + '\xff';
  }
  return s;
}

/** Go's `labels.Labels.String()`: `{a="1", b="2"}`. */
export function labelsString(ls: Labels): string {
  return '{' + ls.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ') + '}';
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidLabelName(s: string): boolean {
  return LABEL_NAME_RE.test(s);
}

function sameLabelsIgnoring(a: Labels, b: Labels, skipName: boolean): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (skipName && i < a.length && a[i]!.name === METRIC_NAME) i++;
    while (skipName && j < b.length && b[j]!.name === METRIC_NAME) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    const x = a[i++]!;
    const y = b[j++]!;
    if (x.name !== y.name || x.value !== y.value) return false;
  }
}

/**
 * Whether two of the label sets are equal (with `skipName`, once their metric names are dropped).
 * Label strings are numbered through a Map (their hashes are cached by the engine, so this is
 * cheap), each set is hashed from those numbers, and only sets with equal hashes are compared.
 */
export function hasDuplicateLabels(n: number, labelsAt: (i: number) => Labels, skipName: boolean): boolean {
  if (n <= 1) return false;
  const ids = new Map<string, number>();
  const id = (s: string): number => {
    let x = ids.get(s);
    if (x === undefined) {
      x = ids.size + 1;
      ids.set(s, x);
    }
    return x;
  };
  const first = new Map<number, number>();
  let more: Map<number, number[]> | null = null;
  for (let i = 0; i < n; i++) {
    const ls = labelsAt(i);
    let h = 0x811c9dc5;
    for (let k = 0; k < ls.length; k++) {
      const l = ls[k]!;
      if (skipName && l.name === METRIC_NAME) continue;
      h = Math.imul(h ^ id(l.name), 16777619);
      h = Math.imul(h ^ id(l.value), 16777619);
    }
    const f = first.get(h);
    if (f === undefined) {
      first.set(h, i);
      continue;
    }
    if (sameLabelsIgnoring(labelsAt(f), ls, skipName)) return true;
    more ??= new Map();
    const others = more.get(h);
    if (others === undefined) more.set(h, [i]);
    else {
      for (const o of others) if (sameLabelsIgnoring(labelsAt(o), ls, skipName)) return true;
      others.push(i);
    }
  }
  return false;
}
