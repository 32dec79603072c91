#!/usr/bin/env node
// The container's HEALTHCHECK: exit 0 when the relay on this host answers its health URL with 200
// (a draining relay answers 503). Reads the same HOST and PORT as the relay.
const http = require('node:http');
const host = !process.env.HOST || ['0.0.0.0', '::'].includes(process.env.HOST) ? '127.0.0.1' : process.env.HOST;
const req = http.get({ host, port: Number(process.env.PORT || 8080), path: '/healthz', timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  console.error(`portway-relay health: ${err.message}`);
  process.exit(1);
});
