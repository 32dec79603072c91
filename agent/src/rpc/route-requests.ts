import * as fs from 'node:fs';
import * as path from 'node:path';
import { RpcErrorCode, type RouteAddRequest } from '../../../protocol/rpc';
import { normalizeDestination } from '../config/destination';
import { assertDomainAllowed, normalizeDomain } from '../config/domain-rules';
import type { AgentConfig, HttpRouteConfig } from '../config/schema';
import { isListening } from '../serve/port-probe';
import { AgentCoreError } from './agent-core';
import { coded } from './coded-errors';
import { formatHostPort } from '../../../common/net/host-port';

const DEFAULT_DESTINATION = '127.0.0.1';

/** `route/add`'s domain: none is the assigned hostname, a bare label a subdomain of it. */
function resolveDomain(config: AgentConfig, domain: string | undefined): string {
  const hostname = config.hostname;
  if (!hostname) throw new AgentCoreError(RpcErrorCode.NotConfigured, 'the relay has not assigned a hostname yet; configure the relay again');
  const full = domain === undefined ? hostname : domain.includes('.') ? normalizeDomain(domain) : normalizeDomain(`${domain}.${hostname}`);
  assertDomainAllowed(config, full);
  return full;
}

/** The route a `route/add` request asks for, checked (directory exists, something listens) before any edit. */
export async function httpRouteOfRequest(config: AgentConfig, params: RouteAddRequest.Params): Promise<HttpRouteConfig> {
  let domain: string;
  let destination = DEFAULT_DESTINATION;
  try {
    domain = resolveDomain(config, params.domain);
    if (params.destination !== undefined) destination = normalizeDestination(params.destination);
  } catch (err) {
    throw coded(err);
  }
  let webroot: string | undefined;
  if (params.webroot !== undefined) {
    webroot = path.resolve(params.webroot);
    if (!fs.statSync(webroot, { throwIfNoEntry: false })?.isDirectory()) {
      throw new AgentCoreError(RpcErrorCode.InvalidArgument, `${params.webroot} is not a directory`);
    }
  } else if (params.requireListening !== false && params.httpPort !== undefined && !(await isListening(destination, params.httpPort))) {
    throw new AgentCoreError(RpcErrorCode.PortNotListening, `nothing is listening on ${formatHostPort(destination, params.httpPort)}; start your server first`);
  }
  return {
    domain,
    destination: webroot ? undefined : destination,
    http: webroot ? undefined : params.httpPort,
    webroot,
    hostRewrite: params.hostRewrite !== false,
    firewall: [],
  };
}
