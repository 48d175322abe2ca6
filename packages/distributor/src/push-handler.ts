import type { IncomingMessage, ServerResponse } from 'node:http';
import { uncompress } from 'snappyjs';
import { isStrataError, resolveTenant, type Logger, type TenantResolverConfig } from '@strata/common';
import type { Distributor } from './distributor';

export interface PushHandlerConfig extends TenantResolverConfig {
  maxRecvMsgSize: number;
}

/** Reads the snappy block header: the uvarint decompressed length. Returns -1 if malformed. */
export function snappyDecodedLength(buf: Uint8Array): number {
  let x = 0;
  for (let i = 0, s = 0; i < 5 && i < buf.length; i++, s += 7) {
    const c = buf[i]!;
    x += (c & 0x7f) * 2 ** s;
    if (c < 0x80) return x;
  }
  return -1;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  if (body !== '') res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body === '' ? undefined : body + '\n');
}

/** `POST /api/v1/push`: remote write 1.0 (snappy block + protobuf WriteRequest). */
export function createPushHandler(cfg: PushHandlerConfig, distributor: Distributor, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let tenant: string;
    try {
      tenant = resolveTenant(cfg, req.headers);
    } catch (e) {
      if (isStrataError(e)) return send(res, e.status, e.message);
      throw e;
    }
    try {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > cfg.maxRecvMsgSize) {
        req.resume();
        distributor.checkSize(declared);
      }
      const body = await readBody(req, cfg.maxRecvMsgSize);
      if (body === null) return send(res, 400, 'request body too large');
      const decodedLen = snappyDecodedLength(body);
      if (decodedLen < 0) return send(res, 400, 'failed to decompress the write request: snappy: corrupt input');
      distributor.checkSize(decodedLen);
      let raw: Uint8Array;
      try {
        raw = uncompress(body, cfg.maxRecvMsgSize) as Uint8Array;
      } catch (e) {
        return send(res, 400, `failed to decompress the write request: snappy: ${(e as Error).message}`);
      }
      const out = await distributor.push(tenant, raw);
      if (out.status >= 500 || out.status === 429) res.setHeader('Retry-After', '6');
      if (out.status >= 400) {
        logger.warn({ tenant, status: out.status, err: out.message }, 'detected an error while ingesting Prometheus remote-write request (the request may have been partially ingested)');
      }
      send(res, out.status, out.message);
    } catch (e) {
      if (isStrataError(e)) return send(res, e.status, e.message);
      logger.error({ tenant, err: (e as Error).message }, 'push failed');
      res.setHeader('Retry-After', '6');
      send(res, 500, (e as Error).message);
    }
  };
}
