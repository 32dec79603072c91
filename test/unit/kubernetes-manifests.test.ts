import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseRelayOptions } from '../../relay/src/options';
import { DEPLOY_DIR, RELAY_ENV_NAMES, unknownRelayFlags } from '../helpers/deploy-files';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form YAML, checked field by field */
type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; [key: string]: any };

const dir = path.join(DEPLOY_DIR, 'kubernetes');
const manifests: Manifest[] = fs
  .readdirSync(dir)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS() as Manifest;
    }),
  );
const only = (kind: string): Manifest => {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};

describe('deploy/kubernetes manifests', () => {
  it('hold a Deployment, Service, Ingress, Secret, ConfigMap and PersistentVolumeClaim, all parsing', () => {
    assert.deepEqual(manifests.map((m) => m.kind).sort(), ['ConfigMap', 'Deployment', 'Ingress', 'PersistentVolumeClaim', 'Secret', 'Service']);
  });

  it('pass the relay only flags and environment variables it knows, with values it accepts', () => {
    const container = only('Deployment').spec.template.spec.containers[0];
    assert.deepEqual(unknownRelayFlags(container.args), []);
    const config = only('ConfigMap').data as Record<string, string>;
    const secret = only('Secret').stringData as Record<string, string>;
    const env = { ...config, ...secret, ...Object.fromEntries((container.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value])) };
    assert.deepEqual(Object.keys(env).filter((name) => !RELAY_ENV_NAMES.has(name)), []);
    const options = parseRelayOptions(container.args, { ...env, AUTH_KEY: 'k'.repeat(32) });
    assert.equal(options.dataDir, container.volumeMounts[0].mountPath);
    assert.equal(options.admin.port, container.ports.find((p: { name: string }) => p.name === 'admin').containerPort);
    assert.ok(only('Deployment').spec.template.spec.terminationGracePeriodSeconds * 1000 > options.admin.drainTimeoutMs, 'the grace period outlasts the drain');
    assert.deepEqual(
      container.envFrom.map((from: any) => from.configMapRef?.name ?? from.secretRef?.name),
      [only('ConfigMap').metadata.name, only('Secret').metadata.name],
    );
  });

  it('probe health, limit resources, run unprivileged, keep data on the claim', () => {
    const pod = only('Deployment').spec.template.spec;
    const container = pod.containers[0];
    for (const probe of [container.readinessProbe, container.livenessProbe]) assert.equal(probe.httpGet.path, '/healthz');
    assert.ok(container.resources.requests && container.resources.limits);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(pod.volumes[0].persistentVolumeClaim.claimName, only('PersistentVolumeClaim').metadata.name);
    assert.equal(only('Deployment').spec.replicas, 1, 'one relay per data directory');
  });

  it('route the apex and the wildcard through a WebSocket- and SSE-friendly ingress to the service', () => {
    const ingress = only('Ingress');
    const hosts = ingress.spec.rules.map((r: { host: string }) => r.host);
    assert.ok(hosts.some((h: string) => h.startsWith('*.')), 'a wildcard host');
    assert.equal(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
    assert.ok(Number(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600);
    const service = only('Service');
    const portNames = only('Deployment').spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name);
    for (const rule of ingress.spec.rules) assert.equal(rule.http.paths[0].backend.service.name, service.metadata.name);
    for (const port of service.spec.ports) assert.ok(portNames.includes(port.targetPort), `service port ${port.name} targets a container port`);
  });
});
