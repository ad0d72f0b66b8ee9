// `start` and `stop`: the entry's running key, applied.
import { StackFile } from "../stacks";
import { applyChange, Context, lockStack, projectOf, settingsOf } from "./context";

/** Sets a project running or stopped and applies it. */
export async function setRunning(ctx: Context, host: string, name: string, running: boolean): Promise<void> {
    using _lock = await lockStack(ctx, host, `${running ? "start" : "stop"} ${name}`);
    const stack = new StackFile(ctx.dir, host);
    const project = projectOf(stack, settingsOf(stack), name);
    // Running is the default: a started project's entry goes back to saying nothing about it.
    // A project started is one kept: a purge: true left by a destroy --purge that failed halfway
    // goes, or removing the entry later would delete its disk.
    stack.setFields(name, running ? { running: null, purge: null } : { running: false });
    if (running && project.purge) ctx.io.err(`project-vm: ${name} was marked purge: true; starting it removes the mark, so its project disk is kept`);
    const [verb, undo] = running ? ["start", "stop"] : ["stop", "start"];
    await applyChange(ctx, stack, { what: `${verb} ${name}`, undo: `project-vm ${undo} -H ${host} ${name}` });
    ctx.io.err(`project-vm: ${name} is ${running ? "running" : "stopped"}`);
}
