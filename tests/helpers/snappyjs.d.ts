// snappyjs 0.7.0 ships no types. Buffer in gives Buffer out; Uint8Array in gives Uint8Array out.
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  /** Throws when the declared uncompressed length exceeds `maxLength`. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
}
