// `resize`: memory and vCPUs (a restart, asked first) and the project disk (grow only).
import { parseSize } from "../../components/config";
import { StackFile, UsageError } from "../stacks";
import { applyChange, confirm, Context, lockStack, parseCpus, parseDisk, parseMemory, projectOf, settingsOf } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Options of `resize`. */
export interface ResizeOptions {
    memory?: string;
    cpus?: string;
    disk?: string;
    yes?: boolean;
}

/** Changes a project's memory, vCPUs or project disk size (grow only) and applies it. */
export async function resize(ctx: Context, host: string, name: string, opts: ResizeOptions): Promise<void> {
    if (opts.memory === undefined && opts.cpus === undefined && opts.disk === undefined) {
        throw new UsageError("resize needs at least one of --memory, --cpus, --disk");
    }
    using _lock = await lockStack(ctx, host, `resize ${name}`);
    const stack = new StackFile(ctx.dir, host);
    const project = projectOf(stack, settingsOf(stack), name);
    const memory = opts.memory === undefined ? undefined : parseMemory(opts.memory);
    const cpus = opts.cpus === undefined ? undefined : parseCpus(opts.cpus);
    const disk = opts.disk === undefined ? undefined : parseDisk(opts.disk);
    if (disk !== undefined && parseSize(disk)!.bytes < project.disk.bytes) {
        throw new UsageError(
            `the project disk of ${name} is ${project.disk.text} and cannot shrink to ${disk} (shrinking would cut off work); nothing changed`,
        );
    }
    const grows = disk !== undefined && parseSize(disk)!.bytes > project.disk.bytes;
    const restarts = (memory !== undefined && memory !== project.memory) || (cpus !== undefined && cpus !== project.cpus);
    if (!restarts && !grows) {
        ctx.io.err(
            `project-vm: ${name} already has ${project.memory} MiB, ${project.cpus} vCPUs and a ${project.disk.text} project disk; nothing to do`,
        );
        return;
    }
    // Checked before anything is said or asked: a value the program refuses stops here.
    stack.setFields(name, { memory, cpus, disk });
    settingsOf(stack);
    if (restarts && project.running) {
        ctx.io.err(
            `project-vm: new memory or vCPUs need a new VM: ${project.hostname} is shut down (ACPI, forced after the stack's shutdownTimeout) and comes back on the same disks.`,
        );
        if (!(await confirm(ctx.io, `Restart ${project.hostname} now?`, opts.yes)))
            throw new UsageError("resize cancelled; nothing changed");
    }
    await applyChange(ctx, stack, { what: `resize ${name}` });
    const now = projectOf(stack, settingsOf(stack), name);
    ctx.io.err(
        `project-vm: ${name} has ${now.memory} MiB, ${now.cpus} vCPUs and a ${now.disk.text} project disk` +
            (grows ? " (its filesystem grows at the VM's next boot)" : ""),
    );
}

/** `project-vm resize <name> [-m memory] [-c cpus] [-d size] [-y]`. */
export const declareResize: Declare = (program, f) => {
    program
        .command("resize")
        .description("change memory or vCPUs (the VM restarts) or grow the project disk (in place)")
        .argument("<name>", "project name")
        .option("-m, --memory <memory>", "memory in MiB, or with a unit (16G)")
        .option("-c, --cpus <cpus>", "vCPUs")
        .option("-d, --disk <size>", "project disk size; it can only grow")
        .option("-y, --yes", "do not ask before restarting the VM")
        .action(async (name: string, o, c: Command) => {
            const w = f.where(c);
            await resize(w.ctx, w.host(), name, o);
        });
};
