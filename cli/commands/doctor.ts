// `doctor`: the tools, the engine's plugins, each host's stack (in the backend, with what Pulumi
// requires set), its stack file, its libvirt and its Tailscale credentials.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError, Settings } from "../../components/config";
import { LibvirtUnavailable } from "../libvirt";
import { MIN_PULUMI, versionAtLeast } from "../pulumi";
import { reasonOf } from "../run";
import { StackFile, UsageError } from "../stacks";
import { Context } from "./context";
import { Command } from "commander";
import { Declare, EXIT } from "../factory";

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
 * `mkisofs`, whose first two lines are a decoy banner ("mkisofs 2.01 is not what you see here…").
 */
export function versionLine(output: string): string {
    const lines = output
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    const decoy = /is not what you see here|^GUIs and other frontend/;
    return lines.find((l) => !decoy.test(l)) ?? lines[0] ?? "";
}

/** The provider plugins the program's SDKs ask the engine for, by name: their exact versions. */
export function requiredPlugins(dir: string): Map<string, string> {
    const wanted = new Map<string, string>();
    for (const name of ["libvirt", "command", "tailscale"]) {
        const file = path.join(dir, "node_modules", "@pulumi", name, "package.json");
        if (!fs.existsSync(file)) continue;
        const p = JSON.parse(fs.readFileSync(file, "utf8")).pulumi;
        if (p?.resource && p.version) wanted.set(name, String(p.version).replace(/^v/, ""));
    }
    return wanted;
}

/**
 * The plugin checks from `pulumi plugin ls --json`: each plugin the SDKs ask for, at exactly that
 * version (the engine refuses another, and downloads are not to be counted on).
 */
export function pluginChecks(pluginLs: string, wanted: Map<string, string>): Check[] {
    let installed: { name: string; kind: string; version: string }[] = [];
    try {
        installed = JSON.parse(pluginLs) ?? [];
    } catch {
        // not JSON: none are known to be installed
    }
    return [...wanted].map(([name, version]) => {
        const have = installed.filter((p) => p.kind === "resource" && p.name === name).map((p) => String(p.version).replace(/^v/, ""));
        const ok = have.includes(version);
        return {
            name: `plugin ${name}`,
            ok,
            detail: ok
                ? `v${version}`
                : `${have.length ? `only v${have.join(", v")}` : "not installed"}: the program needs v${version} (bash engine/install-plugins.sh, or pulumi plugin install resource ${name} ${version})`,
        };
    });
}

/** The keys Pulumi.yaml declares without a default: Pulumi refuses to preview a stack that lacks one. */
export function requiredKeys(dir: string): string[] {
    const project = parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) ?? {};
    return Object.entries<{ default?: unknown } | null>(project.config ?? {})
        .filter(([, d]) => d?.default === undefined)
        .map(([key]) => `${project.name}:${key}`);
}

/** The check of the Node.js running project-vm (and the program): 20 or newer. */
export function nodeCheck(version: string): Check {
    const ok = Number(version.split(".")[0]) >= 20;
    return { name: "node", ok, detail: `v${version}${ok ? "" : ": 20 or newer is needed"}` };
}

