// Running a program and collecting what it says: never throws for a failing or missing program.
import { spawn } from "node:child_process";
import * as os from "node:os";

/** A finished program: exit code (127 when it is not there, 126 when it could not be run, as a shell says), stdout and stderr. */
export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * What a failed program gives as its reason: its last line that is not blank, trimmed, without
 * the `error: ` that Pulumi and virsh put before it (only there: a message that mentions `error:`
 * later is kept whole); `fallback` when it said nothing.
 */
export function reasonOf(stderr: string, fallback: string): string {
    const last = stderr
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
        .pop();
    return last === undefined ? fallback : last.replace(/^error:\s*/, "");
}

/** Runs `cmd` with `args`, stdin closed; kills it after `timeoutMs` (exit code 124 then). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        const timer = opts.timeoutMs
            ? setTimeout(() => {
                  timedOut = true;
                  child.kill("SIGKILL");
              }, opts.timeoutMs)
            : undefined;
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", (e: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            resolve(e.code === "ENOENT" ? { code: 127, stdout, stderr: `${cmd}: not found` } : { code: 126, stdout, stderr: String(e) });
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr: timedOut ? `${stderr}${cmd}: timed out` : stderr });
        });
    });
}

/**
 * Runs an interactive program attached to the terminal; resolves to its exit code. Ctrl+C
 * belongs to it (the terminal sends SIGINT to both): this process waits for it to end.
 */
export function interactive(cmd: string, args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const ignore = () => undefined;
        process.on("SIGINT", ignore);
        const done = () => process.off("SIGINT", ignore);
        const child = spawn(cmd, args, { stdio: "inherit" });
        child.on("error", (e: NodeJS.ErrnoException) => {
            done();
            reject(new Error(e.code === "ENOENT" ? `${cmd} is not installed or not on PATH` : `${cmd}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            done();
            resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
        });
    });
}
