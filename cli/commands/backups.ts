// `backups`: a project's backups listed (cli/backup.ts).
import { Command } from "commander";
import { backups } from "../backup";
import { Declare } from "../factory";

/** `project-vm backups <name> [--json]`. */
export const declareBackups: Declare = (program, f) => {
    program
        .command("backups")
        .description("list a project's backups: time, kind, size (also after the project was removed)")
        .argument("<name>", "project name")
        .option("--json", "JSON: {host, project, dir, backups: [{volume, time, kind, size, capacity, base, chainSize}], total, keptAside}")
        .action(async (name: string, o, c: Command) => {
            const { ctx, h } = f.backups(c);
            await backups(ctx, h, name, o);
        });
};
