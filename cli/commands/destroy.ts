// `destroy`: the VM goes; the project disk stays unless --purge, and is deleted only by the
// command that asked for it.
import * as fs from "node:fs";
import { Project } from "../../components/config";
import { GUEST_USER } from "../../components/cloudInit";
import { projectPaths } from "../../components/names";
import { PulumiUnavailable } from "../pulumi";
import { StackFile, UsageError } from "../stacks";
import { applyChange, confirm, Context, lockStack, projectOf, settingsOf } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Options of `destroy`. */
export interface DestroyOptions {
    /** Delete the project disk too. */
    purge?: boolean;
    /** Confirmed in advance. */
    yes?: boolean;
}

/**
 * Removes a project: its VM is shut down and deleted; its project disk stays in the host's
 * storage folder (a project of the same name takes it up again) unless `purge`, which first marks
 * the entry `purge: true` and applies that, then removes it.
 */
export async function destroy(ctx: Context, host: string, name: string, opts: DestroyOptions): Promise<void> {
    using _lock = await lockStack(ctx, host, `destroy ${opts.purge ? "--purge " : ""}${name}`);
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    const paths = projectPaths(settings.storageDir, name);
    /** The file before a purge's first step: what undo goes back to. */
    let original: string | undefined;
    if (opts.purge) {
        ctx.io.err(
            `project-vm: this deletes ${project.hostname} AND its project disk ${paths.projectDisk} on ${host}: the work in /home/${GUEST_USER}/project is gone for good.`,
        );
        if (!opts.yes) {
            const answer = await ctx.io.ask(`Type the project name (${name}) to delete it with its disk: `);
            if (answer === undefined)
                throw new UsageError(`destroy --purge deletes the project disk of ${name}; there is no terminal to confirm on: give --yes`);
            if (answer.trim() !== name) throw new UsageError("destroy cancelled; nothing changed");
        }
        original = fs.readFileSync(stack.path, "utf8");
        stack.setFields(name, { purge: true, running: false });
        await applyChange(ctx, stack, {
            what: `destroy --purge ${name} (step 1 of 2: mark it purge and stop it)`,
        });
    } else {
        ctx.io.err(
            `project-vm: this deletes the VM ${project.hostname} on ${host} (its system disk: what is installed outside /home/${GUEST_USER}/project). ` +
                `The project disk ${paths.projectDisk} is kept.`,
        );
        if (!(await confirm(ctx.io, `Destroy ${project.hostname}?`, opts.yes))) throw new UsageError("destroy cancelled; nothing changed");
        await disarmPurge(ctx, stack, project);
    }
    stack.removeProject(name);
    await applyChange(ctx, stack, {
        what: `destroy ${opts.purge ? "--purge " : ""}${name}`,
        ...(opts.purge
            ? {
                  undoTo: original,
                  lost: `the project disk of ${name} was deleted: undo brings back its entry with a new, empty project disk, not its data`,
              }
            : {}),
    });
    if (opts.purge) ctx.io.err(`project-vm: ${name} and its project disk are gone`);
    else
        ctx.io.err(
            `project-vm: ${project.hostname} is gone; its project disk stays at ${paths.projectDisk} on ${host}, and '${ctx.command(host, "create", name)}' takes it up again`,
        );
}

/**
 * Before a removal that keeps the disk: Pulumi deletes a removed resource with the options it
 * was last applied with, so a project disk last applied with purge: true (a destroy --purge that
 * failed halfway, or a mark set by hand) would be deleted by a plain removal. When the entry says
 * purge, or Pulumi's state says the disk is not retained, or the state cannot be read, purge is
 * turned off and applied first; the entry is removed only once that has worked.
 */
async function disarmPurge(ctx: Context, stack: StackFile, project: Project): Promise<void> {
    let why: string | undefined;
    if (project.purge) why = "its entry says purge: true";
    else {
        try {
            if ((await ctx.pulumi.armedPurges(stack.host)).has(project.name)) why = "it was last applied with purge: true";
        } catch (e) {
            if (!(e instanceof PulumiUnavailable)) throw e;
            why = `Pulumi's state could not be read (${e.message}), so it may have been last applied with purge: true`;
        }
    }
    if (!why) return;
    ctx.io.err(
        `project-vm: ${project.name}: ${why}; removing it now would delete its project disk. First applying purge: false, so that the disk is kept.`,
    );
    stack.setFields(project.name, { purge: null });
    await applyChange(ctx, stack, {
        what: `destroy ${project.name} (step 1 of 2: keep its project disk)`,
    });
}

/** `project-vm destroy <name> [--purge] [-y]`. */
export const declareDestroy: Declare = (program, f) => {
    program
        .command("destroy")
        .description("delete a project's VM; its project disk is kept unless --purge")
        .argument("<name>", "project name")
        .option("--purge", "delete the project disk too (asks you to type the project name; with --yes, for scripts, it does not)")
        .option("-y, --yes", "do not ask")
        .action(async (name: string, o, c: Command) => {
            const w = f.where(c);
            await destroy(w.ctx, w.host(), name, o);
        });
};
