/* eslint-disable @typescript-eslint/no-require-imports, no-console */
/**
 * s3rver 3.7.1 as a real S3 HTTP server for tests, with the patches from docs/tooling.md §3:
 *   1. ListMultipartUploads (`GET /bucket?uploads`, called by minio-js before every multipart
 *      upload) answers 501; here it answers an empty list.
 *   2. Delimiter listing drops deep common prefixes (`tenant-1/<ULID>/meta.json` under prefix ''
 *      gave [] instead of `tenant-1/`); here the store lists flat and folds the prefixes itself.
 *      Unlike the original shim it lists the whole prefix in one page, so a folded page can never
 *      be "truncated" with no object to continue from.
 *   3. DeleteObjects races on empty-directory cleanup (500 ENOENT); here deletes are serialized.
 *
 * Environment: S3_PORT (default 14568), S3_DIR (default $TMPDIR/s3rver), S3_BUCKETS (comma-separated
 * buckets to create at start; existing ones are kept), S3_RESET_ON_CLOSE=1 to wipe S3_DIR on exit
 * (off by default, so a restart on the same directory keeps the objects).
 * Prints `s3rver listening on 127.0.0.1:<port>` once it accepts requests. SIGTERM/SIGINT stop it.
 */
'use strict';
const os = require('node:os');
const path = require('node:path');
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

// Patch 2: fold common prefixes from a flat listing.
const origList = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function listObjects(bucket, options = {}) {
  const { delimiter = '', prefix = '' } = options;
  if (!delimiter) return origList.call(this, bucket, options);
  const all = await origList.call(this, bucket, { ...options, delimiter: '', maxKeys: Infinity });
  const prefixes = new Set();
  const objects = all.objects.filter((o) => {
    const i = o.key.slice(prefix.length).indexOf(delimiter);
    if (i === -1) return true;
    prefixes.add(o.key.slice(0, prefix.length + i + delimiter.length));
    return false;
  });
  return { objects, commonPrefixes: [...prefixes].sort(), isTruncated: false };
};

// Patch 3: serialize deletes.
const origDelete = FilesystemStore.prototype.deleteObject;
let deleteChain = Promise.resolve();
FilesystemStore.prototype.deleteObject = function deleteObject(bucket, key) {
  const r = deleteChain.then(() => origDelete.call(this, bucket, key));
  deleteChain = r.catch(() => {});
  return r;
};

const port = Number(process.env.S3_PORT || 14568);
const directory = process.env.S3_DIR || path.join(os.tmpdir(), 's3rver');
const buckets = (process.env.S3_BUCKETS || '')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');

const server = new S3rver({
  port,
  address: '127.0.0.1',
  silent: true,
  directory,
  resetOnClose: process.env.S3_RESET_ON_CLOSE === '1',
  configureBuckets: buckets.map((name) => ({ name })),
});

// Patch 1: ListMultipartUploads answers an empty list.
server.middleware.unshift(async (ctx, next) => {
  if (ctx.method === 'GET' && /^\/[^/]+\/?$/.test(ctx.path) && 'uploads' in ctx.query) {
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${ctx.path.split('/')[1]}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
      '<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker><MaxUploads>1000</MaxUploads>' +
      '<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>';
    return;
  }
  return next();
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // Never hang on a client that keeps a request open: exit after 2 s regardless.
  setTimeout(() => process.exit(0), 2000).unref();
  if (server.httpServer) server.httpServer.closeAllConnections?.();
  server.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// Orphan guard: exit when the parent (the test process) is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 500).unref();

server.run().then(
  ({ port: p }) => console.log(`s3rver listening on 127.0.0.1:${p}`),
  (err) => {
    console.error(`s3rver failed to start: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
