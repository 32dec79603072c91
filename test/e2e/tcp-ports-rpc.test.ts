import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentCoreError } from '../../agent/src/rpc/agent-core';
import { ConfigBackedCore } from '../../agent/src/rpc/config-backed-core';
import { RpcErrorCode } from '../../protocol/rpc';
import { configureAgent, startRelay, type RelayProcess } from '../helpers/processes';
import { freePortRange, startEchoService, tcpExchange, type EchoService } from '../helpers/tcp';

const isCode = (code: RpcErrorCode) => (err: unknown) => err instanceof AgentCoreError && err.code === code;

/** The extension's path: the JSON-RPC core allocates, forwards and releases through a real relay. */
describe('TCP ports through the extension core (ConfigBackedCore, real relay)', () => {
  let range: { first: number; last: number; flag: string };
  let relay: RelayProcess;
  let echo: EchoService;
  let core: ConfigBackedCore;

  before(async () => {
    range = await freePortRange(5);
    echo = await startEchoService();
    relay = await startRelay({ extraArgs: ['--tcp-ports', range.flag] });
    const { configPath } = await configureAgent(relay);
    core = new ConfigBackedCore(configPath);
    assert.equal((await core.start({})).state, 'online');
  });
  after(async () => {
    await core?.dispose();
    await relay?.stop();
    await echo?.close();
  });

  /** The routes reach the relay over the tunnel just after the edit; a connection may beat them once. */
  async function echoed(port: number, text: string): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const { received } = await tcpExchange(port, text);
      if (received.length > 0) return received.toString();
    }
    return '';
  }

  it('allocate with a destination forwards at once; forward replaces it; release frees it', async () => {
    const listening = relay.lines.length;
    const route = await core.allocateTcpPort({ destinationPort: echo.port });
    assert.ok(route.port >= range.first && route.port <= range.last);
    assert.equal(route.destination, '127.0.0.1');
    assert.equal(route.destinationPort, echo.port);
    assert.match(route.address, new RegExp(`:${route.port}$`));
    await relay.waitFor(new RegExp(`tcp port ${route.port}: listening`), 10_000, listening);
    assert.equal(await echoed(route.port, 'via the extension'), 'via the extension');
    assert.deepEqual((await core.listRoutes()).tcp.map((r) => r.port), [route.port]);

    const moved = await core.forwardTcpPort({ port: route.port, destination: 'localhost', destinationPort: echo.port });
    assert.equal(moved.destination, 'localhost');

    const closed = relay.lines.length;
    await core.releaseTcpPort(route.port);
    await relay.waitFor(new RegExp(`tcp port ${route.port}: closed`), 10_000, closed);
    assert.equal((await tcpExchange(route.port, 'gone')).errorCode, 'ECONNREFUSED');
    assert.deepEqual((await core.listRoutes()).tcp, []);
  });

  it('errors carry codes the extension can act on', async () => {
    await assert.rejects(core.forwardTcpPort({ port: range.last, destinationPort: echo.port }), isCode(RpcErrorCode.NotFound));
    await assert.rejects(core.releaseTcpPort(range.last), isCode(RpcErrorCode.NotFound));
    await assert.rejects(core.allocateTcpPort({ destination: 'no such host!', destinationPort: 1 }), isCode(RpcErrorCode.InvalidArgument));
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await core.allocateTcpPort({}));
    await assert.rejects(core.allocateTcpPort({}), isCode(RpcErrorCode.LimitReached));
    for (const route of held) await core.releaseTcpPort(route.port);
  });
});
