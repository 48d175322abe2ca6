/**
 * Label sets. A `Labels` value is always sorted by name in UTF-8 byte order and has no duplicate
 * names and no empty values (Prometheus' invariants).
 */
export interface Label {
  readonly name: string;
  readonly value: string;
}
export type Labels = readonly Label[];

export const METRIC_NAME = '__name__';

/**
 * Compares two strings by their UTF-8 bytes, as Go does. JS `<` compares UTF-16 code units, which
 * disagrees for code points above U+FFFF against U+E000–U+FFFF; code-point order equals UTF-8 order.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Only surrogates (0xD800–0xDFFF) sort differently from their code points.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa === sb) return ca < cb ? -1 : 1;
    return sa ? 1 : -1; // a surrogate encodes >= U+10000, above every BMP char
  }
  return a.length - b.length;
}

export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const la = a[i]!;
    const lb = b[i]!;
    let c = compareStrings(la.name, lb.name);
    if (c !== 0) return c;
    c = compareStrings(la.value, lb.value);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export function sortLabels(ls: Label[]): Label[] {
  return ls.sort((x, y) => compareStrings(x.name, y.name));
}

export function getLabel(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return '';
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  }
  return true;
}

/** Builds sorted labels from a plain object; empty values are dropped. */
export function labelsFromObject(o: Record<string, string>): Labels {
  const out: Label[] = [];
  for (const [name, value] of Object.entries(o)) if (value !== '') out.push({ name, value });
  return sortLabels(out);
}

export function labelsToObject(ls: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}

/** `{__name__="up", job="x"}`, as Prometheus' Labels.String() prints a label set. */
export function labelsToString(ls: Labels): string {
  return `{${ls.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;
}

/** A string key unique per label set (for maps in query code; not the storage key). */
export function labelsKey(ls: Labels): string {
  let s = '';
  for (const l of ls) s += l.name + '\xff' + l.value + '\xff';
  return s;
}
