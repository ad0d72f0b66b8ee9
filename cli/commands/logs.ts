// `logs`: cloud-init's output log through the guest agent, or the serial console.
import { StackFile, UsageError } from "../stacks";
import { ApplyFailed, Context, projectOf, settingsOf } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Shows the end of cloud-init's output log from the guest, or attaches to the serial console. */
export async function logs(ctx: Context, host: string, name: string, opts: { console?: boolean; lines: string }): Promise<number> {
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    const libvirt = ctx.libvirt(settings.libvirtUri);
    if (opts.console) {
        ctx.io.err(`project-vm: attaching to the serial console of ${project.hostname}; leave with Ctrl+]`);
        return ctx.interactive("virsh", ["-c", settings.libvirtUri, "console", project.hostname]);
    }
    const lines = opts.lines; // commander's default: 100
    if (!/^\d+$/.test(lines)) throw new UsageError(`--lines must be a whole number, got '${lines}'`);
    const state = (await libvirt.states()).get(project.hostname) ?? "absent";
    if (state !== "running")
        throw new UsageError(`${project.hostname} is ${state}: its logs can be read while it runs (${ctx.command(host, "start", name)})`);
    const r = await libvirt.guestExec(project.hostname, "tail", ["-n", lines, "/var/log/cloud-init-output.log"]);
    if (r.code !== 0)
        throw new ApplyFailed(`could not read /var/log/cloud-init-output.log in ${project.hostname}: ${printable(r.stderr.trim())}`);
    // Guest bytes never reach the terminal raw: escape sequences could set the clipboard (OSC 52),
    // the title or the cursor.
    for (const l of r.stdout.replace(/\n$/, "").split("\n")) ctx.io.out(printable(l));
    return 0;
}

/** A line of guest text as it can be shown: control characters (but tab) written as \\xNN. */
export function printable(line: string): string {
    // eslint-disable-next-line no-control-regex
    return line.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** `project-vm logs <name> [-n lines] [--console]`: with --console, its exit code is virsh console's. */
export const declareLogs: Declare = (program, f) => {
    program
        .command("logs")
        .description("the end of cloud-init's output log in the VM, or its serial console")
        .argument("<name>", "project name")
        .option("-n, --lines <n>", "how many lines", "100")
        .option("--console", "attach to the serial console instead (virsh console)")
        .action(async (name: string, o, c: Command) => {
            const w = f.where(c);
            f.setCode(await logs(w.ctx, w.host(), name, o));
        });
};
