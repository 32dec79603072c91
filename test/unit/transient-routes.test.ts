import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentConfig, HttpRouteConfig } from '../../agent/src/config/schema';
import { withTransientRoutes } from '../../agent/src/runtime/transient-routes';

const route = (domain: string, http: number, firewall: HttpRouteConfig['firewall'] = []): HttpRouteConfig => ({ domain, destination: '127.0.0.1', http, hostRewrite: true, firewall });

function config(http: HttpRouteConfig[]): AgentConfig {
  return { version: 1, relay: { url: 'http://127.0.0.1:8080' }, identity: 'id', hostname: 'a.localhost', http, tcp: [] };
}

describe('transient routes (portway http PORT)', () => {
  it('adds the route next to the saved ones and leaves the saved config untouched', () => {
    const saved = config([route('x.a.localhost', 4000)]);
    const before = JSON.stringify(saved);
    const served = withTransientRoutes(saved, { http: [route('a.localhost', 3000)] });
    assert.deepEqual(served.http.map((r) => [r.domain, r.http]), [['a.localhost', 3000], ['x.a.localhost', 4000]]);
    assert.equal(JSON.stringify(saved), before);
  });

  it("replaces a saved route of the same domain and keeps that route's firewall", () => {
    const rules = [{ action: 'drop' as const, network: '10.0.0.0/8' }];
    const served = withTransientRoutes(config([route('a.localhost', 4000, rules)]), { http: [route('a.localhost', 3000)] });
    assert.equal(served.http.length, 1);
    assert.equal(served.http[0].http, 3000);
    assert.deepEqual(served.http[0].firewall, rules);
  });

  it('returns the config itself when there is nothing transient', () => {
    const saved = config([]);
    assert.equal(withTransientRoutes(saved, {}), saved);
  });
});
