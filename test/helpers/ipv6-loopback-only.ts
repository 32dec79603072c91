import * as net from 'node:net';

/**
 * Listens on [::1] at a port that nothing holds on 127.0.0.1 either. A port from listen(0, '::1')
 * may already be taken on 127.0.0.1 by another process (the two loopbacks are separate port spaces),
 * and then "whichever loopback listens" rightly finds 127.0.0.1: a test about a ::1-only server
 * would depend on what else runs on the machine. Holding 127.0.0.1:PORT while binding ::1:PORT
 * rules that out; only a listen(0) elsewhere in the instant after the hold is released could race.
 */
export async function listenOnIpv6LoopbackOnly(server: net.Server): Promise<number> {
  for (;;) {
    const hold = net.createServer();
    await new Promise<void>((resolve, reject) => hold.once('error', reject).listen(0, '127.0.0.1', resolve));
    const port = (hold.address() as net.AddressInfo).port;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError).listen(port, '::1', () => {
          server.off('error', onError);
          resolve();
        });
      });
      return port;
    } catch (err) {
      // ::1:PORT is someone else's: pick another port (port selection, not a retry of the test).
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    } finally {
      await new Promise<void>((resolve) => hold.close(() => resolve()));
    }
  }
}
