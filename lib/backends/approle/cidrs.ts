import { BlockList, isIP } from 'node:net';
import { ApiError } from '../../errors.js';
import { parseCidrList } from '../../core/cidr.js';

/**
 * The CIDR decisions of approle: whether a secret id's cidr_list stays inside its role's
 * secret_id_bound_cidrs, and whether a client address may log in. Lists are the
 * normalised `address/bits` strings parseCidrList gives.
 */

interface Block {
  address: string;
  bits: number;
  family: 'ipv4' | 'ipv6';
}

function blockOf(cidr: string): Block {
  const slash = cidr.indexOf('/');
  const address = cidr.slice(0, slash);
  return { address, bits: Number(cidr.slice(slash + 1)), family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Whether `inner` lies wholly inside `outer`: same family, no wider, and one of its addresses inside. */
function contains(outer: Block, inner: Block): boolean {
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  const list = new BlockList();
  list.addSubnet(outer.address, outer.bits, outer.family);
  return list.check(inner.address, inner.family);
}

/** Throws a 400 when some block of `cidrList` is not inside one of `bound` (an empty `bound` allows anything). */
export function checkCidrSubset(cidrList: readonly string[], bound: readonly string[]): void {
  if (bound.length === 0) return;
  const outers = bound.map(blockOf);
  for (const cidr of cidrList) {
    const inner = blockOf(cidr);
    if (!outers.some((outer) => contains(outer, inner))) {
      throw new ApiError('ERR_INVALID_FIELD', `cidr_list: '${cidr}' is not inside the role's secret_id_bound_cidrs`);
    }
  }
}

/**
 * Whether a client at `address` (IPv4, IPv6 or an IPv4-mapped `::ffff:a.b.c.d`) may log in:
 * it must be inside every non-empty list given (the role's, then the secret id's).
 */
export function addressAllowed(address: string, ...lists: readonly (readonly string[])[]): boolean {
  return lists.every((cidrs) => cidrs.length === 0 || parseCidrList(cidrs).allows(address));
}
