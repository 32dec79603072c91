import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentRequest, HttpHandler } from './http-exchange';
import { adaptNodeExchange } from './node-http-adapter';
import { adaptNodeUpgrade } from './node-upgrade-exchange';

/** Where the HTTP bytes on a connection came from: the route and the public client. */
export interface FrontArrival {
  host: string;
  proto: 'http' | 'https';
  remoteAddress: string;
  remotePort: number;
}

/**
 * One local, never listening Node HTTP server that parses the HTTP inside byte streams handed to
 * it (TLS decrypted at the agent) and serves each request with the route's current handler.
 */
export class NodeHttpFront {
  private readonly server = http.createServer();
  private readonly arrivals = new WeakMap<object, FrontArrival>();

  /**
   * @param handlerFor the current HTTP handler of a route, looked up per request (routes change live).
   * @param prepare adjusts each request before it is handled (e.g. X-Forwarded-* facts).
   */
  constructor(handlerFor: (domain: string) => HttpHandler, prepare: (req: AgentRequest) => AgentRequest = (req) => req) {
    this.server.on('request', (req, res) => {
      const arrival = this.arrivals.get(req.socket);
      if (!arrival) return void res.destroy();
      const { request, response } = adaptNodeExchange(req, res, arrival);
      handlerFor(arrival.host)(prepare(request), response);
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const arrival = this.arrivals.get(req.socket);
      if (!arrival) return void socket.destroy();
      const { request, response } = adaptNodeUpgrade(req, socket, head, arrival);
      handlerFor(arrival.host)(prepare(request), response);
    });
    this.server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  }

  serve(socket: Duplex, arrival: FrontArrival): void {
    this.arrivals.set(socket, arrival);
    this.server.emit('connection', socket);
    // A stream whose head was just read is left paused; the server's 'data' listener does not resume it.
    socket.resume();
  }
}
