import { BlockList, isIP } from 'node:net';
import { ApiError } from '../errors.js';

/**
 * CIDR lists (`token_bound_cidrs`, and the auth backends' bound CIDRs): where a token or a
 * credential may be used from. Parsed once into node's BlockList, which matches IPv4 and
 * IPv6 natively.
 */

export interface CidrList {
  /** The blocks as given (normalised), for storage and lookups. */
  readonly cidrs: readonly string[];
  allows(address: string): boolean;
}

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** A list of `a.b.c.d/n`, `x::y/n` or bare addresses; throws a 400 naming the bad entry. */
export function parseCidrList(entries: readonly string[], field = 'bound_cidrs'): CidrList {
  const blocks = new BlockList();
  const cidrs: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    const bits = slash === -1 ? (family === 6 ? 128 : 32) : Number(entry.slice(slash + 1));
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > maxBits || (slash !== -1 && !/^\d+$/.test(entry.slice(slash + 1)))) {
      throw new ApiError('ERR_INVALID_FIELD', `${field}: '${entry}' is not a CIDR block or an IP address`);
    }
    blocks.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
    cidrs.push(`${address}/${bits}`);
  }
  return {
    cidrs,
    allows(remote) {
      if (cidrs.length === 0) return true;
      // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
      const v4 = MAPPED_V4.exec(remote)?.[1];
      const address = v4 ?? remote;
      const family = isIP(address);
      if (family === 0) return false;
      return blocks.check(address, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
