// `start` and `stop`: the entry's running key, applied.
import { LibvirtUnavailable } from "../libvirt";
import { StackFile } from "../stacks";
import { ApplyFailed, applyChange, Context, lockStack, projectOf, noteUnapplied, requirePulumi, settingsOf, upAndRecord } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Sets a project running or stopped and applies it. */
export async function setRunning(ctx: Context, host: string, name: string, running: boolean): Promise<void> {
    using _lock = await lockStack(ctx, host, `${running ? "start" : "stop"} ${name}`);
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    if (project.running === running && !(running && project.purge)) {
        // Nothing to write; but a VM not in the wanted state (crashed, stopped by hand) is set right.
        let state: string | undefined;
        try {
            state = (await ctx.libvirt(settings.libvirtUri).states()).get(project.hostname) ?? "absent";
        } catch (e) {
            if (!(e instanceof LibvirtUnavailable)) throw e;
        }
        if (state === (running ? "running" : "shut off")) {
            ctx.io.err(`project-vm: ${name} is already ${running ? "running" : "stopped"}; nothing to do`);
            return;
        }
        ctx.io.err(
            `project-vm: ${name}'s entry already says ${running ? "running" : "stopped"}, but its VM is ${state ?? "in an unknown state (libvirt did not answer)"}: applying the stack to set it right`,
        );
        await requirePulumi(ctx);
        noteUnapplied(ctx, stack, `${running ? "start" : "stop"} ${name}`);
        const code = await upAndRecord(ctx, stack);
        if (code !== 0)
            throw new ApplyFailed(
                `${running ? "start" : "stop"} ${name}: pulumi up --stack ${host} failed (exit ${code}); the stack file is unchanged`,
            );
        ctx.io.err(`project-vm: ${name} is ${running ? "running" : "stopped"}`);
        return;
    }
    // Running is the default: a started project's entry goes back to saying nothing about it.
    // A project started is one kept: a purge: true left by a destroy --purge that failed halfway
    // goes, or removing the entry later would delete its disk.
    stack.setFields(name, running ? { running: null, purge: null } : { running: false });
    if (running && project.purge)
        ctx.io.err(`project-vm: ${name} was marked purge: true; starting it removes the mark, so its project disk is kept`);
    await applyChange(ctx, stack, { what: `${running ? "start" : "stop"} ${name}` });
    ctx.io.err(`project-vm: ${name} is ${running ? "running" : "stopped"}`);
}

/** `project-vm start <name>` and `project-vm stop <name>`. */
export const declarePower: Declare = (program, f) => {
    for (const [verb, running, description] of [
        ["start", true, "start a project's VM (its entry's running: false goes)"],
        ["stop", false, "shut a project's VM down (running: false; ACPI, forced after shutdownTimeout)"],
    ] as const) {
        program
            .command(verb)
            .description(description)
            .argument("<name>", "project name")
            .action(async (name: string, _o, c: Command) => {
                const w = f.where(c);
                await setRunning(w.ctx, w.host(), name, running);
            });
    }
};
