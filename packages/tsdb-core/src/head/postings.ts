/**
 * Sorted lists of series refs. Lists only ever receive increasing refs (new series get the next
 * ref), so appending keeps them sorted.
 */
export type PostingsList = number[];

export function intersect(a: PostingsList, b: PostingsList): PostingsList {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

export function subtract(a: PostingsList, b: PostingsList): PostingsList {
  if (b.length === 0) return a;
  const out: number[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out.push(x);
  }
  return out;
}

export function union(lists: PostingsList[]): PostingsList {
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0]!;
  const all: number[] = [];
  for (const l of lists) for (const x of l) all.push(x);
  all.sort((x, y) => x - y);
  const out: number[] = [];
  let prev = -1;
  for (const x of all) {
    if (x !== prev) out.push(x);
    prev = x;
  }
  return out;
}

/** name → value → refs. */
export class MemPostings {
  private readonly m = new Map<string, Map<string, PostingsList>>();
  private readonly all: PostingsList = [];

  add(ref: number, labels: readonly { name: string; value: string }[]): void {
    this.all.push(ref);
    for (const l of labels) {
      let vals = this.m.get(l.name);
      if (vals === undefined) {
        vals = new Map();
        this.m.set(l.name, vals);
      }
      const list = vals.get(l.value);
      if (list === undefined) vals.set(l.value, [ref]);
      else list.push(ref);
    }
  }

  allPostings(): PostingsList {
    return this.all;
  }

  get(name: string, value: string): PostingsList {
    return this.m.get(name)?.get(value) ?? [];
  }

  values(name: string): Map<string, PostingsList> | undefined {
    return this.m.get(name);
  }

  names(): IterableIterator<string> {
    return this.m.keys();
  }

  /** Removes the given refs everywhere (series garbage collection). */
  remove(dead: Set<number>): void {
    if (dead.size === 0) return;
    const keep = (l: PostingsList) => l.filter((r) => !dead.has(r));
    const all = keep(this.all);
    this.all.length = 0;
    this.all.push(...all);
    for (const [name, vals] of this.m) {
      for (const [v, l] of vals) {
        const k = keep(l);
        if (k.length === 0) vals.delete(v);
        else vals.set(v, k);
      }
      if (vals.size === 0) this.m.delete(name);
    }
  }
}
