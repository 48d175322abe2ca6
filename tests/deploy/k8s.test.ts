/**
 * deploy/k8s: every object is valid Kubernetes (kubernetes-models schemas), and the pieces fit:
 * every Strata container's flags and config file are accepted by Strata's own config loader and
 * point at the Redis and MinIO services, services select pods and target ports they declare,
 * every $(VAR) of an argument is defined, secrets have the keys asked for, there are as many
 * ingesters as the replication factor needs, probes hit /ready on the HTTP port.
 *
 * The base is read file by file (its ConfigMap generator is applied by hand); the dev overlay is
 * rendered with `kubectl kustomize` when kubectl is installed (it is optional, see tooling.md).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { loadConfig, type Config } from '@strata/common';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';

const ROOT = path.resolve(__dirname, '../..');
const BASE = path.join(ROOT, 'deploy/k8s/base');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

const MODELS: Record<string, new (o: Obj) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
};

function parseAll(text: string): Obj[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj)
    .filter((o) => o !== null && o !== undefined);
}

/** The base's objects, with its configMapGenerator applied. */
function baseObjects(): Obj[] {
  const k = YAML.parse(readFileSync(path.join(BASE, 'kustomization.yaml'), 'utf8')) as Obj;
  const objs: Obj[] = [];
  for (const r of k.resources as string[]) objs.push(...parseAll(readFileSync(path.join(BASE, r), 'utf8')));
  for (const g of k.configMapGenerator as Obj[]) {
    const data: Record<string, string> = {};
    for (const f of g.files as string[]) data[path.basename(f)] = readFileSync(path.join(BASE, f), 'utf8');
    objs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data });
  }
  return objs;
}

function kubectl(): string | undefined {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return 'kubectl';
  } catch {
    return undefined;
  }
}

