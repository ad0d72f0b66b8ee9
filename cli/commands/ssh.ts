// `ssh`: log in, offering to start a stopped VM first.
import { GUEST_USER } from "../../components/cloudInit";
import { UsageError } from "../stacks";
import { Context } from "./context";
import { viewProject } from "./view";
import { setRunning } from "./power";
import { Command } from "commander";
import { Declare } from "../factory";

/** Logs in to a project (starting it first when it is stopped and the user agrees); resolves to ssh's exit code. */
export async function ssh(ctx: Context, host: string, name: string, args: string[], opts: { start?: boolean }): Promise<number> {
    let { row } = await viewProject(ctx, host, name);
    if (row.desired === "stopped" || (row.state !== null && row.state !== "running")) {
        const why = row.desired === "stopped" ? "is stopped (running: false)" : `is ${row.state}`;
        if (!opts.start) {
            const answer = await ctx.io.ask(`${row.hostname} ${why}. Start it? [Y/n] `);
            if (answer === undefined)
                throw new UsageError(
                    `${row.hostname} ${why}; start it with '${ctx.command(host, "start", name)}' or '${ctx.command(host, "ssh", "--start", name)}'`,
                );
            if (!/^(y(es)?)?$/i.test(answer.trim())) return 1;
        }
        await setRunning(ctx, host, name, true);
        ({ row } = await viewProject(ctx, host, name));
    }
    const address = row.fqdn ?? row.ip;
    if (!address)
        throw new UsageError(
            `no address known for ${row.hostname}: it is not on the tailnet, and neither the stack outputs nor libvirt know its IP`,
        );
    return ctx.interactive("ssh", [`${GUEST_USER}@${address}`, ...args]);
}

/** `project-vm ssh <name> [--start] [-- args...]`: its exit code is ssh's. */
export const declareSsh: Declare = (program, f) => {
    program
        .command("ssh")
        .description("log in as dev (over the tailnet, else to the VM's IP); offers to start a stopped VM")
        .argument("<name>", "project name")
        .argument("[args...]", "more ssh arguments, after --")
        .option("--start", "start a stopped VM without asking")
        .action(async (name: string, args: string[], o, c: Command) => {
            const w = f.where(c);
            f.setCode(await ssh(w.ctx, w.host(), name, args, o));
        });
};
