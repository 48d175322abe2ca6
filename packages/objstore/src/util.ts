import { Readable } from 'node:stream';

/** Throws RangeError unless offset and length are non-negative safe integers. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`invalid length ${length}`);
}

/** A stream chunk as a Buffer (strings are UTF-8). */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`upload: stream chunk of type ${typeof chunk} is not bytes`);
}

/** Bytes as a Buffer without copying. */
export function bytesToBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads a whole stream into one Buffer. */
export async function readAll(stream: NodeJS.ReadableStream | Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<unknown>) chunks.push(toBuffer(c));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
