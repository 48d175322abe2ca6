import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { CONFIG_DEFS, type Config, type Def } from './definitions';
import { formatDuration, parseDuration } from './duration';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const BY_FLAG = new Map<string, Def>(CONFIG_DEFS.map((d) => [d.flag, d]));
const BY_YAML = new Map<string, Def>(CONFIG_DEFS.map((d) => [d.yaml, d]));

export function defaultConfig(): Config {
  const c: Record<string, unknown> = {};
  for (const d of CONFIG_DEFS) c[d.flag] = d.def;
  return c as Config;
}

function parseValue(d: Def, raw: unknown, where: string): unknown {
  const bad = (why: string) => new ConfigError(`invalid value ${JSON.stringify(raw)} for ${where}: ${why}`);
  let v: unknown;
  switch (d.kind) {
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') throw bad('expected a string');
      v = String(raw);
      break;
    case 'int': {
      const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(String(raw)) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw bad('expected an integer');
      v = n;
      break;
    }
    case 'bytes':
    case 'float': {
      const n = typeof raw === 'number' ? raw : String(raw).trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) throw bad('expected a number');
      v = n;
      break;
    }
    case 'bool':
      if (raw === true || raw === 'true') v = true;
      else if (raw === false || raw === 'false') v = false;
      else throw bad('expected true or false');
      break;
    case 'duration': {
      const ms = typeof raw === 'string' ? parseDuration(raw) : null;
      if (ms === null) throw bad('expected a duration such as 30s, 5m or 1h30m');
      v = ms;
      break;
    }
  }
  if (d.values !== undefined && !d.values.includes(v as string)) {
    throw bad(`must be one of ${d.values.join(', ')}`);
  }
  return v;
}

function applyYaml(cfg: Record<string, unknown>, obj: unknown, prefix: string): void {
  if (obj === null || obj === undefined) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    throw new ConfigError(`invalid YAML: expected a mapping at ${prefix === '' ? 'the top level' : `'${prefix}'`}`);
  }
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    const d = BY_YAML.get(path);
    if (d !== undefined) {
      cfg[d.flag] = parseValue(d, v, `configuration key '${path}'`);
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && [...BY_YAML.keys()].some((y) => y.startsWith(path + '.'))) {
      applyYaml(cfg, v, path);
    } else {
      throw new ConfigError(`unknown configuration key '${path}'`);
    }
  }
}

export interface LoadedConfig {
  config: Config;
  configFile: string | undefined;
  /** Flags set on the command line or in YAML, for `/config?mode=diff`. */
  help: boolean;
}

/**
 * Builds the effective config: defaults ← YAML file (`-config.file`) ← command-line flags.
 * Accepts `-flag=value`, `--flag=value`, `-flag value` and bare `-bool-flag`.
 */
export function loadConfig(argv: readonly string[], readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): LoadedConfig {
  const flags: [string, string | undefined][] = [];
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') throw new ConfigError(`unexpected argument '${arg}'`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let value = eq < 0 ? undefined : body.slice(eq + 1);
    if (name === 'help' || name === 'h') {
      help = true;
      continue;
    }
    if (name === 'config.file') {
      if (value === undefined) value = argv[++i];
      if (value === undefined) throw new ConfigError('flag -config.file needs a value');
      configFile = value;
      continue;
    }
    const d = BY_FLAG.get(name);
    if (d === undefined) throw new ConfigError(`unknown flag -${name}`);
    if (value === undefined && d.kind !== 'bool') {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`flag -${name} needs a value`);
    }
    flags.push([name, value]);
  }
  const cfg = defaultConfig() as unknown as Record<string, unknown>;
  if (configFile !== undefined) {
    let text: string;
    try {
      text = readFile(configFile);
    } catch (e) {
      throw new ConfigError(`cannot read -config.file ${configFile}: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = YAML.parse(text);
    } catch (e) {
      throw new ConfigError(`invalid YAML in ${configFile}: ${(e as Error).message}`);
    }
    applyYaml(cfg, doc, '');
  }
  for (const [name, value] of flags) {
    const d = BY_FLAG.get(name)!;
    cfg[name] = parseValue(d, value ?? true, `flag -${name}`);
  }
  return { config: cfg as unknown as Config, configFile, help };
}

/** The effective config as nested YAML, secrets masked; `diffOnly` keeps non-default values. */
export function configToYaml(cfg: Config, diffOnly = false): string {
  const root: Record<string, unknown> = {};
  for (const d of CONFIG_DEFS) {
    let v = (cfg as Record<string, unknown>)[d.flag];
    if (diffOnly && v === d.def) continue;
    if (d.secret && v !== '') v = '********';
    if (d.kind === 'duration') v = formatDuration(v as number);
    const parts = d.yaml.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = v;
  }
  return YAML.stringify(root);
}

export function flagsHelp(): string {
  return CONFIG_DEFS.map((d) => {
    const def = d.kind === 'duration' ? formatDuration(d.def as number) : JSON.stringify(d.def);
    return `  -${d.flag} ${d.kind}\n    \t${d.help} (default ${def})`;
  }).join('\n');
}

export { parseValue as parseConfigValue };

/** The configuration reference (docs/configuration.md), generated from the definitions table. */
export function configReferenceMarkdown(): string {
  const rows = CONFIG_DEFS.map((d) => {
    const def = d.kind === 'duration' ? formatDuration(d.def as number) : d.def === '' ? '""' : String(d.def);
    const flags = [d.limit ? 'per-tenant' : '', d.secret ? 'secret' : ''].filter((x) => x !== '').join(', ');
    return `| \`-${d.flag}\` | \`${d.yaml}\` | ${d.kind} | \`${def}\` | ${d.help}${flags ? ` (${flags})` : ''} |`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from `packages/common/src/config/definitions.ts` (a test keeps this file in step).',
    'Precedence: defaults ← YAML file given with `-config.file` ← command-line flags. Unknown flags or',
    'keys and invalid values stop Strata with exit code 1 and a message naming the key. `GET /config`',
    'shows the effective configuration (`?mode=diff` only what differs from the defaults,',
    '`?mode=defaults` the defaults), secrets masked.',
    '',
    'Per-tenant limits (marked per-tenant) are set globally by flag or under `limits:` in YAML, and per',
    'tenant in the runtime configuration file (`-runtime-config.file`, reloaded every',
    '`-runtime-config.reload-period`):',
    '',
    '```yaml',
    'overrides:',
    '  team-a:',
    '    ingestion_rate: 50000',
    '    max_global_series_per_user: 1000000',
    '```',
    '',
    '| flag | YAML key | type | default | description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
