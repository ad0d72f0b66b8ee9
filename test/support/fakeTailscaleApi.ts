// A fake Tailscale API (v2) on 127.0.0.1 for the engine suite: what the tailscale provider calls
// for auth keys (create, read, delete) and what the program's tailnet.sh calls for machines (read
// and delete a device by node ID). It plays the coordination server too: a node "joins" when the
// stand-in `tailscale up` in a guest (test/support/guest/tailscale) used a key this API issued; the
// API learns of it by reading the stand-in's state through the guest agent, and refuses a key that
// is unknown, deleted, expired or (single-use) already used by another node.
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { guestSh } from "./guestAgent";

/** An auth key as the API keeps it. */
export interface FakeKey {
    id: string;
    key: string;
    reusable: boolean;
    ephemeral: boolean;
    preauthorized: boolean;
    tags: string[];
    description: string;
    expirySeconds: number;
    created: string;
    expires: string;
    deleted: boolean;
    /** Node IDs that joined with it. */
    usedBy: string[];
}

/** A machine on the tailnet. */
export interface FakeDevice {
    id: string;
    nodeId: string;
    nodeKey: string;
    hostname: string;
    name: string;
    tags: string[];
    /** The ID of the key it joined with. */
    keyId: string;
    /** When it joined (the API's `created`, RFC 3339 in UTC, whole seconds). */
    created: string;
}

const STATE = "/var/lib/tailscale/standin-state.json";

export class FakeTailscaleApi {
    readonly keys = new Map<string, FakeKey>();
    readonly devices = new Map<string, FakeDevice>();
    /** Every request: `METHOD path`. */
    readonly calls: string[] = [];
    /** Joins refused, with why. */
    readonly refused: string[] = [];
    private server?: http.Server;
    url = "";

    /**
     * @param apiKey the API key requests must carry (Basic user or Bearer token)
     * @param guests the running guests that may have joined, read when a node is asked for
     */
    constructor(
        readonly apiKey: string,
        private readonly guests: () => Promise<{ uri: string; domain: string }[]>,
        readonly suffix = "standin.ts.net",
    ) {}

