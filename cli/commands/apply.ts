// `apply`: pulumi up of a host's stack file as it is.
import { StackFile } from "../stacks";
import { ApplyFailed, Context, lockStack, settingsOf } from "./context";

/** Applies the host's stack file as it is (after a hand edit, or to retry a failed apply). */
export async function apply(ctx: Context, host: string): Promise<void> {
    using _lock = await lockStack(ctx, host, "apply");
    const stack = new StackFile(ctx.dir, host);
    settingsOf(stack);
    const code = await ctx.pulumi.up(host);
    if (code !== 0) throw new ApplyFailed(`pulumi up --stack ${host} failed (exit ${code}); see above`);
}
