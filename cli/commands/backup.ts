// `backup`: a project's disk backed up (cli/backup.ts, host-scripts/backup.sh).
import { Command } from "commander";
import { backup } from "../backup";
import { Declare, EXIT } from "../factory";

/** `project-vm backup [name] [-a] [--full] [--json]`: exit 1 when a backup failed. */
export const declareBackup: Declare = (program, f) => {
    program
        .command("backup")
        .description("back up a project's disk (consistent: frozen through the guest agent), full or incremental, then apply retention")
        .argument("[name]", "project name")
        .option("-a, --all", "every project of the host whose VM runs, and stopped ones whose disk changed since their newest backup")
        .option("--full", "a full backup even when an incremental could be made")
        .option("--json", "JSON: {host, backups: [{project, ok, volume, kind, size, seconds, deleted, error, skipped}]}")
        .action(async (name: string | undefined, o, c: Command) => {
            const { ctx, h } = f.backups(c);
            f.setCode((await backup(ctx, h, name, o)) ? EXIT.ok : EXIT.failed);
        });
};