    async start(): Promise<string> {
        this.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => {
                body += c;
            });
            req.on("end", () => {
                this.handle(req, body).then(
                    ([status, out]) => {
                        res.statusCode = status;
                        res.setHeader("content-type", "application/json");
                        res.end(JSON.stringify(out));
                    },
                    (e) => {
                        res.statusCode = 500;
                        res.end(JSON.stringify({ message: String(e) }));
                    },
                );
            });
        });
        await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
        this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
        return this.url;
    }

    close(): void {
        this.server?.close();
    }

    /** Live (not deleted) keys. */
    liveKeys(): FakeKey[] {
        return [...this.keys.values()].filter((k) => !k.deleted);
    }

    /** Devices of a hostname. */
    devicesOf(hostname: string): FakeDevice[] {
        return [...this.devices.values()].filter((d) => d.hostname === hostname);
    }

    private authorized(req: http.IncomingMessage): boolean {
        const h = req.headers.authorization ?? "";
        if (h === `Bearer ${this.apiKey}`) return true;
        const basic = /^Basic (.+)$/.exec(h);
        return !!basic && Buffer.from(basic[1], "base64").toString("utf8").split(":")[0] === this.apiKey;
    }

    private async handle(req: http.IncomingMessage, body: string): Promise<[number, unknown]> {
        const url = new URL(req.url ?? "/", this.url);
        this.calls.push(`${req.method} ${url.pathname}`);
        if (!this.authorized(req)) return [401, { message: "API token invalid" }];
        const keys = /^\/api\/v2\/tailnet\/[^/]+\/keys(?:\/([^/]+))?$/.exec(url.pathname);
        const device = /^\/api\/v2\/device\/([A-Za-z0-9]+)$/.exec(url.pathname);
        if (keys && req.method === "POST" && !keys[1]) return [200, this.view(this.createKey(JSON.parse(body || "{}")))];
        if (keys && keys[1]) {
            const k = this.keys.get(keys[1]);
            if (!k || (k.deleted && req.method === "GET")) return [404, { message: "not found" }];
            if (req.method === "GET") return [200, this.view(k)];
            if (req.method === "DELETE") {
                k.deleted = true;
                return [200, {}];
            }
        }
        if (/^\/api\/v2\/tailnet\/[^/]+\/devices$/.test(url.pathname) && req.method === "GET") {
            await this.discover();
            return [200, { devices: [...this.devices.values()] }];
        }
        if (device) {
            await this.discover();
            const d = this.devices.get(device[1]);
            if (!d) return [404, { message: "not found" }];
            if (req.method === "GET") return [200, d];
            if (req.method === "DELETE") {
                this.devices.delete(d.nodeId);
                return [200, {}];
            }
        }
        return [404, { message: `no such endpoint: ${req.method} ${url.pathname}` }];
    }

    private createKey(b: any): FakeKey {
        const create = b?.capabilities?.devices?.create ?? {};
        const now = new Date();
        const expirySeconds = Number(b?.expirySeconds ?? 90 * 86400);
        const k: FakeKey = {
            id: `k${randomBytes(6).toString("hex")}CNTRL`,
            key: `tskey-auth-${randomBytes(12).toString("hex")}`,
            reusable: !!create.reusable,
            ephemeral: !!create.ephemeral,
            preauthorized: !!create.preauthorized,
            tags: create.tags ?? [],
            description: b?.description ?? "",
            expirySeconds,
            created: now.toISOString().replace(/\.\d+Z$/, "Z"),
            expires: new Date(now.getTime() + expirySeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
            deleted: false,
            usedBy: [],
        };
        this.keys.set(k.id, k);
        return k;
    }

    private view(k: FakeKey): unknown {
        const invalid = k.deleted || new Date(k.expires) < new Date() || (!k.reusable && k.usedBy.length > 0);
        return {
            id: k.id,
            key: k.key,
            keyType: "auth",
            created: k.created,
            expires: k.expires,
            expirySeconds: k.expirySeconds,
            description: k.description,
            invalid,
            userId: "u-test",
            capabilities: {
                devices: { create: { reusable: k.reusable, ephemeral: k.ephemeral, preauthorized: k.preauthorized, tags: k.tags } },
            },
        };
    }

    /** Reads each guest's stand-in state: a node that joined with a good key becomes a device. */
    async discover(): Promise<void> {
        for (const g of await this.guests()) {
            let state: any;
            try {
                const r = await guestSh(g.uri, g.domain, `cat ${STATE} 2>/dev/null || true`, 20_000);
                if (!r.stdout.trim()) continue;
                state = JSON.parse(r.stdout);
            } catch {
                continue; // no agent yet, or not running
            }
            if (this.devices.has(state.id) || this.refused.some((r) => r.startsWith(`${state.id}:`))) continue;
            const key = [...this.keys.values()].find((k) => k.key === state.authKey);
            const why = !key
                ? "an unknown key"
                : key.deleted
                  ? "a deleted key"
                  : new Date(key.expires) < new Date()
                    ? "an expired key"
                    : !key.reusable && key.usedBy.length > 0
                      ? `a single-use key already used by ${key.usedBy[0]}`
                      : undefined;
            if (why || !key) {
                this.refused.push(`${state.id}: ${g.domain} tried to join with ${why}`);
                continue;
            }
            key.usedBy.push(state.id);
            const taken = new Set([...this.devices.values()].map((d) => d.name));
            let name = `${state.hostname}.${this.suffix}`;
            for (let i = 1; taken.has(name); i++) name = `${state.hostname}-${i}.${this.suffix}`;
            this.devices.set(state.id, {
                id: state.id,
                nodeId: state.id,
                nodeKey: state.nodeKey,
                hostname: state.hostname,
                name,
                tags: [...new Set([...(state.tags ?? []), ...key.tags])],
                keyId: key.id,
                created: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            });
        }
    }
}
