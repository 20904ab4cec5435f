/**
 * What an image URL may reach. The server fetches URLs a client names, from inside the host's
 * network, so without a check an import reads loopback services, cloud metadata (link-local) and
 * private networks. Every host is resolved here, every address it resolves to must be public
 * (or inside a network the operator allowed with --allow-image-url-network), and the connection
 * is pinned to the checked address so a second DNS answer cannot swap it (rebinding).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Agent } from "undici";

/** Addresses no import reaches unless allowed (RFC 6890 special-purpose ranges and the like). */
const NON_PUBLIC: [string, number, "ipv4" | "ipv6"][] = [
  ["0.0.0.0", 8, "ipv4"], ["10.0.0.0", 8, "ipv4"], ["100.64.0.0", 10, "ipv4"], ["127.0.0.0", 8, "ipv4"],
  ["169.254.0.0", 16, "ipv4"], ["172.16.0.0", 12, "ipv4"], ["192.0.0.0", 24, "ipv4"], ["192.0.2.0", 24, "ipv4"],
  ["192.88.99.0", 24, "ipv4"], ["192.168.0.0", 16, "ipv4"], ["198.18.0.0", 15, "ipv4"], ["198.51.100.0", 24, "ipv4"],
  ["203.0.113.0", 24, "ipv4"], ["224.0.0.0", 3, "ipv4"],
  ["::", 96, "ipv6"], ["::ffff:0:0", 96, "ipv6"], ["64:ff9b::", 96, "ipv6"], ["100::", 64, "ipv6"], ["2001:db8::", 32, "ipv6"],
  ["2002::", 16, "ipv6"], ["fc00::", 7, "ipv6"], ["fe80::", 10, "ipv6"], ["fec0::", 10, "ipv6"], ["ff00::", 8, "ipv6"],
];

const nonPublic = new BlockList();
for (const [network, prefix, family] of NON_PUBLIC) nonPublic.addSubnet(network, prefix, family);

/** "10.0.0.0/8", "fd00::/8", "192.168.1.7" → a network; throws naming the text otherwise. */
export function parseNetwork(text: string): { network: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [network = "", prefixText] = text.split("/");
  const version = isIP(network);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new Error(`not a network: ${JSON.stringify(text)} (use e.g. 10.0.0.0/8, fd00::/8 or one address)`);
  }
  return { network, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

export class RefusedUrlError extends Error {}

export interface PinnedConnection {
  /** The checked address every connection of this fetch goes to. */
  address: string;
  dispatcher: Agent;
}

export class UrlGuard {
  private readonly allowed = new BlockList();

  /** `allowedNetworks`: CIDR networks (the --allow-image-url-network flag) that may be reached although not public. */
  constructor(allowedNetworks: readonly string[] = []) {
    for (const text of allowedNetworks) {
      const { network, prefix, family } = parseNetwork(text);
      this.allowed.addSubnet(network, prefix, family);
    }
  }

  private admits(address: string): boolean {
    const family = isIP(address) === 4 ? "ipv4" : "ipv6";
    return this.allowed.check(address, family) || !nonPublic.check(address, family);
  }

  /**
   * Resolves the URL's host and returns a dispatcher pinned to the address it checked. Refuses
   * schemes other than http(s), user info, and hosts any of whose addresses may not be reached.
   */
  async pin(url: URL): Promise<PinnedConnection> {
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new RefusedUrlError(`scheme ${url.protocol} is not fetched`);
    if (url.username !== "" || url.password !== "") throw new RefusedUrlError("URLs with credentials are not fetched");
    // The WHATWG parser has already turned decimal, octal and hex IPv4 spellings into dotted quads.
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const addresses = isIP(host) === 0
      ? (await lookup(host, { all: true, verbatim: true }).catch(() => [])).map((entry) => entry.address)
      : [host];
    const address = addresses[0];
    if (address === undefined) throw new RefusedUrlError(`${host} does not resolve`);
    // Every answer must pass: a host that also resolves to a private address is refused outright.
    const refused = addresses.find((candidate) => !this.admits(candidate));
    if (refused !== undefined) throw new RefusedUrlError(`${host} resolves to ${refused}, which imports may not reach`);
    const family = isIP(address);
    const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all === true) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
    return { address, dispatcher: new Agent({ connect: { lookup: pinnedLookup } }) };
  }
}
