import type { Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { TlsInfo, TokenMemo } from '../core/request.js';

/**
 * What stays the same for every request on a connection, worked out once: the peer's
 * address, its TLS client certificate, and the token memo the core may keep (TokenMemo).
 * Node's getters for the first two call into C++ on every use; a keep-alive client sends
 * thousands of requests on one connection.
 */

export interface ConnectionFacts {
  readonly remoteAddress: string;
  /** Present on TLS connections; the certificate is read once the handshake is done. */
  readonly tls: TlsInfo | undefined;
  readonly tokenMemo: TokenMemo;
}

const FACTS = Symbol('nomad.connection');

type WithFacts = Socket & { [FACTS]?: ConnectionFacts };

export function connectionFacts(socket: Socket): ConnectionFacts {
  const known = (socket as WithFacts)[FACTS];
  if (known !== undefined) return known;
  const facts = factsOf(socket);
  (socket as WithFacts)[FACTS] = facts;
  return facts;
}

function factsOf(socket: Socket): ConnectionFacts {
  let tls: TlsInfo | undefined;
  const secure = socket as TLSSocket;
  if (secure.encrypted === true) {
    const peer = secure.getPeerCertificate(true);
    tls = peer && peer.raw ? { peerCertificate: peer.raw, peerChain: issuersOf(peer), sessionResumed: secure.isSessionReused() } : {};
  }
  return { remoteAddress: socket.remoteAddress ?? '', tls, tokenMemo: { token: '', hash: '', generation: -1 } };
}

/** A chain longer than this is not one a client needs; the rest is ignored. */
const MAX_CHAIN = 8;

/** The issuers node linked above the peer's certificate; a self-signed one refers to itself. */
function issuersOf(peer: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  let current = peer;
  while (chain.length < MAX_CHAIN) {
    const issuer = current.issuerCertificate as DetailedPeerCertificate | undefined;
    if (!issuer || issuer === current || !issuer.raw || issuer.raw.equals(current.raw)) break;
    chain.push(issuer.raw);
    current = issuer;
  }
  return chain;
}
