import { readFileSync } from 'node:fs';
import { parseRuntimeConfig, limitsFromConfig } from '../limits';
import { parseDuration, formatDuration } from './duration';
import { configReferenceMarkdown, configToYaml, ConfigError, defaultConfig, loadConfig } from './load';

const files = (m: Record<string, string>) => (p: string) => {
  if (!(p in m)) throw new Error('ENOENT');
  return m[p]!;
};

describe('config', () => {
  test('defaults are Mimir-like and the embedded ones of -target=all', () => {
    const c = defaultConfig();
    expect(c.target).toBe('all');
    expect(c['server.http-listen-port']).toBe(8080);
    expect(c['server.grpc-listen-port']).toBe(9095);
    expect(c['blocks-storage.tsdb.dir']).toBe('./data/tsdb');
    expect(c['blocks-storage.filesystem.dir']).toBe('./data/bucket');
    expect(c['auth.no-auth-tenant']).toBe('anonymous');
    expect(c['distributor.max-recv-msg-size']).toBe(100 * 1024 * 1024);
    expect(c['validation.max-label-names-per-series']).toBe(30);
    expect(c['validation.create-grace-period']).toBe(600_000);
  });

  test('flags override YAML which overrides defaults', () => {
    const read = files({
      'c.yaml': 'server:\n  http_listen_port: 9000\n  grpc_listen_port: 9001\nlimits:\n  max_label_names_per_series: 10\nmultitenancy_enabled: false\n',
    });
    const { config } = loadConfig(['-config.file=c.yaml', '-server.http-listen-port', '9100', '--validation.create-grace-period=1h'], read);
    expect(config['server.http-listen-port']).toBe(9100);
    expect(config['server.grpc-listen-port']).toBe(9001);
    expect(config['validation.max-label-names-per-series']).toBe(10);
    expect(config['auth.multitenancy-enabled']).toBe(false);
    expect(config['validation.create-grace-period']).toBe(3_600_000);
  });

  test('bare boolean flags', () => {
    expect(loadConfig(['-auth.tenant-from-basic-auth']).config['auth.tenant-from-basic-auth']).toBe(true);
    expect(loadConfig(['-auth.multitenancy-enabled=false']).config['auth.multitenancy-enabled']).toBe(false);
  });

  test.each([
    [['-nope=1'], 'unknown flag -nope'],
    [['-server.http-listen-port=abc'], "flag -server.http-listen-port"],
    [['-validation.create-grace-period=10'], 'flag -validation.create-grace-period'],
    [['-target=compactor'], 'must be one of all'],
    [['-auth.multitenancy-enabled=maybe'], 'expected true or false'],
    [['stray'], "unexpected argument 'stray'"],
  ])('invalid flags %j', (argv, msg) => {
    expect(() => loadConfig(argv)).toThrow(ConfigError);
    expect(() => loadConfig(argv)).toThrow(msg);
  });

  test('unknown and invalid YAML keys name the key', () => {
    const read = files({ a: 'server:\n  http_port: 1\n', b: 'limits:\n  max_label_names_per_series: many\n', c: 'server: 3\n' });
    expect(() => loadConfig(['-config.file=a'], read)).toThrow("unknown configuration key 'server.http_port'");
    expect(() => loadConfig(['-config.file=b'], read)).toThrow("configuration key 'limits.max_label_names_per_series'");
    expect(() => loadConfig(['-config.file=c'], read)).toThrow("'server'");
    expect(() => loadConfig(['-config.file=missing'], read)).toThrow('cannot read -config.file missing');
  });

  test('/config YAML masks secrets and has Mimir keys', () => {
    const { config } = loadConfig(['-blocks-storage.s3.secret-access-key=hunter2', '-server.http-listen-port=1234']);
    const y = configToYaml(config);
    expect(y).not.toContain('hunter2');
    expect(y).toContain('secret_access_key: "********"');
    expect(y).toContain('http_listen_port: 1234');
    expect(y).toContain('creation_grace_period: 10m');
    const diff = configToYaml(config, true);
    expect(diff).toContain('http_listen_port: 1234');
    expect(diff).not.toContain('grpc_listen_port');
  });

  test('durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('10')).toBeNull();
    expect(parseDuration('5x')).toBeNull();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
  });

  test('runtime overrides per tenant', () => {
    const d = limitsFromConfig(defaultConfig());
    const m = parseRuntimeConfig('overrides:\n  team-a:\n    max_label_names_per_series: 5\n    ingestion_rate: 1.5\n', d);
    expect(m.get('team-a')!.maxLabelNamesPerSeries).toBe(5);
    expect(m.get('team-a')!.ingestionRate).toBe(1.5);
    expect(m.get('team-a')!.maxLabelValueLength).toBe(2048);
    expect(() => parseRuntimeConfig('overrides:\n  t:\n    bogus: 1\n', d)).toThrow("'overrides.t.bogus'");
  });
});

test('docs/configuration.md is generated from the definitions', () => {
  const doc = readFileSync(`${__dirname}/../../../../docs/configuration.md`, 'utf8');
  expect(doc).toBe(configReferenceMarkdown());
});
