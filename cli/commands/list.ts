// `list`: the projects of one host or all, as a table, JSON or bare names.
import { projectNameProblem } from "../../components/config";
import { StackFile, UsageError } from "../stacks";
import { Context } from "./context";
import { stateText, table, viewHost } from "./view";
import { Command } from "commander";
import { Declare } from "../factory";

/** Options of `list`. */
export interface ListOptions {
    /** Print JSON: `{projects: ProjectRow[], warnings: string[]}`. */
    json?: boolean;
    /** Print the project names only. */
    quiet?: boolean;
}

/** Lists the projects of the given hosts. */
export async function list(ctx: Context, hosts: string[], opts: ListOptions): Promise<void> {
    if (opts.quiet) {
        // For scripts and shell completion: only names the program would accept, never text a
        // shell could take for code.
        for (const host of hosts) {
            let names: string[];
            try {
                names = new StackFile(ctx.dir, host).projectNames();
            } catch (e) {
                if (!(e instanceof UsageError)) throw e;
                ctx.io.err(`project-vm: warning: ${host}: ${e.message}`);
                continue;
            }
            for (const name of names) if (!projectNameProblem(name)) ctx.io.out(name);
        }
        return;
    }
    const views = await Promise.all(hosts.map((h) => viewHost(ctx, h)));
    const rows = views.flatMap((v) => v.rows);
    const warnings = views.flatMap((v) => v.warnings);
    if (opts.json) {
        ctx.io.out(JSON.stringify({ projects: rows, warnings }, null, 2));
        return;
    }
    ctx.io.err(`project-vm: ${hosts.map((h) => `Pulumi.${h}.yaml`).join(", ")} in ${ctx.dir}`);
    for (const w of warnings) ctx.io.err(`project-vm: warning: ${w}`);
    const unreadable = hosts.filter((_, i) => views[i].unreadable);
    if (rows.length === 0 && unreadable.length > 0) {
        const rest = hosts.filter((h) => !unreadable.includes(h));
        // Not "no projects": nobody knows.
        throw new UsageError(
            `the projects of ${unreadable.join(", ")} are unknown: ${unreadable.length === 1 ? "its stack file" : "their stack files"} could not be read (see above)` +
                (rest.length > 0 ? `; ${rest.join(", ")} ${rest.length === 1 ? "has" : "have"} none` : ""),
        );
    }
    if (rows.length === 0) {
        ctx.io.err(
            `project-vm: no projects on ${hosts.join(", ")}; add one with '${ctx.command(hosts.length === 1 ? hosts[0] : "<host>", "create", "<name>")}'`,
        );
        return;
    }
    const show = (v: string | number | null) => (v === null ? "-" : String(v));
    for (const l of table(
        ["HOST", "NAME", "STATE", "MEMORY", "CPUS", "DISK", "ADDRESS"],
        rows.map((r) => [
            r.host,
            r.name,
            stateText(r),
            r.memory === null ? "-" : `${r.memory}M`,
            show(r.cpus),
            show(r.disk),
            show(r.fqdn ?? r.ip),
        ]),
    ))
        ctx.io.out(l);
}

/** `project-vm list [-a] [--json] [-q]` (alias ls). */
export const declareList: Declare = (program, f) => {
    program
        .command("list")
        .alias("ls")
        .description("the projects of the host (or of all hosts): wanted and live state, size, address")
        .option("-a, --all", "every host")
        .option("--json", "JSON: {projects: [...], warnings: [...]}")
        .option("-q, --quiet", "project names only")
        .action(async (o, c: Command) => {
            const w = f.where(c);
            await list(w.ctx, w.allOrOne(o.all), o);
        });
};
