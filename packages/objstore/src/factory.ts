import type { Logger, Registry } from '@strata/common';
import type { Bucket } from './bucket';
import { FilesystemBucket } from './filesystem';
import { instrumentBucket } from './instrument';
import { retrying, withRetries, type RetryOptions } from './retry';
import { S3Bucket, type S3BucketOptions, type S3Config } from './s3';

export interface BucketConfig {
  /** `-blocks-storage.backend` */
  backend: 'filesystem' | 's3';
  /** `-blocks-storage.filesystem.dir` */
  filesystemDir: string;
  s3: S3Config;
}

export interface BucketDeps {
  registry: Registry;
  logger: Logger;
  /** Adds a `component` label to the bucket metrics (ingester, querier, compactor…). */
  component?: string;
  retry?: RetryOptions;
  s3Options?: S3BucketOptions;
}

/**
 * The configured bucket, wrapped with retries and then metrics (one logical operation counts once,
 * however many attempts it took). For S3, the bucket is created when missing.
 */
export async function createBucket(cfg: BucketConfig, deps: BucketDeps): Promise<Bucket> {
  const logger = deps.logger.child({ backend: cfg.backend });
  let raw: Bucket;
  switch (cfg.backend) {
    case 'filesystem':
      if (cfg.filesystemDir === '') {
        throw new Error('filesystem bucket: no directory; configure -blocks-storage.filesystem.dir');
      }
      raw = new FilesystemBucket(cfg.filesystemDir);
      break;
    case 's3': {
      if (cfg.s3.endpoint === '') throw new Error('S3 bucket: no endpoint; configure -blocks-storage.s3.endpoint');
      if (cfg.s3.bucketName === '') {
        throw new Error('S3 bucket: no bucket name; configure -blocks-storage.s3.bucket-name');
      }
      const s3 = new S3Bucket(cfg.s3, deps.s3Options);
      try {
        await retrying(() => s3.ensureBucket(), deps.retry, logger, { bucket: s3.name, operation: 'ensure_bucket' });
      } catch (e) {
        await s3.close();
        throw e;
      }
      raw = s3;
      break;
    }
    default:
      throw new Error(
        `unknown object store backend ${JSON.stringify(cfg.backend)}; configure -blocks-storage.backend as filesystem or s3`,
      );
  }
  return instrumentBucket(withRetries(raw, deps.retry, logger), deps.registry, deps.component);
}
