// `restore`: a project's disk replaced by a backup (cli/backup.ts, host-scripts/restore.sh).
import { Command } from "commander";
import { restore } from "../backup";
import { Declare } from "../factory";

/** `project-vm restore <name> [backup] [--stop] [--confirm] [-y] [--json]`. */
export const declareRestore: Declare = (program, f) => {
    program
        .command("restore")
        .description("replace a project's disk by a backup; the replaced disk is kept aside until --confirm")
        .argument("<name>", "project name")
        .argument("[backup]", "the backup: its name from 'project-vm backups', its time stamp, or latest")
        .option("--stop", "shut the VM down first when it runs (ACPI), and start it again afterwards")
        .option("--confirm", "delete the disk(s) earlier restores kept aside")
        .option("-y, --yes", "do not ask")
        .option("--json", "JSON: {project, restored, keptAside, verified, seconds}")
        .action(async (name: string, which: string | undefined, o, c: Command) => {
            const { ctx, h } = f.backups(c);
            await restore(ctx, h, name, which, o);
        });
};
