import { heartbeatHealthy, type InstanceDesc, type InstanceState, type RingDesc } from './model';
import { tokenOwnership } from './ownership';
import { Ring } from './ring';

export interface RingStatusOptions {
  /** Instances whose heartbeat is older show as UNHEALTHY. Default: the ring's, else 1 m. */
  heartbeatTimeout?: number;
  /** Ownership within each zone instead of the whole ring. Default: the ring's zone awareness, else false. */
  perZoneOwnership?: boolean;
  /** List every instance's tokens under the table (the page's `?tokens=true`). */
  showTokens?: boolean;
}

export interface RingStatusEntry {
  id: string;
  zone: string;
  /** The stored state, or UNHEALTHY when the heartbeat is too old (as dskit's ring page). */
  state: InstanceState | 'UNHEALTHY';
  address: string;
  registeredAt: number;
  heartbeat: number;
  /** now - heartbeat, ms. */
  heartbeatAgeMs: number;
  numTokens: number;
  /** Percent of the token space owned. */
  ownership: number;
  tokens: readonly number[];
}

export interface RingStatus {
  now: number;
  instances: RingStatusEntry[];
}

/** The JSON of `/ingester/ring` (`Accept: application/json` or `?format=json`): dskit's shape plus num_tokens and ownership. */
export interface RingStatusJSON {
  shards: {
    id: string;
    state: string;
    address: string;
    /** Last heartbeat, RFC 3339. */
    timestamp: string;
    registered_timestamp: string;
    zone: string;
    tokens: readonly number[];
    num_tokens: number;
    /** Percent of the token space owned. */
    ownership: number;
  }[];
  now: string;
}

/** The data of the ring page: one row per instance, sorted by ID. */
export function ringStatus(source: Ring | RingDesc, now: number, opts: RingStatusOptions = {}): RingStatus {
  const isRing = source instanceof Ring;
  const desc = isRing ? source.desc() : source;
  const timeout = opts.heartbeatTimeout ?? (isRing ? source.heartbeatTimeout : 60_000);
  const perZone = opts.perZoneOwnership ?? (isRing ? source.zoneAwarenessEnabled : false);
  const owned = tokenOwnership(desc, { perZone });
  const instances = Object.keys(desc.instances)
    .sort()
    .map((id): RingStatusEntry => {
      const inst: InstanceDesc = desc.instances[id]!;
      return {
        id,
        zone: inst.zone,
        state: heartbeatHealthy(inst, timeout, now) ? inst.state : 'UNHEALTHY',
        address: inst.addr,
        registeredAt: inst.registeredAt,
        heartbeat: inst.heartbeat,
        heartbeatAgeMs: now - inst.heartbeat,
        numTokens: inst.tokens.length,
        ownership: (owned[id] ?? 0) * 100,
        tokens: inst.tokens,
      };
    });
  return { now, instances };
}

function iso(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '';
}

export function ringJSON(source: Ring | RingDesc, now: number, opts: RingStatusOptions = {}): RingStatusJSON {
  const st = ringStatus(source, now, opts);
  return {
    shards: st.instances.map((e) => ({
      id: e.id,
      state: e.state,
      address: e.address,
      timestamp: iso(e.heartbeat),
      registered_timestamp: iso(e.registeredAt),
      zone: e.zone,
      tokens: e.tokens,
      num_tokens: e.numTokens,
      ownership: e.ownership,
    })),
    now: new Date(now).toISOString(),
  };
}

/** A duration as Go prints a time.Duration truncated to ms: `850ms`, `12.5s`, `3m4.25s`, `1h0m2s`. */
export function formatAge(ms: number): string {
  ms = Math.trunc(ms);
  if (ms < 0) return '-' + formatAge(-ms);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${String(Number(s.toFixed(3)))}s`;
}

/** Like Go's %.4g. */
function humanFloat(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The HTML ring page (`/ingester/ring`), with the columns of Mimir's: Instance ID, Availability
 * Zone, State, Address, Registered At, Last Heartbeat, Tokens, Ownership and a Forget button that
 * POSTs `forget=<id>` to the same URL (see forgetInstance).
 */
export function renderRingHTML(source: Ring | RingDesc, now: number, opts: RingStatusOptions = {}): string {
  const st = ringStatus(source, now, opts);
  const rows = st.instances
    .map(
      (e, i) => `      <tr${i % 2 === 1 ? ' bgcolor="#BEBEBE"' : ''}>
        <td>${esc(e.id)}</td>
        <td>${esc(e.zone)}</td>
        <td>${e.state}</td>
        <td>${esc(e.address)}</td>
        <td>${iso(e.registeredAt)}</td>
        <td>${formatAge(e.heartbeatAgeMs)} ago (${new Date(e.heartbeat).toISOString().slice(11, 23)})</td>
        <td>${e.numTokens}</td>
        <td>${humanFloat(e.ownership)}%</td>
        <td><button name="forget" value="${esc(e.id)}" type="submit">Forget</button></td>
      </tr>`,
    )
    .join('\n');
  const tokens = opts.showTokens
    ? st.instances.map((e) => `  <h2>Instance: ${esc(e.id)}</h2>\n  <p>Tokens:<br/>\n${e.tokens.join(' ')}\n  </p>`).join('\n')
    : '';
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="UTF-8">
  <title>Ring Status</title>
</head>
<body>
<h1>Ring Status</h1>
<p>Current time: ${new Date(now).toISOString()}</p>
<form action="" method="POST">
  <table width="100%" border="1">
    <thead>
      <tr>
        <th>Instance ID</th>
        <th>Availability Zone</th>
        <th>State</th>
        <th>Address</th>
        <th>Registered At</th>
        <th>Last Heartbeat</th>
        <th>Tokens</th>
        <th>Ownership</th>
        <th>Actions</th>
      </tr>
    </thead>
    <tbody>
${rows}
    </tbody>
  </table>
  <br>
  <input type="button" value="${opts.showTokens ? 'Hide Tokens' : 'Show Tokens'}" onclick="window.location.href = '?tokens=${opts.showTokens ? 'false' : 'true'}'"/>
${tokens}
</form>
</body>
</html>
`;
}
