// `ssh`: log in, offering to start a stopped VM first.
import { GUEST_USER } from "../../components/cloudInit";
import { UsageError } from "../stacks";
import { Context } from "./context";
import { viewProject } from "./view";
import { setRunning } from "./power";

/** Logs in to a project (starting it first when it is stopped and the user agrees); resolves to ssh's exit code. */
export async function ssh(ctx: Context, host: string, name: string, args: string[], opts: { start?: boolean }): Promise<number> {
    let { row } = await viewProject(ctx, host, name);
    if (row.desired === "stopped" || (row.state !== null && row.state !== "running")) {
        const why = row.desired === "stopped" ? "is stopped (running: false)" : `is ${row.state}`;
        if (!opts.start) {
            const answer = await ctx.io.ask(`${row.hostname} ${why}. Start it? [Y/n] `);
            if (answer === undefined) throw new UsageError(`${row.hostname} ${why}; start it with '${ctx.command(host, "start", name)}' or '${ctx.command(host, "ssh", "--start", name)}'`);
            if (!/^(y(es)?)?$/i.test(answer.trim())) return 1;
        }
        await setRunning(ctx, host, name, true);
        ({ row } = await viewProject(ctx, host, name));
    }
    const address = row.fqdn ?? row.ip;
    if (!address) throw new UsageError(`no address known for ${row.hostname}: it is not on the tailnet, and neither the stack outputs nor libvirt know its IP`);
    return ctx.interactive("ssh", [`${GUEST_USER}@${address}`, ...args]);
}
