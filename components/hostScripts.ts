// The text of the host scripts (host-scripts/) as it runs: a script's functions with only the
// library functions they call, a call of one of them, packed for a Pulumi command's environment,
// and the interpreter. No Pulumi here: the CLI loads it to run the backup scripts.
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

/** The folder holding the host scripts. */
export const HOST_SCRIPTS_DIR = path.join(__dirname, "..", "host-scripts");

/** lib.sh split into what runs first (strict mode, checks) and its functions, by name. */
function library(dir: string): { prelude: string; functions: Map<string, string> } {
    const functions = new Map<string, string>();
    const prelude: string[] = [];
    let current: string[] | undefined;
    for (const line of fs.readFileSync(path.join(dir, "lib.sh"), "utf8").split("\n")) {
        const start = /^([a-z_]+)\(\) \{$/.exec(line);
        if (start) functions.set(start[1], (current = [line]).join("\n"));
        else if (current) current.push(line);
        else prelude.push(line);
        if (current && line === "}") {
            functions.set(/^([a-z_]+)/.exec(current[0])![1], current.join("\n"));
            current = undefined;
        }
    }
    return { prelude: prelude.join("\n"), functions };
}

/** Full-line comments and blank lines left out: they do not run, and every VM's state holds this text. */
function withoutComments(text: string): string {
    return text
        .split("\n")
        .filter((l) => l.trim() !== "" && !/^\s*#/.test(l))
        .join("\n");
}

/**
 * The shell program of host-scripts/`script`: lib.sh's prelude and only the library functions it
 * calls (directly or through each other), the scripts it `uses`, then its own functions; comment
 * lines left out. No here-document or multi-line string of the host scripts holds a line that
 * starts with `#` (the tests run every function of this text).
 */
export function hostProgram(script: string, uses: string[] = [], dir = HOST_SCRIPTS_DIR): string {
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    const own = [...uses.map(read), read(script)].join("\n");
    const { prelude, functions } = library(dir);
    const needed = new Set<string>();
    let text = own;
    for (let grew = true; grew;) {
        grew = false;
        for (const [name, body] of functions) {
            if (!needed.has(name) && new RegExp(`\\b${name}\\b`).test(text)) {
                needed.add(name);
                text += `\n${body}`;
                grew = true;
            }
        }
    }
    const lib = [...functions].filter(([name]) => needed.has(name)).map(([, body]) => body);
    return withoutComments([prelude, ...lib, own].join("\n"));
}

/**
 * The shell text that calls `fn` of host-scripts/`script` (see hostProgram): run with bash -c,
 * its settings in the environment. Tests and the e2e run host scripts through it.
 */
export function hostScript(script: string, fn: string, uses: string[] = [], dir = HOST_SCRIPTS_DIR): string {
    if (!new RegExp(`^${fn}\\(\\) \\{$`, "m").test(fs.readFileSync(path.join(dir, script), "utf8"))) {
        throw new Error(`host-scripts/${script} has no function ${fn}`);
    }
    return `${hostProgram(script, uses, dir)}\n${fn}\n`;
}

/** The environment variable that carries a command's program, packed (gzip, then base64). */
export const PROGRAM_VAR = "PROJECT_VMS_PROGRAM";

/** How a command unpacks its program before it calls one of its functions. */
const UNPACK = `eval "$(printf '%s' "$${PROGRAM_VAR}" | base64 -d | gzip -dc)"`;

/**
 * A command's create/update/delete calls of functions of host-scripts/`script`, with the program
 * once, packed, in the environment: the command still runs from Pulumi's state alone (a delete
 * after the checkout changed runs what was applied), at a fraction of the inlined size.
 */
export function hostCalls(
    script: string,
    calls: { create: string; update?: string; delete?: string },
    uses: string[] = [],
): { create: string; update?: string; delete?: string; program: Record<string, string> } {
    for (const fn of Object.values(calls)) if (fn) hostScript(script, fn, uses); // each must exist
    const call = (fn?: string) => fn && `${UNPACK}\n${fn}\n`;
    return {
        create: call(calls.create)!,
        ...(calls.update ? { update: call(calls.update) } : {}),
        ...(calls.delete ? { delete: call(calls.delete) } : {}),
        program: { [PROGRAM_VAR]: zlib.gzipSync(hostProgram(script, uses), { level: 9 }).toString("base64") },
    };
}

/** The program a packed command carries, unpacked: for tests and for reading a command in state. */
export function unpackProgram(packed: string): string {
    return zlib.gunzipSync(Buffer.from(packed, "base64")).toString("utf8");
}

/** How every host script runs: a Pulumi command's interpreter, and runHostScript's. */
export const HOST_INTERPRETER = ["/bin/bash", "-c"];
