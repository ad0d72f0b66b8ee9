// How project-vm runs the backup host scripts: a function of backup.sh or restore.sh, through
// runHostScript (the one runner of host scripts), from the project folder's host-scripts/ (else
// the CLI's own).
import * as fs from "node:fs";
import * as path from "node:path";
import { runHostScript } from "../components/hostRun";

/** What a host script run gives back. */
export interface ScriptResult {
    code: number;
    stdout: string;
}

/** Runs function `fn` of host-scripts/backup.sh with `env`; its stderr lines go to `onErr` as they come. */
export type RunBackupScript = (fn: string, env: Record<string, string>, onErr: (line: string) => void) => Promise<ScriptResult>;

/** The script that defines a backup function: restore_* are restore.sh's (which calls backup.sh's), the rest backup.sh's. */
export function backupScriptOf(fn: string): { script: string; uses: string[] } {
    return fn.startsWith("restore_") ? { script: "restore.sh", uses: ["backup.sh"] } : { script: "backup.sh", uses: [] };
}

/** The real runner: runHostScript over the project folder's host-scripts/, else the CLI's own. */
export function bashRunner(dir: string, baseEnv: NodeJS.ProcessEnv): RunBackupScript {
    return async (fn, env, onErr) => {
        // The project folder's scripts (the checkout that runs pulumi up), else the CLI's own.
        const scripts =
            [
                path.join(dir, "host-scripts"),
                path.resolve(__dirname, "..", "host-scripts"),
                path.resolve(__dirname, "..", "..", "host-scripts"),
            ].find((d) => fs.existsSync(path.join(d, "backup.sh"))) ?? path.join(dir, "host-scripts");
        const r = await runHostScript({ ...backupScriptOf(fn), fn, dir: scripts, env: { ...baseEnv, ...env }, onErr });
        return { code: r.code, stdout: r.stdout };
    };
}
