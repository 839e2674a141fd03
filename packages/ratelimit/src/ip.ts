/** A parsed client address: the family and the canonical text used for limiting. */
export interface ClientAddress {
  /** 4 or 6 (IPv4-mapped IPv6 addresses count as 4). */
  readonly family: 4 | 6;
  /** Canonical address (IPv4 dotted quad, IPv6 lower-case fully expanded). */
  readonly address: string;
  /** What limits apply to: the IPv4 address, or the IPv6 /64 prefix (`2001:db8:0:1::/64`). */
  readonly group: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  if (
    octets.some(
      (o, i) =>
        o > 255 ||
        ((match[i + 1] as string).length > 1 && (match[i + 1] as string).startsWith("0")),
    )
  ) {
    return undefined;
  }
  return octets;
}

function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const toGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (const [index, piece] of pieces.entries()) {
      if (piece.includes(".")) {
        if (index !== pieces.length - 1) return undefined;
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        groups.push(
          ((v4[0] as number) << 8) | (v4[1] as number),
          ((v4[2] as number) << 8) | (v4[3] as number),
        );
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = toGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Removes brackets, an IPv4 `:port`, a `[v6]:port` and an IPv6 zone (`%eth0`). */
function stripDecorations(raw: string): string {
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) text = bracketed[1] ?? "";
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(":"));
  const zone = text.indexOf("%");
  return zone >= 0 ? text.slice(0, zone) : text;
}

/**
 * Parses a client IP as proxies write it (optionally bracketed, with a port or zone); returns
 * undefined for anything that is not an IP address. IPv6 is grouped by its /64 prefix (one
 * customer usually holds a whole /64); IPv4-mapped IPv6 counts as IPv4.
 * @example parseClientAddress("2001:db8::1").group // "2001:db8:0:0::/64"
 */
export function parseClientAddress(raw: string): ClientAddress | undefined {
  const text = stripDecorations(raw);
  if (text === "") return undefined;
  const v4 = parseIpv4(text);
  if (v4) {
    const address = v4.join(".");
    return { family: 4, address, group: address };
  }
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  const isMapped = v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff;
  if (isMapped) {
    const hi = v6[6] as number;
    const lo = v6[7] as number;
    const address = [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
    return { family: 4, address, group: address };
  }
  const hex = v6.map((g) => g.toString(16));
  return { family: 6, address: hex.join(":"), group: `${hex.slice(0, 4).join(":")}::/64` };
}
