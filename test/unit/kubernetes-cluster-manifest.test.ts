import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseRelayOptions } from '../../relay/src/options';
import { DEPLOY_DIR } from '../helpers/deploy-files';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form YAML, checked field by field */
type Manifest = { kind: string; metadata: { name: string }; [key: string]: any };

const file = path.join(DEPLOY_DIR, 'kubernetes', 'cluster', 'portway-relay-cluster.yaml');
const manifests = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((doc) => doc.toJS() as Manifest);

describe('deploy/kubernetes/cluster manifest', () => {
  it('runs three relays and a Redis, and the relays accept their flags and secret', () => {
    const relay = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'portway-relay')!;
    assert.equal(relay.spec.replicas, 3);
    assert.ok(manifests.some((m) => m.kind === 'Service' && m.metadata.name === 'portway-redis'));
    const secret = manifests.find((m) => m.kind === 'Secret')!.stringData as Record<string, string>;
    const args = (relay.spec.template.spec.containers[0].args as string[]).map((arg) => arg.replace('$(POD_IP)', '10.1.2.3'));
    const options = parseRelayOptions(args, secret);
    assert.equal(options.cluster?.redisUrl, 'redis://portway-redis:6379');
    assert.deepEqual(options.cluster?.advertise, { host: '10.1.2.3', port: 7000 });
  });
});
