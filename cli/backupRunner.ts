// How project-vm runs the backup host scripts: lib.sh, backup.sh and restore.sh with the call of
// one function, in bash, from the project folder's host-scripts/ (else the CLI's own).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** What a host script run gives back. */
export interface ScriptResult {
    code: number;
    stdout: string;
}

/** Runs function `fn` of host-scripts/backup.sh with `env`; its stderr lines go to `onErr` as they come. */
export type RunBackupScript = (fn: string, env: Record<string, string>, onErr: (line: string) => void) => Promise<ScriptResult>;

/** The real runner: bash with lib.sh, backup.sh, restore.sh and the call, from the project folder's host-scripts/. */
export function bashRunner(dir: string, baseEnv: NodeJS.ProcessEnv): RunBackupScript {
    return (fn, env, onErr) => new Promise((resolve) => {
        // The project folder's scripts (the checkout that runs pulumi up), else the CLI's own.
        const scripts = [path.join(dir, "host-scripts"), path.resolve(__dirname, "..", "host-scripts"), path.resolve(__dirname, "..", "..", "host-scripts")]
            .find((d) => fs.existsSync(path.join(d, "backup.sh"))) ?? path.join(dir, "host-scripts");
        let program: string;
        try {
            program = ["lib.sh", "backup.sh", "restore.sh"].map((f) => fs.readFileSync(path.join(scripts, f), "utf8")).join("\n") + `\n${fn}\n`;
        } catch (e) {
            onErr(`project-vm: cannot read the host scripts in ${scripts}: ${(e as Error).message}`);
            resolve({ code: 127, stdout: "" });
            return;
        }
        const child = spawn("bash", ["-c", program], { env: { ...baseEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let pending = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => {
            pending += d;
            let nl;
            while ((nl = pending.indexOf("\n")) >= 0) {
                onErr(pending.slice(0, nl));
                pending = pending.slice(nl + 1);
            }
        });
        child.on("error", (e) => resolve({ code: 127, stdout: `${e}` }));
        child.on("close", (code) => {
            if (pending) onErr(pending);
            resolve({ code: code ?? 1, stdout });
        });
    });
}
