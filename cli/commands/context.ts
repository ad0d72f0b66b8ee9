// What every command shares: the outside world (Context: Pulumi, libvirt, the terminal), how a
// change is written and applied, and the parsing of sizes given on the command line.
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, memoryMiB, parseSize, Project, Settings } from "../../components/config";
import { Libvirt } from "../libvirt";
import { lockFile, StackLock } from "../lock";
import { interruptedBy, MIN_PULUMI, PulumiRunner, PulumiUnavailable, versionAtLeast } from "../pulumi";
import { readApplied, readUndo, recordApplied, recordUndo } from "../undo";
import { isPulumiRewrite } from "../stackText";
import { StackFile, stackFilePath, UsageError } from "../stacks";

/** The terminal. */
export interface Io {
    /** Writes a line of results to stdout. */
    out(line: string): void;
    /** Writes a line of progress, warning or advice to stderr. */
    err(line: string): void;
    /** Asks a question on the terminal; undefined when there is no terminal to ask on. */
    ask(question: string): Promise<string | undefined>;
}

/** Everything a command touches outside its own logic. */
export interface Context {
    /** The Pulumi project folder. */
    dir: string;
    /** Pulumi: apply a stack, read its outputs. */
    pulumi: PulumiRunner;
    /** libvirt of a host, by URI. */
    libvirt(uri: string): Libvirt;
    /** Runs a program attached to the terminal (ssh, virsh console); resolves to its exit code. */
    interactive(cmd: string, args: string[]): Promise<number>;
    /** The terminal. */
    io: Io;
    /** How long a change waits for another change of the same stack file (default 10 minutes). */
    lockWaitMs?: number;
    /**
     * A project-vm command line to print, that works pasted in any folder: `project-vm [-C <dir>]
     * -H <host> <args>` (the folder is named unless it is the checkout the CLI was installed from).
     */
    command(host: string, ...args: string[]): string;
}

/** `command` of a Context: names the folder unless it is where the CLI was installed from. */
export function commandLine(dir: string, installedAt: string): Context["command"] {
    // A placeholder (<name>) is for the user to replace, not a word to quote: a hint is printed
    // inside quotes, and quotes within would nest.
    const quote = (a: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(a) || /^<[a-z][a-z -]*>$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
    return (host, ...args) => ["project-vm", ...(dir === installedAt ? [] : ["-C", dir]), "-H", host, ...args].map(quote).join(" ");
}

/** An operation that failed after the stack file was changed: exit code 1, and what to do next. */
export class ApplyFailed extends Error {
    /** @param exitCode the exit code for it (1; 128 + the signal's number when interrupted) */
    constructor(
        message: string,
        readonly exitCode = 1,
    ) {
        super(message);
        this.name = "ApplyFailed";
    }
}

/** `8192` (MiB) or a size with a unit (`8G`) → MiB. */
export function parseMemory(text: string): number {
    // One grammar with the stack file's memory keys.
    const mib = memoryMiB(text);
    if (mib === undefined) throw new UsageError(`memory must be MiB (e.g. 8192) or a size with a unit (e.g. 8G), got '${text}'`);
    return mib;
}

/** A whole number of vCPUs. */
export function parseCpus(text: string): number {
    if (!/^\d+$/.test(text.trim())) throw new UsageError(`cpus must be a whole number (e.g. 4), got '${text}'`);
    return Number(text);
}

/** A project disk size (`100G`). */
export function parseDisk(text: string): string {
    const size = parseSize(text);
    if (!size) throw new UsageError(`disk must be a size with a unit K, M, G or T (binary: 100G = 100 GiB), got '${text}'`);
    return size.text;
}

export function settingsOf(stack: StackFile): Settings {
    try {
        return stack.settings();
    } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(`${stack.path}: ${e.message}`);
        throw e;
    }
}

export function projectOf(stack: StackFile, settings: Settings, name: string): Project {
    const project = settings.projects.find((p) => p.name === name);
    if (!project) throw new UsageError(stack.noSuchProject(name));
    return project;
}

/** Asks for a yes; `yes` answers it in advance. No terminal and no `yes` is a refusal, with the flag to give. */
export async function confirm(io: Io, question: string, yes: boolean | undefined): Promise<boolean> {
    if (yes) return true;
    const answer = await io.ask(`${question} [y/N] `);
    if (answer === undefined) throw new UsageError(`${question} — there is no terminal to ask on; give --yes to confirm`);
    return /^y(es)?$/i.test(answer.trim());
}

/**
 * Holds the host's stack file for one change, from reading it to the end of `pulumi up`: a second
 * change of the same file waits (saying for whom) instead of overwriting the first one's entry.
 */
export function lockStack(ctx: Pick<Context, "dir" | "io" | "lockWaitMs">, host: string, what: string): Promise<StackLock> {
    return lockFile(stackFilePath(ctx.dir, host), {
        command: `project-vm ${what}`,
        waitMs: ctx.lockWaitMs ?? 10 * 60_000,
        onWait: (m) => ctx.io.err(`project-vm: ${m} (up to ${Math.round((ctx.lockWaitMs ?? 10 * 60_000) / 1000)}s)`),
    });
}

