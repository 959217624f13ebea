import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory whose sockets check `guard()` at the last moment before every write
 * (docs/failover.md#fencing). When the guard says no, nothing is written: the socket is destroyed,
 * kafkajs sees a closed connection and fails the request. A source instance whose leader lease
 * ran out can therefore not put another byte on the wire through this client, whatever was in
 * flight inside the client when it lost the lease.
 */
export function guardedSocketFactory(guard: () => boolean): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      if (!guard()) {
        socket.destroy(new Error('this source instance is no longer the active one (leader lease lost)'));
        return false;
      }
      return write(...args);
    };
    return socket;
  };
}
