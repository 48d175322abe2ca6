import { StrataError } from './errors';
import { basicAuthUser, resolveTenant, tenantIdError } from './tenant';

const cfg = { multitenancyEnabled: true, noAuthTenant: 'anonymous', tenantFromBasicAuth: false };
const status = (f: () => unknown): number => {
  try {
    f();
    return 0;
  } catch (e) {
    return (e as StrataError).status;
  }
};

describe('tenant IDs', () => {
  test.each([
    ['team-a', null],
    ["a!b-c_d.e*f'g(h)i", null],
    ['x'.repeat(150), null],
    ['x'.repeat(151), 'tenant ID is too long: max 150 characters'],
    ['.', "tenant ID is '.' or '..'"],
    ['..', "tenant ID is '.' or '..'"],
    ['a/b', "tenant ID 'a/b' contains unsupported character '/'"],
    ['a b', "tenant ID 'a b' contains unsupported character ' '"],
    ['tëam', "tenant ID 'tëam' contains unsupported character 'ë'"],
    ['__mimir_cluster', "tenant ID '__mimir_cluster' is reserved"],
  ])('%s', (id, want) => {
    expect(tenantIdError(id)).toBe(want);
  });

  test('missing header is 401 no org id', () => {
    expect(() => resolveTenant(cfg, {})).toThrow('no org id');
    expect(status(() => resolveTenant(cfg, {}))).toBe(401);
    expect(status(() => resolveTenant(cfg, { 'x-scope-orgid': '' }))).toBe(401);
  });

  test('invalid tenant is 400', () => {
    expect(status(() => resolveTenant(cfg, { 'x-scope-orgid': '..' }))).toBe(400);
    expect(status(() => resolveTenant(cfg, { 'x-scope-orgid': 'a|b' }))).toBe(400);
  });

  test('valid header', () => {
    expect(resolveTenant(cfg, { 'x-scope-orgid': 'team-a' })).toBe('team-a');
  });

  test('multi-tenancy disabled uses the no-auth tenant', () => {
    expect(resolveTenant({ ...cfg, multitenancyEnabled: false }, {})).toBe('anonymous');
    expect(resolveTenant({ ...cfg, multitenancyEnabled: false, noAuthTenant: 'x' }, { 'x-scope-orgid': 'y' })).toBe('x');
  });

  test('basic-auth user is the tenant only when enabled and no header is sent', () => {
    const auth = 'Basic ' + Buffer.from('team-b:secret').toString('base64');
    expect(basicAuthUser(auth)).toBe('team-b');
    expect(status(() => resolveTenant(cfg, { authorization: auth }))).toBe(401);
    const on = { ...cfg, tenantFromBasicAuth: true };
    expect(resolveTenant(on, { authorization: auth })).toBe('team-b');
    expect(resolveTenant(on, { authorization: auth, 'x-scope-orgid': 'team-a' })).toBe('team-a');
    const bad = 'Basic ' + Buffer.from('a/b:pw').toString('base64');
    expect(status(() => resolveTenant(on, { authorization: bad }))).toBe(400);
  });
});