/** A change of a stack file that project-vm writes and applies. */
export interface AppliedChange {
    /** The change as the user asked for it, e.g. `destroy webapp`. */
    what: string;
    /** The text undo goes back to, when not the file as it is now (a change made in steps). */
    undoTo?: string;
    /** What the change destroys that undo cannot bring back. */
    lost?: string;
}

/**
 * Writes the edited stack file (after checking that Pulumi is there to apply it, and keeping the
 * text it replaces for `project-vm undo`), applies it, and on failure says what the file now holds
 * and the two ways on — both commands that work as printed.
 */
export async function applyChange(ctx: Context, stack: StackFile, change: AppliedChange): Promise<void> {
    await requirePulumi(ctx);
    const before = change.undoTo ?? fs.readFileSync(stack.path, "utf8");
    noteUnapplied(ctx, stack, change.what);
    stack.save(change.what);
    const undo = ctx.command(stack.host, "undo");
    try {
        recordUndo(ctx.dir, stack.host, {
            what: change.what,
            before,
            after: fs.readFileSync(stack.path, "utf8"),
            at: new Date().toISOString(),
            ...(change.lost ? { lost: change.lost } : {}),
        });
    } catch (e) {
        ctx.io.err(`project-vm: warning: could not keep the previous ${path.basename(stack.path)} for undo (${(e as Error).message})`);
    }
    ctx.io.err(`project-vm: ${change.what}: ${stack.path} updated; applying it (pulumi up --stack ${stack.host})`);
    let code: number;
    try {
        code = await upAndRecord(ctx, stack);
    } catch (e) {
        if (!(e instanceof PulumiUnavailable)) throw e;
        throw new ApplyFailed(
            `${change.what}: ${stack.path} was changed, but it could not be applied: ${e.message}. ` +
                `Apply it later with '${ctx.command(stack.host, "apply")}', or undo the change with '${undo}'.`,
        );
    }
    const signal = interruptedBy(code);
    if (signal) {
        throw new ApplyFailed(
            `${change.what}: interrupted (${signal}); pulumi up --stack ${stack.host} stopped after the steps it had begun, ` +
                `so part of the change may be applied. ${stack.path} keeps the change: apply the rest with '${ctx.command(stack.host, "apply")}', ` +
                `or take it back with '${undo}'.`,
            code,
        );
    }
    if (code !== 0) {
        throw new ApplyFailed(
            `${change.what}: pulumi up --stack ${stack.host} failed (exit ${code}); ${stack.path} keeps the change. ` +
                `Fix the cause shown above and run '${ctx.command(stack.host, "apply")}', or undo the change with '${undo}'.`,
        );
    }
}

/**
 * Says so when the stack file holds edits project-vm did not apply (an interrupted or failed
 * apply, an edit by hand) that `what` is about to apply along with its own.
 */
export function noteUnapplied(ctx: Context, stack: StackFile, what: string): void {
    const applied = readApplied(ctx.dir, stack.host);
    if (applied && applied.text !== fs.readFileSync(stack.path, "utf8")) {
        ctx.io.err(
            `project-vm: note: ${path.basename(stack.path)} also holds changes that were not applied since ${applied.at} ` +
                `(an interrupted or failed apply, or an edit by hand): '${what}' applies them too`,
        );
    }
}

/** `pulumi up` of the stack file as it is now; on success its text is recorded as applied. */
export async function upAndRecord(ctx: Context, stack: StackFile, opts: { replace?: string[] } = {}): Promise<number> {
    const text = fs.readFileSync(stack.path, "utf8");
    const code = await ctx.pulumi.up(stack.host, opts);
    // Pulumi may have rewritten the file (its encryption salt, its formatting): what project-vm
    // keeps of it (the text applied, undo's record of the change) follows, so that undo is not
    // refused for Pulumi's own writing.
    let now = text;
    try {
        now = fs.readFileSync(stack.path, "utf8");
    } catch {
        // gone meanwhile: nothing to follow
    }
    const rewritten = now !== text && isPulumiRewrite(text, now);
    if (rewritten) {
        ctx.io.err(
            `project-vm: note: Pulumi rewrote ${path.basename(stack.path)} (its encryption salt or formatting; the config is the same)`,
        );
        const record = readUndo(ctx.dir, stack.host);
        if (record && record.after === text) recordUndo(ctx.dir, stack.host, { ...record, after: now });
    }
    if (code === 0) {
        try {
            recordApplied(ctx.dir, stack.host, rewritten ? now : text);
        } catch (e) {
            ctx.io.err(`project-vm: warning: could not record what was applied (${(e as Error).message})`);
        }
    }
    return code;
}

/** A Pulumi CLI new enough for the program, or a UsageError before anything is written. */
export async function requirePulumi(ctx: Context): Promise<void> {
    let version: string;
    try {
        version = await ctx.pulumi.version();
    } catch (e) {
        if (e instanceof PulumiUnavailable) throw new UsageError(`${e.message}; nothing changed`);
        throw e;
    }
    if (!versionAtLeast(version, MIN_PULUMI)) {
        throw new UsageError(
            `the Pulumi CLI is ${version}; this program needs ${MIN_PULUMI} or newer (its replaceWith option); nothing changed`,
        );
    }
}