/** Checks the tools, each host's stack file and that each host's libvirt answers. */
export async function doctor(
    ctx: Context,
    hosts: string[],
    runTool: (cmd: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>,
    opts: { json?: boolean; picked?: boolean },
): Promise<boolean> {
    const checks: Check[] = [];
    checks.push(nodeCheck(process.versions.node));
    for (const tool of TOOLS) {
        const r = await runTool(tool.cmd, tool.args);
        const version = versionLine(`${r.stdout}\n${r.stderr}`);
        if (r.code === 127) checks.push({ name: tool.cmd, ok: false, detail: `not found: needed for ${tool.for}` });
        else if (r.code === 126) {
            checks.push({
                name: tool.cmd,
                ok: false,
                detail: `found but cannot be run (${reasonOf(r.stderr, "no reason given")}): needed for ${tool.for}`,
            });
        } else if (tool.cmd === "pulumi" && !versionAtLeast(version, MIN_PULUMI)) {
            checks.push({
                name: tool.cmd,
                ok: false,
                detail: `${version}: ${MIN_PULUMI} or newer is needed (or build it: bash engine/build.sh)`,
            });
        } else checks.push({ name: tool.cmd, ok: true, detail: version });
    }
    const pulumiOk = checks.find((c) => c.name === "pulumi")?.ok === true;
    let stacks: string[] | undefined;
    if (pulumiOk) {
        // The engine's pieces a `pulumi up` needs besides the CLI: the language host (on PATH or
        // beside pulumi, where Pulumi's own releases put it) and each plugin at its version.
        const host = await runTool("sh", [
            "-c",
            'command -v pulumi-language-nodejs || { d=$(dirname "$(readlink -f "$(command -v pulumi)")") && [ -x "$d/pulumi-language-nodejs" ] && echo "$d/pulumi-language-nodejs"; }',
        ]);
        checks.push({
            name: "pulumi-language-nodejs",
            ok: host.code === 0 && host.stdout.trim() !== "",
            detail:
                host.code === 0 && host.stdout.trim()
                    ? host.stdout.trim()
                    : "not found on PATH nor beside pulumi: the Node.js language host runs the program (bash engine/build.sh builds it)",
        });
        checks.push(...pluginChecks((await runTool("pulumi", ["plugin", "ls", "--json"])).stdout, requiredPlugins(ctx.dir)));
        const ls = await runTool("pulumi", ["stack", "ls", "--json", "--cwd", ctx.dir]);
        try {
            if (ls.code === 0) stacks = (JSON.parse(ls.stdout) as { name: string }[]).map((st) => st.name.split("/").pop()!);
        } catch {
            // not JSON: which stacks the backend has is not known, and not checked
        }
    }
    if (hosts.length === 0) {
        checks.push({
            name: "stack files",
            ok: false,
            detail: `there is no Pulumi.<host>.yaml in ${ctx.dir}: copy examples/Pulumi.storage.yaml to Pulumi.<your host>.yaml and edit it`,
        });
    }
    for (const host of hosts) {
        let stack: StackFile;
        let settings: Settings;
        try {
            stack = new StackFile(ctx.dir, host);
        } catch (e) {
            if (!(e instanceof UsageError)) throw e;
            checks.push({ name: `${host}: stack file`, ok: false, detail: e.message });
            continue;
        }
        if (stacks !== undefined) {
            const there = stacks.includes(host);
            const init = `pulumi stack init ${host} --cwd ${ctx.dir}`;
            if (!there && !opts.picked && hosts.length > 1) {
                // Another host's file beside this one's: not set up here is not a fault.
                checks.push({
                    name: `${host}: Pulumi stack`,
                    ok: true,
                    detail: `not set up in this backend, so not checked ('${init}' sets it up; '${ctx.command(host, "doctor")}' checks it)`,
                });
                continue;
            }
            checks.push({
                name: `${host}: Pulumi stack`,
                ok: there,
                detail: there
                    ? "in the backend"
                    : `not in the backend you are logged in to: ${init} (or pulumi login to the backend that holds it)`,
            });
        }
        const missing = requiredKeys(ctx.dir).filter((k) => !stack.has(k));
        checks.push({
            name: `${host}: required config`,
            ok: missing.length === 0,
            detail:
                missing.length === 0
                    ? "every key Pulumi.yaml requires is set"
                    : `Pulumi refuses to run without ${missing.join(", ")} in Pulumi.${host}.yaml`,
        });
        try {
            settings = stack.settings();
            checks.push({
                name: `${host}: stack file`,
                ok: true,
                detail: `${settings.projects.length} project(s), libvirt ${settings.libvirtUri}`,
            });
        } catch (e) {
            // One broken stack file is one failed check; the other hosts are still checked.
            // (the file was read as YAML above: what settings() refuses is a ConfigError)
            if (!(e instanceof ConfigError)) throw e;
            checks.push({ name: `${host}: stack file`, ok: false, detail: e.problems.join("; ") });
            continue;
        }
        const samples = settings.sshPublicKeys.filter((k) => k.includes(SAMPLE_SSH_KEY));
        checks.push({
            name: `${host}: SSH keys`,
            ok: samples.length === 0,
            detail:
                samples.length === 0
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
                name: `${host}: Tailscale API credentials`,
                ok: has,
                detail: has
                    ? "set in the stack file"
                    : `missing: pulumi config set --stack ${host} --secret tailscale:apiKey tskey-api-… (or tailscale:oauthClientId and tailscale:oauthClientSecret)`,
            });
        }
    }
    const ok = checks.every((c) => c.ok);
    if (opts.json) ctx.io.out(JSON.stringify({ ok, checks }, null, 2));
    else for (const c of checks) ctx.io.out(`${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
    return ok;
}

/** `project-vm doctor [--json]`: exit 1 when a check fails. */
export const declareDoctor: Declare = (program, f) => {
    program
        .command("doctor")
        .description("check the tools, every host's stack file and that its libvirt answers")
        .option("--json", "JSON: {ok, checks: [{name, ok, detail}]}")
        .action(async (o, c: Command) => {
            const w = f.where(c);
            // One host when one is picked (-H, PROJECT_VM_HOST); else every stack file, those not
            // set up in the backend only noted.
            const picked = w.globals.host !== undefined || f.deps.env.PROJECT_VM_HOST !== undefined;
            const ok = await doctor(w.ctx, picked ? [w.host()] : w.hosts, f.deps.runTool, { ...o, picked });
            f.setCode(ok ? EXIT.ok : EXIT.failed);
        });
};
