// Running a program and collecting what it says: never throws for a failing or missing program.
import { spawn } from "node:child_process";

/** A finished program: exit code (127 when it could not be started), stdout and stderr. */
export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs `cmd` with `args`, stdin closed; kills it after `timeoutMs` (exit code 124 then). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        const timer = opts.timeoutMs ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, opts.timeoutMs) : undefined;
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", (e: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            resolve({ code: 127, stdout, stderr: e.code === "ENOENT" ? `${cmd}: not found` : String(e) });
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr: timedOut ? `${stderr}${cmd}: timed out` : stderr });
        });
    });
}

/** Runs an interactive program attached to the terminal; resolves to its exit code. */
export function interactive(cmd: string, args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: "inherit" });
        child.on("error", (e: NodeJS.ErrnoException) => reject(new Error(e.code === "ENOENT" ? `${cmd} is not installed or not on PATH` : `${cmd}: ${e.message}`)));
        child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}
