// `apply`: pulumi up of a host's stack file as it is.
import { StackFile } from "../stacks";
import { interruptedBy } from "../pulumi";
import { ApplyFailed, Context, lockStack, settingsOf, upAndRecord } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** Applies the host's stack file as it is (after a hand edit, or to retry a failed apply). */
export async function apply(ctx: Context, host: string): Promise<void> {
    using _lock = await lockStack(ctx, host, "apply");
    const stack = new StackFile(ctx.dir, host);
    settingsOf(stack);
    const code = await upAndRecord(ctx, stack);
    const signal = interruptedBy(code);
    if (signal)
        throw new ApplyFailed(
            `interrupted (${signal}); pulumi up --stack ${host} stopped after the steps it had begun: run '${ctx.command(host, "apply")}' again to finish`,
            code,
        );
    if (code !== 0) throw new ApplyFailed(`pulumi up --stack ${host} failed (exit ${code}); see above`);
}

/** `project-vm apply`. */
export const declareApply: Declare = (program, f) => {
    program
        .command("apply")
        .description("apply the host's stack file as it is (pulumi up), e.g. after a failed change")
        .action(async (_o, c: Command) => {
            const w = f.where(c);
            await apply(w.ctx, w.host());
        });
};
