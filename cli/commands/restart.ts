// `restart`: a running VM rebooted in place (ACPI); the stack file and Pulumi are not involved.
import { LibvirtUnavailable } from "../libvirt";
import { StackFile, UsageError } from "../stacks";
import { ApplyFailed, Context, projectOf, settingsOf } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Reboots a project's running VM through ACPI. */
export async function restart(ctx: Context, host: string, name: string): Promise<void> {
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    const libvirt = ctx.libvirt(settings.libvirtUri);
    const state = (await libvirt.states()).get(project.hostname) ?? "absent";
    if (state !== "running") {
        throw new UsageError(`${project.hostname} is ${state}, not running: start it with '${ctx.command(host, "start", name)}'`);
    }
    try {
        await libvirt.reboot(project.hostname);
    } catch (e) {
        if (e instanceof LibvirtUnavailable) throw new ApplyFailed(`could not reboot ${project.hostname}: ${e.message}`);
        throw e;
    }
    ctx.io.err(`project-vm: ${project.hostname} is rebooting (ACPI); '${ctx.command(host, "status", name)}' shows when it is back`);
}

/** `project-vm restart <name>`. */
export const declareRestart: Declare = (program, f) => {
    program
        .command("restart")
        .description("reboot a project's running VM (ACPI); the stack file is not changed")
        .argument("<name>", "project name")
        .action(async (name: string, _o, c: Command) => {
            const w = f.where(c);
            await restart(w.ctx, w.host(), name);
        });
};
