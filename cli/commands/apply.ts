// `apply`: pulumi up of a host's stack file as it is.
import { StackFile } from "../stacks";
import { interruptedBy } from "../pulumi";
import { ApplyFailed, Context, lockStack, settingsOf, upAndRecord } from "./context";

/** Applies the host's stack file as it is (after a hand edit, or to retry a failed apply). */
export async function apply(ctx: Context, host: string): Promise<void> {
    using _lock = await lockStack(ctx, host, "apply");
    const stack = new StackFile(ctx.dir, host);
    settingsOf(stack);
    const code = await upAndRecord(ctx, stack);
    const signal = interruptedBy(code);
    if (signal) throw new ApplyFailed(`interrupted (${signal}); pulumi up --stack ${host} stopped after the steps it had begun: run '${ctx.command(host, "apply")}' again to finish`, code);
    if (code !== 0) throw new ApplyFailed(`pulumi up --stack ${host} failed (exit ${code}); see above`);
}
