// The one way host scripts run on this machine (outside a Pulumi command): the CLI's backups, the
// domain-slot hook and the tests call a function of host-scripts/<script> through runHostScript,
// with the same text (hostScript) and interpreter (HOST_INTERPRETER) a Pulumi command gets.
import { spawn } from "node:child_process";
import { HOST_INTERPRETER, HOST_SCRIPTS_DIR, hostScript } from "./hostScripts";

/** A call of one function of a host script. */
export interface HostScriptRun {
    /** The script under `dir` that defines `fn`, e.g. backup.sh. */
    script: string;
    /** The function to call. */
    fn: string;
    /** Other scripts whose functions `script` calls (their text comes along). */
    uses?: string[];
    /** The folder of the host scripts; default: this checkout's host-scripts/. */
    dir?: string;
    /** The whole environment of the run: the settings the function reads, and PATH (virsh). */
    env: NodeJS.ProcessEnv;
    /** Gets each line of stderr as it comes (stderr is collected either way). */
    onErr?: (line: string) => void;
    /** Kills the run after this many milliseconds: exit code 124. */
    timeoutMs?: number;
}

/** A finished run: exit code (127 when bash or the scripts could not be read), stdout and stderr. */
export interface HostScriptResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs `fn` of host-scripts/`script` with bash; never rejects. */
export function runHostScript(run: HostScriptRun): Promise<HostScriptResult> {
    return new Promise((resolve) => {
        let program: string;
        try {
            program = hostScript(run.script, run.fn, run.uses, run.dir ?? HOST_SCRIPTS_DIR);
        } catch (e) {
            const said = `project-vm: cannot read the host scripts in ${run.dir ?? HOST_SCRIPTS_DIR}: ${(e as Error).message}`;
            run.onErr?.(said);
            resolve({ code: 127, stdout: "", stderr: said });
            return;
        }
        const [bash, ...flags] = HOST_INTERPRETER;
        const child = spawn(bash, [...flags, program], { env: run.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let pending = "";
        let timedOut = false;
        const timer = run.timeoutMs
            ? setTimeout(() => {
                  timedOut = true;
                  child.kill("SIGKILL");
              }, run.timeoutMs)
            : undefined;
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => {
            stderr += d;
            if (!run.onErr) return;
            pending += d;
            let nl;
            while ((nl = pending.indexOf("\n")) >= 0) {
                run.onErr(pending.slice(0, nl));
                pending = pending.slice(nl + 1);
            }
        });
        child.on("error", (e) => {
            clearTimeout(timer);
            resolve({ code: 127, stdout, stderr: `${stderr}${e}` });
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            if (pending) run.onErr?.(pending);
            resolve({ code: timedOut ? 124 : (code ?? 1), stdout, stderr });
        });
    });
}
