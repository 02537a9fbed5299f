import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';

/** What a fresh TLS connection to `url` is shown: the server's certificate, verified against `ca`. */
export function peerCertificate(url: string, ca: string | Buffer): Promise<PeerCertificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: hostname, port: Number(port), ca, servername: hostname === '127.0.0.1' ? undefined : hostname }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}
