// `config`: what a project's entry resolves to, the stack's defaults applied — what Pulumi will make.
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
    const resolved = {
        host,
        name: p.name,
        hostname: p.hostname,
        memory: p.memory,
        cpus: p.cpus,
        disk: p.disk.text,
        running: p.running,
        autostart: p.autostart,
        purge: p.purge,
        base: p.base ?? null,
        features: p.features,
        mac: projectMac(host, p.name),
        fqdn: tailnetFqdn(p, settings.tailscale.tailnet) ?? null,
    };
    if (opts.json) {
        ctx.io.out(JSON.stringify(resolved, null, 2));
        return;
    }
    const features = Object.entries(p.features).map(([k, on]) => `${k} ${on ? "on" : "off"}`).join(", ");
    for (const [k, v] of [
        ["host", host], ["name", p.name], ["hostname", p.hostname], ["memory", `${p.memory} MiB`], ["cpus", String(p.cpus)],
        ["disk", p.disk.text], ["running", String(p.running)], ["autostart", String(p.autostart)], ["purge", String(p.purge)],
        ["base", p.base ?? unpinned(settings.baseImages.map((b) => b.version), ctx.command(host, "base"))],
        ["features", features], ["mac", resolved.mac], ["tailnet", resolved.fqdn ?? "off the tailnet"],
    ]) ctx.io.out(`${`${k}:`.padEnd(11)}${v}`);
}

/** What `base` says of an entry without one: which image its VM is on, in the user's words. */
export function unpinned(versions: string[], baseCommand: string): string {
    if (versions.length === 1) return "not pinned (on the stack's only base image)";
    return `not pinned (on the newest base image when its system disk was made; the newest now is ${versions[versions.length - 1]}; '${baseCommand}' shows which)`;
}

/** `project-vm config <name> [--json]`. */
export const declareConfig: Declare = (program, f) => {
    program.command("config").description("what a project's entry resolves to, the stack's defaults applied")
        .argument("<name>", "project name")
        .option("--json", "JSON")
        .action(async (name: string, o, c: Command) => {
            const w = f.where(c);
            await showConfig(w.ctx, w.host(), name, o);
        });
};
