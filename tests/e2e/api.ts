/** Small clients for Strata's HTTP API in end-to-end tests. */
export interface ApiResult {
  status: number;
  body: string;
  json: { status: string; data?: unknown; errorType?: string; error?: string };
}

export async function api(
  base: string,
  path: string,
  params: Record<string, string | string[]>,
  opts: { tenant?: string; method?: 'GET' | 'POST'; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.tenant !== undefined) headers['X-Scope-OrgID'] = opts.tenant;
  let res: Response;
  if (opts.method === 'POST') {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    res = await fetch(`${base}${path}`, { method: 'POST', headers, body: form.toString() });
  } else {
    res = await fetch(`${base}${path}?${form.toString()}`, { headers });
  }
  const body = await res.text();
  let json: ApiResult['json'];
  try {
    json = JSON.parse(body) as ApiResult['json'];
  } catch {
    json = { status: 'unparseable' };
  }
  return { status: res.status, body, json };
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}
