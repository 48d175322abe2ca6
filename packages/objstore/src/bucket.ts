export interface ObjectAttributes {
  size: number;
  lastModified: Date;
}

export interface IterOptions {
  /** List every object below the prefix instead of the names directly under it. */
  recursive?: boolean;
}

/** What can be uploaded: bytes, or a stream of bytes (read once; see `withRetries`). */
export type UploadBody = Buffer | Uint8Array | NodeJS.ReadableStream;

/**
 * An object store bucket, as Thanos' `objstore.Bucket`. Keys are `/`-separated paths without empty,
 * `.` or `..` segments and without a leading or trailing `/` (see `validateKey`).
 */
export interface Bucket {
  readonly name: string;
  /** The whole object. Throws ObjectNotFoundError if it does not exist. */
  get(key: string): Promise<Buffer>;
  /**
   * `length` bytes from `offset` (fewer when the object ends first; empty when `offset` is at or past
   * the end). Throws ObjectNotFoundError if the object does not exist.
   */
  getRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** Creates or replaces the object; readers see the old or the new object, never a part. */
  upload(key: string, body: UploadBody): Promise<void>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Throws ObjectNotFoundError if the object does not exist. */
  attributes(key: string): Promise<ObjectAttributes>;
  /**
   * Names directly under `prefix` ("dir/" entries end with "/"), or every object below it with
   * {recursive:true}; full keys, sorted. `prefix` is a directory: "" is the root, and "a" means "a/"
   * (so "tenant-1" never lists "tenant-10/"), as Thanos' `Iter`.
   */
  iter(prefix: string, opts?: IterOptions): Promise<string[]>;
  /** Releases connections and other resources. */
  close?(): Promise<void>;
}
