import { describe, expect, it } from "vitest";
import {
  clientIpFrom,
  getRateLimitIdentifier,
  hashIdentifier,
  parseClientAddress,
} from "../src/index.ts";

describe("client addresses", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7:51234 ", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2::99", "2001:db8:1:2::/64"],
    ["[2001:db8:1:2::1]:443", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
  ])("parses %j into the group %j", (raw, group) => {
    expect(parseClientAddress(raw)?.group).toBe(group);
  });

  it.each([
    "",
    "unknown",
    "256.1.1.1",
    "1.2.3",
    "01.2.3.4",
    "1:2:3:4:5:6:7:8:9",
    "2001:db8:::1",
    "2001:db8::1::2",
    "<script>",
    "1.2.3.4, 5.6.7.8",
  ])("rejects %j", (raw) => {
    expect(parseClientAddress(raw)).toBeUndefined();
  });

  it("groups every address of one IPv6 /64 together and keeps other /64s apart", async () => {
    const a = await getRateLimitIdentifier({ ip: "2001:db8:aa:bb:1::1" });
    const b = await getRateLimitIdentifier({ ip: "2001:db8:aa:bb:ffff:ffff:ffff:ffff" });
    const c = await getRateLimitIdentifier({ ip: "2001:db8:aa:bc::1" });
    expect(a.identifier).toBe(b.identifier);
    expect(a.identifier).not.toBe(c.identifier);
    expect(a.ip).toBe("2001:db8:aa:bb::/64");
  });
});

describe("secure by default: no client-supplied forwarding header is trusted", () => {
  it("gives a client that sends a new x-forwarded-for or x-real-ip per request one identity", async () => {
    const identities = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        getRateLimitIdentifier({
          headers: { "x-forwarded-for": `203.0.113.${i}`, "x-real-ip": `198.51.100.${i}` },
          ip: "192.0.2.44",
        }),
      ),
    );
    expect(new Set(identities.map((i) => i.identifier)).size).toBe(1);
    expect(identities[0]?.ip).toBe("192.0.2.44");
    // With no peer address either, the headers still name nobody.
    expect(await getRateLimitIdentifier({ headers: { "x-forwarded-for": "203.0.113.9" } })).toEqual(
      { identifier: "anonymous", kind: "anonymous" },
    );
  });

  it("trusts x-real-ip only when asked to (a proxy that sets it), x-forwarded-for only with a proxy count", () => {
    const headers = { "x-forwarded-for": "6.6.6.6, 203.0.113.5", "x-real-ip": "7.7.7.7" };
    expect(clientIpFrom({ headers, ip: "192.0.2.1" })).toBe("192.0.2.1");
    expect(clientIpFrom({ headers, ip: "192.0.2.1", trustRealIp: true })).toBe("7.7.7.7");
    expect(clientIpFrom({ headers, ip: "192.0.2.1", trustedProxyCount: 1 })).toBe("203.0.113.5");
    // The trusted x-forwarded-for hop comes first; x-real-ip when the chain names no valid address.
    expect(
      clientIpFrom({ headers, ip: "192.0.2.1", trustedProxyCount: 1, trustRealIp: true }),
    ).toBe("203.0.113.5");
    expect(
      clientIpFrom({
        headers: { "x-forwarded-for": "junk", "x-real-ip": "7.7.7.7" },
        trustedProxyCount: 1,
      }),
    ).toBeUndefined();
  });
});

