import * as net from 'node:net';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago (the kernel picks it: listen on port 0, read
 * the port, close). Another process may still take it before it is used; start servers right away.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : port ? resolve(port) : reject(new Error('freePort: no port assigned'))));
    });
  });
}

/** `n` distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  for (let attempts = 0; out.size < n && attempts < n * 20; attempts++) out.add(await freePort());
  if (out.size < n) throw new Error(`freePorts: found only ${out.size} of ${n} free ports`);
  return [...out];
}
