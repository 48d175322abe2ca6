/** A block file is malformed: bad magic, unsupported version, checksum mismatch or out-of-range data. */
export class BlockCorruptionError extends Error {
  override readonly name = 'BlockCorruptionError';
}
