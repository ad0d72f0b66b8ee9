// `config`: what a project's entry resolves to, the stack's defaults applied — what Pulumi will make.
import { Features, OptionDecl, PROJECT_KEYS, PROJECT_OPTIONS, Size } from "../../components/config";
import { projectMac, tailnetFqdn } from "../../components/names";
import { StackFile } from "../stacks";
import { Context, projectOf, settingsOf } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Shows a project's entry with the stack's defaults applied. */
export async function showConfig(ctx: Context, host: string, name: string, opts: { json?: boolean }): Promise<void> {
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const p = projectOf(stack, settings, name);
    const entry = Object.fromEntries(PROJECT_KEYS.map((k) => [k, jsonValue(p[k])]));
    const resolved = {
        host,
        name: p.name,
        hostname: p.hostname,
        ...entry,
        mac: projectMac(host, p.name),
        fqdn: tailnetFqdn(p, settings.tailscale.tailnet) ?? null,
    };
    if (opts.json) {
        ctx.io.out(JSON.stringify(resolved, null, 2));
        return;
    }
    // An unpinned project's base is said in words: which image its VM is on.
    const unset = {
        base: unpinned(
            settings.baseImages.map((b) => b.version),
            ctx.command(host, "base"),
        ),
    };
    for (const [k, v] of [
        ["host", host],
        ["name", p.name],
        ["hostname", p.hostname],
        ...PROJECT_KEYS.filter((k) => k !== "name").map((k) => [
            k,
            optionText(PROJECT_OPTIONS[k], p[k]) ?? unset[k as keyof typeof unset] ?? "unset",
        ]),
        ["mac", resolved.mac],
        ["tailnet", resolved.fqdn ?? "off the tailnet"],
    ])
        ctx.io.out(`${`${k}:`.padEnd(11)}${v}`);
}

/** A project option's value as `config --json` shows it: a size as its text, unset as null. */
function jsonValue(v: unknown): unknown {
    if (v === undefined) return null;
    return v && typeof v === "object" && "text" in v ? (v as Size).text : v;
}

/**
 * A project option's value as `config` shows it, by its kind (memory in MiB, a size as written,
 * features on or off); undefined when unset.
 */
export function optionText(d: OptionDecl, v: unknown): string | undefined {
    if (v === undefined) return undefined;
    switch (d.kind) {
        case "memory":
            return `${v} MiB`;
        case "size":
            return (v as Size).text;
        case "features":
            return Object.entries(v as Features)
                .map(([k, on]) => `${k} ${on ? "on" : "off"}`)
                .join(", ");
        default:
            return String(v);
    }
}

/** What `base` says of an entry without one: which image its VM is on, in the user's words. */
export function unpinned(versions: string[], baseCommand: string): string {
    if (versions.length === 1) return "not pinned (on the stack's only base image)";
    return `not pinned (on the newest base image when its system disk was made; the newest now is ${versions[versions.length - 1]}; '${baseCommand}' shows which)`;
}

/** `project-vm config <name> [--json]`. */
export const declareConfig: Declare = (program, f) => {
    program
        .command("config")
        .description("what a project's entry resolves to, the stack's defaults applied")
        .argument("<name>", "project name")
        .option("--json", "JSON")
        .action(async (name: string, o, c: Command) => {
            const w = f.where(c);
            await showConfig(w.ctx, w.host(), name, o);
        });
};
