// `doctor`: the tools, each host's stack file, its libvirt and its Tailscale credentials.
import { ConfigError, Settings } from "../../components/config";
import { LibvirtUnavailable } from "../libvirt";
import { MIN_PULUMI, versionAtLeast } from "../pulumi";
import { StackFile, UsageError } from "../stacks";
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

/** The SSH key the shipped stack files carry as a sample: a stack still listing it is not set up. */
export const SAMPLE_SSH_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIJb3Aa5Ng8YsqOWzf4zXFf3R0MFaJjZ80BCDqRgv/yen";

/**
 * The line of a `--version` output that says the version: the first one, but for genisoimage's
 * `mkisofs`, whose first lines are a decoy banner ("mkisofs 2.01 is not what you see here…").
 */
export function versionLine(output: string): string {
    const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
    const decoy = /is not what you see here|only a fake for too clever|^GUIs and other frontend|^In fact, this program is/;
    return lines.find((l) => !decoy.test(l)) ?? lines[0] ?? "";
}

/** Checks the tools, each host's stack file and that each host's libvirt answers. */
export async function doctor(ctx: Context, hosts: string[], runTool: (cmd: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>, opts: { json?: boolean }): Promise<boolean> {
    const checks: Check[] = [];
    const major = Number(process.versions.node.split(".")[0]);
    checks.push({ name: "node", ok: major >= 20, detail: `v${process.versions.node}${major >= 20 ? "" : ": 20 or newer is needed"}` });
    for (const tool of TOOLS) {
        const r = await runTool(tool.cmd, tool.args);
        const version = versionLine(`${r.stdout}\n${r.stderr}`);
        if (r.code === 127) checks.push({ name: tool.cmd, ok: false, detail: `not found: needed for ${tool.for}` });
        else if (tool.cmd === "pulumi" && !versionAtLeast(version, MIN_PULUMI)) {
            checks.push({ name: tool.cmd, ok: false, detail: `${version}: ${MIN_PULUMI} or newer is needed (or build it: bash engine/build.sh)` });
        } else checks.push({ name: tool.cmd, ok: true, detail: version });
    }
    for (const host of hosts) {
        let stack: StackFile;
        let settings: Settings;
        try {
            stack = new StackFile(ctx.dir, host);
            settings = stack.settings();
            checks.push({ name: `${host}: stack file`, ok: true, detail: `${settings.projects.length} project(s), libvirt ${settings.libvirtUri}` });
        } catch (e) {
            // One broken stack file is one failed check; the other hosts are still checked.
            if (e instanceof ConfigError) checks.push({ name: `${host}: stack file`, ok: false, detail: e.problems.join("; ") });
            else if (e instanceof UsageError) checks.push({ name: `${host}: stack file`, ok: false, detail: e.message });
            else throw e;
            continue;
        }
        const samples = settings.sshPublicKeys.filter((k) => k.includes(SAMPLE_SSH_KEY));
        checks.push({
            name: `${host}: SSH keys`, ok: samples.length === 0,
            detail: samples.length === 0
                ? `${settings.sshPublicKeys.length} key(s) may log in as dev`
                : `the sample key of the shipped stack file (${samples[0].split(" ").slice(-1)[0]}) is still listed: put your own public key(s) in project-vms:sshPublicKeys of Pulumi.${host}.yaml`,
        });
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