describe("x-forwarded-for with trusted proxies", () => {
  it("takes the entry written by the last trusted proxy, never a spoofed leftmost one", () => {
    // The client sent "1.1.1.1, 2.2.2.2"; our one proxy appended the real peer 198.51.100.9.
    const headers = new Headers({ "x-forwarded-for": "1.1.1.1, 2.2.2.2, 198.51.100.9" });
    expect(clientIpFrom({ headers, trustedProxyCount: 1 })).toBe("198.51.100.9");
    // Two trusted proxies: CDN appended the client, the load balancer appended the CDN.
    const twoHops = new Headers({ "x-forwarded-for": "6.6.6.6, 198.51.100.9, 10.0.0.2" });
    expect(clientIpFrom({ headers: twoHops, trustedProxyCount: 2 })).toBe("198.51.100.9");
  });

  it("gives every spoofed chain from one client the same identifier", async () => {
    const spoofs = ["", "9.9.9.9, ", "1.2.3.4, 5.6.7.8, ", "garbage, ::1, "];
    const identities = await Promise.all(
      spoofs.map((spoof) =>
        getRateLimitIdentifier({
          headers: { "x-forwarded-for": `${spoof}198.51.100.9` },
          trustedProxyCount: 1,
        }),
      ),
    );
    expect(new Set(identities.map((i) => i.identifier)).size).toBe(1);
    expect(identities[0]?.ip).toBe("198.51.100.9");
  });

  it("uses the leftmost entry when there are fewer entries than trusted proxies", () => {
    expect(
      clientIpFrom({ headers: { "x-forwarded-for": "198.51.100.9" }, trustedProxyCount: 3 }),
    ).toBe("198.51.100.9");
  });

  it("ignores the headers when no proxy is trusted, and falls back to x-real-ip (opt-in), then the peer", () => {
    const headers = { "x-forwarded-for": "6.6.6.6", "x-real-ip": "7.7.7.7" };
    expect(clientIpFrom({ headers, trustedProxyCount: 0, ip: "192.0.2.1" })).toBe("192.0.2.1");
    expect(
      clientIpFrom({ headers: { "X-Real-IP": "7.7.7.7" }, ip: "192.0.2.1", trustRealIp: true }),
    ).toBe("7.7.7.7");
    expect(
      clientIpFrom({
        headers: { "x-forwarded-for": "not-an-ip" },
        ip: "192.0.2.1",
        trustedProxyCount: 1,
      }),
    ).toBe("192.0.2.1");
    expect(clientIpFrom({ headers: new Headers() })).toBeUndefined();
  });

  it("joins repeated header lines in order", () => {
    expect(
      clientIpFrom({
        headers: { "x-forwarded-for": ["6.6.6.6", "198.51.100.9"] },
        trustedProxyCount: 1,
      }),
    ).toBe("198.51.100.9");
  });
});

describe("identifiers", () => {
  it("prefers the user id, then the API key, then the IP, and hashes every one", async () => {
    const headers = { "x-forwarded-for": "198.51.100.9" };
    const user = await getRateLimitIdentifier({
      userId: "alice",
      apiKey: "sk_live_secret",
      headers,
      trustedProxyCount: 1,
    });
    const key = await getRateLimitIdentifier({
      apiKey: "sk_live_secret",
      headers,
      trustedProxyCount: 1,
    });
    const ip = await getRateLimitIdentifier({ headers, trustedProxyCount: 1 });
    const anonymous = await getRateLimitIdentifier({});
    expect(user).toMatchObject({ kind: "user", ip: "198.51.100.9" });
    expect(user.identifier).toMatch(/^user_[0-9a-f]{32}$/);
    expect(key.kind).toBe("apiKey");
    expect(key.identifier).toMatch(/^key_[0-9a-f]{32}$/);
    expect(ip.identifier).toMatch(/^ip_[0-9a-f]{32}$/);
    expect(anonymous).toEqual({ identifier: "anonymous", kind: "anonymous" });
    for (const identity of [user, key, ip]) {
      expect(identity.identifier).not.toContain("alice");
      expect(identity.identifier).not.toContain("secret");
      expect(identity.identifier).not.toContain("198.51");
    }
  });

  it("is stable, and the salt changes it", async () => {
    const a = await getRateLimitIdentifier({ userId: "u1" });
    const b = await getRateLimitIdentifier({ userId: "u1" });
    const salted = await getRateLimitIdentifier({ userId: "u1", salt: "pepper" });
    expect(a.identifier).toBe(b.identifier);
    expect(salted.identifier).not.toBe(a.identifier);
    expect(await hashIdentifier("abc")).toBe("ba7816bf8f01cfea414140de5dae2223");
  });

  it("rejects bad input naming the field", async () => {
    await expect(getRateLimitIdentifier({ trustedProxyCount: -1 })).rejects.toThrow(
      /trustedProxyCount/,
    );
    await expect(getRateLimitIdentifier({ userId: "x".repeat(600) })).rejects.toThrow(/userId/);
  });
});
