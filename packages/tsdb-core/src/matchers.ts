import { compileAnchoredRegex } from './regex';

export enum MatchType {
  EQ = 0,
  NEQ = 1,
  RE = 2,
  NRE = 3,
}

const TYPE_STRINGS = ['=', '!=', '=~', '!~'];

/** A label matcher. Regular expressions are fully anchored, as in Prometheus. */
export class Matcher {
  private readonly re: RegExp | undefined;

  constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
  ) {
    if (type === MatchType.RE || type === MatchType.NRE) this.re = compileAnchoredRegex(value);
  }

  matches(v: string): boolean {
    switch (this.type) {
      case MatchType.EQ:
        return v === this.value;
      case MatchType.NEQ:
        return v !== this.value;
      case MatchType.RE:
        return this.re!.test(v);
      case MatchType.NRE:
        return !this.re!.test(v);
    }
  }

  /** True when the matcher also matches series that lack the label (value ""). */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  toString(): string {
    return `${this.name}${TYPE_STRINGS[this.type]}${JSON.stringify(this.value)}`;
  }
}
