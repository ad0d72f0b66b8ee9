// `undo`: the stack file as it was before project-vm's latest change of it, exactly, applied.
import * as fs from "node:fs";
import * as path from "node:path";
import { StackFile, UsageError } from "../stacks";
import { forgetUndo, readUndo } from "../undo";
import { ApplyFailed, Context, lockStack, requirePulumi, settingsOf, upAndRecord } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Restores the host's stack file from before the latest project-vm change and applies it. */
export async function undo(ctx: Context, host: string): Promise<void> {
    using _lock = await lockStack(ctx, host, "undo");
    const record = readUndo(ctx.dir, host);
    const stack = new StackFile(ctx.dir, host);
    const file = path.basename(stack.path);
    if (!record) throw new UsageError(`there is no project-vm change of ${file} to undo`);
    if (fs.readFileSync(stack.path, "utf8") !== record.after) {
        throw new UsageError(`${file} has changed since '${record.what}' (${record.at}); undoing it would lose that. Nothing changed`);
    }
    await requirePulumi(ctx);
    stack.restore(record.before, `undo ${record.what}`);
    if (record.lost) {
        // What was purged is gone: the entry comes back, never armed to purge its new disk.
        const restored = new StackFile(ctx.dir, host);
        const armed = settingsOf(restored)
            .projects.filter((p) => p.purge)
            .map((p) => p.name);
        for (const name of armed) restored.setFields(name, { purge: null });
        if (armed.length) restored.save(`undo ${record.what}: purge marks removed`);
        ctx.io.err(`project-vm: undo ${record.what}: it cannot be undone fully: ${record.lost}.`);
    }
    forgetUndo(ctx.dir, host);
    ctx.io.err(`project-vm: undo ${record.what}: ${stack.path} is as it was before; applying it (pulumi up --stack ${host})`);
    const code = await upAndRecord(ctx, stack);
    if (code !== 0) {
        throw new ApplyFailed(
            `undo ${record.what}: pulumi up --stack ${host} failed (exit ${code}); ${stack.path} is as it was before the change. ` +
                `Fix the cause shown above and run '${ctx.command(host, "apply")}'.`,
        );
    }
    ctx.io.err(
        record.lost
            ? `project-vm: '${record.what}' is undone as far as it can be (${record.lost})`
            : `project-vm: '${record.what}' is undone`,
    );
}

/** `project-vm undo`. */
export const declareUndo: Declare = (program, f) => {
    program
        .command("undo")
        .description("put the host's stack file back as it was before project-vm's latest change of it, and apply it")
        .action(async (_o, c: Command) => {
            const w = f.where(c);
            await undo(w.ctx, w.host());
        });
};