const workloads = (objs: Obj[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const strataContainers = (objs: Obj[]) =>
  workloads(objs).flatMap((w) =>
    (w.spec.template.spec.containers as Obj[]).filter((c) => c.name === 'strata').map((c) => ({ w, c })),
  );

/** The Config a Strata container runs with: its args ($(VAR)s filled in) and its mounted config file. */
function containerConfig(objs: Obj[], w: Obj, c: Obj): Config {
  const env = new Map<string, string>();
  for (const e of (c.env ?? []) as Obj[]) env.set(e.name, e.value ?? `value-of-${e.name}`);
  const args = (c.args as string[]).map((a) =>
    a.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (_m, v: string) => {
      if (!env.has(v)) throw new Error(`${w.metadata.name}: argument ${a} uses $(${v}), which the container does not define`);
      return env.get(v)!;
    }),
  );
  const mounts = new Map<string, string>((c.volumeMounts ?? []).map((m: Obj) => [m.mountPath, m.name]));
  const volumes = new Map<string, Obj>((w.spec.template.spec.volumes ?? []).map((v: Obj) => [v.name, v]));
  return loadConfig(args, (file) => {
    const dir = path.posix.dirname(file);
    const vol = volumes.get(mounts.get(dir) ?? '');
    const cmName = vol?.configMap?.name as string | undefined;
    // kustomize renders generated names with a hash suffix.
    const cm = objs.find((o) => o.kind === 'ConfigMap' && (o.metadata.name === cmName || cmName?.startsWith(o.metadata.name + '-')));
    const text = cm?.data?.[path.posix.basename(file)] as string | undefined;
    if (text === undefined) throw new Error(`${w.metadata.name}: ${file} is not in a mounted ConfigMap`);
    return text;
  }).config;
}

function checkObjects(objs: Obj[]): void {
  // 1. Schemas.
  for (const o of objs) {
    const M = MODELS[`${o.apiVersion}/${o.kind}`];
    expect([o.kind, o.metadata?.name, M !== undefined]).toEqual([o.kind, o.metadata?.name, true]);
    expect(() => new M!(o).validate()).not.toThrow();
  }
  const services = objs.filter((o) => o.kind === 'Service');
  const byName = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);

  // 2. Services select pods and target ports those pods declare.
  for (const s of services) {
    const sel = s.spec.selector as Record<string, string>;
    const w = workloads(objs).find((x) => Object.entries(sel).every(([k, v]) => x.spec.template.metadata.labels?.[k] === v));
    expect([s.metadata.name, w?.metadata.name !== undefined]).toEqual([s.metadata.name, true]);
    const portNames = new Set((w.spec.template.spec.containers as Obj[]).flatMap((c) => (c.ports ?? []).map((p: Obj) => p.name)));
    for (const p of s.spec.ports as Obj[]) expect([s.metadata.name, p.targetPort, portNames.has(p.targetPort)]).toEqual([s.metadata.name, p.targetPort, true]);
    // Workload selectors match their own pod labels.
  }
  for (const w of workloads(objs)) {
    const labels = w.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(w.spec.selector.matchLabels as Record<string, string>)) expect(labels[k]).toBe(v);
    // 3. Secrets referenced exist with the keys.
    for (const c of w.spec.template.spec.containers as Obj[]) {
      for (const e of (c.env ?? []) as Obj[]) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref === undefined) continue;
        const sec = byName('Secret', ref.name);
        expect([e.name, ref.key in ({ ...(sec?.stringData ?? {}), ...(sec?.data ?? {}) } as object)]).toEqual([e.name, true]);
      }
    }
  }

  // 4. Strata containers: flags accepted, wired to the services, ports and probes consistent.
  const containers = strataContainers(objs);
  expect(containers.map(({ w }) => w.metadata.name).sort()).toEqual(['distributor', 'ingester', 'querier']);
  const servicePort = (host: string): number => {
    const s = services.find((x) => x.metadata.name === host);
    if (s === undefined) throw new Error(`no Service ${host}`);
    return s.spec.ports[0].port as number;
  };
  for (const { w, c } of containers) {
    const cfg = containerConfig(objs, w, c);
    expect(cfg.target).toBe(w.metadata.name);
    expect(cfg['ingester.ring.store']).toBe('redis');
    const [redisHost, redisPort] = cfg['ingester.ring.redis.endpoint'].split(':');
    expect(Number(redisPort)).toBe(servicePort(redisHost!));
    expect(cfg['blocks-storage.backend']).toBe('s3');
    const [s3Host, s3Port] = cfg['blocks-storage.s3.endpoint'].split(':');
    expect(Number(s3Port)).toBe(servicePort(s3Host!));
    expect(cfg['blocks-storage.s3.bucket-name']).not.toBe('');
    expect(cfg['blocks-storage.s3.secret-access-key']).toBe('value-of-S3_SECRET_ACCESS_KEY');
    const ports = new Map<string, number>((c.ports as Obj[]).map((p) => [p.name, p.containerPort]));
    expect(ports.get('http')).toBe(cfg['server.http-listen-port']);
    expect(ports.get('grpc')).toBe(cfg['server.grpc-listen-port']);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    if (w.metadata.name === 'ingester') {
      // Each pod registers under its own name and IP; its WAL lives on its persistent volume.
      expect(c.args).toContain('-ingester.ring.instance-id=$(POD_NAME)');
      expect(c.args).toContain('-ingester.ring.instance-addr=$(POD_IP)');
      const mount = (c.volumeMounts as Obj[]).find((m) => cfg['blocks-storage.tsdb.dir'].startsWith(m.mountPath + '/'));
      expect(mount?.name).toBeDefined();
      expect((w.spec.volumeClaimTemplates as Obj[]).map((v) => v.metadata.name)).toContain(mount.name);
      expect(w.spec.replicas).toBeGreaterThanOrEqual(cfg['ingester.ring.replication-factor']);
      // The image's user (Dockerfile: uid 10001) can write the volume.
      expect(w.spec.template.spec.securityContext?.fsGroup).toBe(10001);
      // SIGTERM cuts and ships the head: the grace period must allow it.
      expect(w.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(600);
    }
  }
}

describe('deploy/k8s', () => {
  test('the base: valid objects that fit together', () => {
    checkObjects(baseObjects());
  });

  test('the dev overlay, rendered by kubectl kustomize', () => {
    const bin = kubectl();
    if (bin === undefined) {
      console.log('deploy/k8s: kubectl is not installed; the dev overlay is not rendered (the base was checked file by file)');
      return;
    }
    const objs = parseAll(execFileSync(bin, ['kustomize', path.join(ROOT, 'deploy/k8s/overlays/dev')], { encoding: 'utf8' }));
    checkObjects(objs);
    expect(new Set(objs.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace))).toEqual(new Set(['strata-dev']));
    const image = strataContainers(objs).map(({ c }) => c.image as string);
    expect(new Set(image)).toEqual(new Set(['ghcr.io/strata-metrics/strata:dev']));
    expect(objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'distributor').spec.replicas).toBe(1);
  });
});
