// `doctor`: the tools, each host's stack file, its libvirt and its Tailscale credentials.
import { ConfigError, Settings } from "../../components/config";
import { LibvirtUnavailable } from "../libvirt";
import { StackFile } from "../stacks";
import { Context } from "./context";

/** One check of `doctor`. */
export interface Check {
    /** What was checked. */
    name: string;
    /** Whether it passed. */
    ok: boolean;
    /** What was found, or what to do. */
    detail: string;
}

/** A program the CLI or the stack's commands need, how to ask its version, and what it is for. */
export const TOOLS: { cmd: string; args: string[]; for: string }[] = [
    { cmd: "pulumi", args: ["version"], for: "applying the stacks (https://www.pulumi.com/docs/install/)" },
    { cmd: "virsh", args: ["--version"], for: "the host scripts and live state (libvirt client)" },
    { cmd: "mkisofs", args: ["--version"], for: "the libvirt provider's cloud-init ISO (cdrkit/genisoimage)" },
    { cmd: "ssh", args: ["-V"], for: "logging in, and qemu+ssh libvirt URIs (OpenSSH client)" },
    { cmd: "jq", args: ["--version"], for: "the host scripts" },
    { cmd: "curl", args: ["--version"], for: "removing a VM's machine from the tailnet" },
];

/** Checks the tools, each host's stack file and that each host's libvirt answers. */
export async function doctor(ctx: Context, hosts: string[], runTool: (cmd: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>, opts: { json?: boolean }): Promise<boolean> {
    const checks: Check[] = [];
    const major = Number(process.versions.node.split(".")[0]);
    checks.push({ name: "node", ok: major >= 20, detail: `v${process.versions.node}${major >= 20 ? "" : ": 20 or newer is needed"}` });
    for (const tool of TOOLS) {
        const r = await runTool(tool.cmd, tool.args);
        const version = `${r.stdout}\n${r.stderr}`.trim().split("\n")[0];
        checks.push({ name: tool.cmd, ok: r.code !== 127, detail: r.code === 127 ? `not found: needed for ${tool.for}` : version });
    }
    for (const host of hosts) {
        const stack = new StackFile(ctx.dir, host);
        let settings: Settings | undefined;
        try {
            settings = stack.settings();
            checks.push({ name: `${host}: stack file`, ok: true, detail: `${settings.projects.length} project(s), libvirt ${settings.libvirtUri}` });
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            checks.push({ name: `${host}: stack file`, ok: false, detail: e.problems.join("; ") });
            continue;
        }
        try {
            const states = await ctx.libvirt(settings.libvirtUri).states();
            checks.push({ name: `${host}: libvirt`, ok: true, detail: `${settings.libvirtUri} answers (${states.size} domain(s))` });
        } catch (e) {
            if (!(e instanceof LibvirtUnavailable)) throw e;
            checks.push({ name: `${host}: libvirt`, ok: false, detail: e.message });
        }
        if (settings.tailscale.enabled) {
            const has = stack.has("tailscale:apiKey") || (stack.has("tailscale:oauthClientId") && stack.has("tailscale:oauthClientSecret"));
            checks.push({
                name: `${host}: Tailscale API credentials`, ok: has,
                detail: has ? "set in the stack file" : `missing: pulumi config set --stack ${host} --secret tailscale:apiKey tskey-api-… (or tailscale:oauthClientId and tailscale:oauthClientSecret)`,
            });
        }
    }
    const ok = checks.every((c) => c.ok);
    if (opts.json) ctx.io.out(JSON.stringify({ ok, checks }, null, 2));
    else for (const c of checks) ctx.io.out(`${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
    return ok;
}
