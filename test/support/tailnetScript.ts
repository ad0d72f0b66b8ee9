// tailnet.sh run as a command runs it, against the stand-in virsh and a stand-in Tailscale API on
// 127.0.0.1: one tailnet shared by two hosts' VMs of the same name, raider's auth key and record,
// and what the guest's `tailscale status --json` says.
import { execFile } from "node:child_process";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import { hostScript } from "../../components/hostCommands";
import { FakeHost } from "./fakeVirsh";

/** A device as the Tailscale API lists it (the fields the scripts read). */
export interface FakeDevice {
    id: string;
    nodeId?: string;
    hostname: string;
    name: string;
    tags?: string[];
    nodeKey?: string;
    created?: string;
}

/**
 * A stand-in for the Tailscale API on 127.0.0.1: holds `devices`, records every request (method,
 * path, authorization header) in `calls` and their bodies in `bodies`; DELETE removes a device.
 */
export async function fakeTailscale(
    opts: { devices?: FakeDevice[]; token?: string } = {},
): Promise<{ url: string; calls: string[]; bodies: string[]; devices: FakeDevice[]; close: () => void }> {
    const calls: string[] = [];
    const bodies: string[] = [];
    const devices: FakeDevice[] = opts.devices ?? [
        { id: "n1", hostname: "project-myapp", name: "project-myapp.bat-boa.ts.net" },
        { id: "n2", hostname: "project-myapp-1", name: "project-myapp-1.bat-boa.ts.net" },
        { id: "n3", hostname: "laptop", name: "laptop.bat-boa.ts.net" },
        { id: "n4", hostname: "project-myapp", name: "project-myapp-2.bat-boa.ts.net" },
    ];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => {
            body += c;
        });
        req.on("end", () => {
            calls.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
            bodies.push(body);
            const byId = (id: string) => devices.findIndex((d) => d.nodeId === id || d.id === id);
            const device = /^\/api\/v2\/device\/([^/?]+)(\?fields=all)?$/.exec(req.url ?? "");
            if (req.method === "POST" && req.url === "/api/v2/oauth/token") {
                res.end(JSON.stringify({ access_token: opts.token ?? "oauth-token" }));
            } else if (req.method === "GET" && req.url?.startsWith("/api/v2/tailnet/-/devices")) {
                res.end(JSON.stringify({ devices }));
            } else if (req.method === "GET" && device && byId(device[1]) >= 0) {
                res.end(JSON.stringify(devices[byId(device[1])]));
            } else if (req.method === "DELETE" && device && byId(device[1]) >= 0) {
                devices.splice(byId(device[1]), 1);
                res.end("{}");
            } else {
                res.statusCode = 404;
                res.end(JSON.stringify({ message: "not found" }));
            }
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, calls, bodies, devices, close: () => server.close() };
}

/** tailnet.sh's environment for the VM project-myapp on `host` (a FakeHost), before the test's own settings. */
export function tailnetEnv(host: FakeHost): Record<string, string> {
    return {
        ...host.env(),
        LIBVIRT_URI: "qemu:///system",
        DOMAIN: "project-myapp",
        NODE_HOSTNAME: "project-myapp",
        TS_TAGS: "tag:project-vm",
    };
}

/**
 * Runs a tailnet.sh function against the stand-in virsh; FAKE_TS_STATUS in `env` is what the
 * guest's `tailscale status --json` prints, FAKE_DOMSTATE its state (default running).
 */
export function runTailnet(
    env: Record<string, string>,
    fn = "tailnet_node_delete",
): Promise<{ code: number; stdout: string; stderr: string }> {
    const { FAKE_DOMSTATE, FAKE_TS_STATUS, ...rest } = env;
    const host = new FakeHost("project-myapp");
    host.define("project-myapp", { state: FAKE_DOMSTATE ?? "running", tailscale: FAKE_TS_STATUS });
    return new Promise((resolve) => {
        execFile(
            "bash",
            ["-c", hostScript("tailnet.sh", fn)],
            {
                env: { ...tailnetEnv(host), ...rest },
            },
            (err, stdout, stderr) => {
                host.cleanup();
                resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
            },
        );
    });
}

/**
 * One tailnet shared by two hosts that both have a project myapp: storage's VM joined first and
 * holds the name project-myapp, raider's joined as project-myapp-1. Same OS hostname, same tags.
 */
export function sharedTailnet(): FakeDevice[] {
    return [
        {
            id: "101",
            nodeId: "nStorageMyapp1CNTRL",
            hostname: "project-myapp",
            name: "project-myapp.bat-boa.ts.net",
            tags: ["tag:project-vm"],
            nodeKey: "nodekey:storage",
            created: "2025-03-01T09:12:40Z",
        },
        {
            id: "102",
            nodeId: "nRaiderMyapp1CNTRL",
            hostname: "project-myapp",
            name: "project-myapp-1.bat-boa.ts.net",
            tags: ["tag:project-vm"],
            nodeKey: "nodekey:raider",
            created: "2025-03-02T14:07:31Z",
        },
        {
            id: "103",
            nodeId: "nLaptop1CNTRL",
            hostname: "laptop",
            name: "laptop.bat-boa.ts.net",
            tags: [],
            nodeKey: "nodekey:laptop",
            created: "2024-11-20T08:00:00Z",
        },
    ];
}

/** Raider's myapp's auth key, as the provider's TailnetKey reports it: made before raider's node joined, after storage's. */
export const RAIDER_KEY = { TS_KEY_CREATED: "2025-03-02T14:02:10Z", TS_KEY_EXPIRES: "2025-03-03T14:02:10Z" };

/** What tailnet_node_record left in Pulumi's state for raider's myapp. */
export const RAIDER_RECORD = JSON.stringify({ nodeId: "nRaiderMyapp1CNTRL", hostname: "project-myapp" });

/** What `tailscale status --json` in the guest says: its node ID and node key (none when key is undefined). */
export function status(id: string, key?: string): string {
    return JSON.stringify({
        BackendState: "Running",
        Self: { ID: id, ...(key === undefined ? {} : { PublicKey: key }), HostName: "project-myapp" },
    });
}

/**
 * Record, then keep (an update, the VM off) and delete what was recorded, against the shared
 * tailnet: the stdout of each, the API's calls and the machines left.
 */
export async function recordThenDelete(guest: string, env: Record<string, string> = {}) {
    const api = await fakeTailscale({ devices: sharedTailnet() });
    try {
        const creds = { TS_BASE_URL: api.url, TS_API_KEY: "tskey-api-secret", ...RAIDER_KEY, ...env };
        const record = await runTailnet({ ...creds, FAKE_TS_STATUS: guest }, "tailnet_node_record");
        const keep = await runTailnet({ ...creds, FAKE_DOMSTATE: "shut off", PULUMI_COMMAND_STDOUT: record.stdout }, "tailnet_node_keep");
        const del = await runTailnet({ ...creds, PULUMI_COMMAND_STDOUT: keep.stdout }, "tailnet_node_delete");
        return { record, keep, del, calls: [...api.calls], left: api.devices.map((d) => d.nodeId) };
    } finally {
        api.close();
    }
}
