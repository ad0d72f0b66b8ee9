// One change at a time per stack file: an exclusive lock held from reading the file to the end of
// `pulumi up`. Node has no flock, so the lock is a file beside the stack file, `.Pulumi.<host>.yaml.lock`,
// made complete and then linked into place (link fails if it exists: atomic, never half-written).
// It says who holds it: pid, the process's start time (so a reused pid is not taken for the
// holder), hostname and command. A holder that died (crash, kill -9, Ctrl+C) leaves it behind;
// the next command sees that pid is gone on this machine and takes the lock over.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "./stacks";

/** What a lock file says about its holder. */
export interface LockHolder {
    pid: number;
    /** The holder's start time as the kernel counts it (Linux), with the boot id; "" when unknown. */
    started: string;
    hostname: string;
    /** What it is doing, e.g. `project-vm create foo`. */
    command: string;
    /** When it took the lock (ISO time). */
    since: string;
}

/** Another command holds the lock for longer than we may wait: nothing was changed. */
export class LockBusy extends UsageError {
    constructor(message: string) {
        super(message);
        this.name = "LockBusy";
    }
}

/** A held lock: released once, by `release()` or at the end of a `using` block. */
export interface StackLock extends Disposable {
    readonly path: string;
    release(): void;
}

/** The lock file of a file: beside the file it stands for (after symlinks), `.<name>.lock`. */
export function lockPathOf(file: string): string {
    let real = file;
    try {
        real = fs.realpathSync(file);
    } catch {
        // not there (yet): the lock stands beside the name given
    }
    return path.join(path.dirname(real), `.${path.basename(real)}.lock`);
}

/** A process's start time (Linux: boot id + clock ticks since boot); "" when it cannot be read. */
export function processStart(pid: number): string {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // The command name (field 2) is in parentheses and may hold spaces: count from after it.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
        return `${boot}/${fields[19]}`;
    } catch {
        return "";
    }
}

/** Whether the process that wrote `holder` is gone (only knowable for holders on this machine). */
export function holderIsGone(holder: LockHolder): boolean {
    if (holder.hostname !== os.hostname()) return false;
    try {
        process.kill(holder.pid, 0);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ESRCH") return true;
        // EPERM: it exists (someone else's process)
    }
    if (holder.started) {
        const now = processStart(holder.pid);
        if (now && now !== holder.started) return true; // the pid was reused
    }
    return false;
}

function readHolder(lock: string): { text: string; holder?: LockHolder } | undefined {
    let text: string;
    try {
        text = fs.readFileSync(lock, "utf8");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
    try {
        const h = JSON.parse(text);
        if (typeof h?.pid === "number" && typeof h.hostname === "string") return { text, holder: h };
    } catch {
        // not a lock file we wrote
    }
    return { text };
}

function describe(h: LockHolder | undefined): string {
    if (!h) return "another process";
    return `pid ${h.pid}${h.hostname !== os.hostname() ? ` on ${h.hostname}` : ""} (${h.command}, since ${h.since})`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Removes a lock file whose holder is gone — unless it changed since it was read (another
 * command broke it first and holds a fresh one). The removal itself is done under a second,
 * short-lived lock so that two commands breaking the same stale lock cannot remove each other's.
 * False when another command is breaking it now.
 */
function breakStale(lock: string, seen: string): boolean {
    const breaker = `${lock}.break`;
    try {
        fs.writeFileSync(breaker, String(process.pid), { flag: "wx" });
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        // Someone is breaking it now; a breaker left by a crash for more than 10 s is removed.
        try {
            if (Date.now() - fs.statSync(breaker).mtimeMs > 10_000) fs.rmSync(breaker, { force: true });
        } catch {
            // gone meanwhile
        }
        return false;
    }
    try {
        if (readHolder(lock)?.text === seen) fs.rmSync(lock, { force: true });
    } finally {
        fs.rmSync(breaker, { force: true });
    }
    return true;
}

/**
 * Takes the exclusive lock of `file` for `command`. While another live command holds it, says
 * once whom it waits for (through `onWait`) and polls, for up to `waitMs`; then refuses with a
 * LockBusy naming the holder. A lock whose holder died is taken over.
 */
export async function lockFile(
    file: string,
    opts: { command: string; waitMs: number; onWait(message: string): void; pollMs?: number },
): Promise<StackLock> {
    const lock = lockPathOf(file);
    const me: LockHolder = {
        pid: process.pid,
        started: processStart(process.pid),
        hostname: os.hostname(),
        command: opts.command,
        since: new Date().toISOString(),
    };
    const text = `${JSON.stringify(me)}\n`;
    const tmp = `${lock}.${process.pid}.tmp`;
    const deadline = Date.now() + opts.waitMs;
    let told = false;
    for (;;) {
        let taken = false;
        try {
            fs.writeFileSync(tmp, text);
            try {
                fs.linkSync(tmp, lock);
            } catch (e) {
                // A file system without hard links: create it exclusively instead (for a moment
                // it is empty, which a waiting command takes for a live holder).
                if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
                fs.writeFileSync(lock, text, { flag: "wx" });
            }
            taken = true;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        } finally {
            fs.rmSync(tmp, { force: true });
        }
        if (taken) break;
        const seen = readHolder(lock);
        if (!seen) continue; // released meanwhile
        if (seen.holder && seen.holder.pid === process.pid && seen.holder.hostname === me.hostname && seen.holder.started === me.started) {
            // Waiting for ourselves would never end.
            throw new Error(
                `${path.basename(file)} is already locked by this very command (${seen.holder.command}); this is a bug in project-vm`,
            );
        }
        if (seen.holder && holderIsGone(seen.holder)) {
            // While another command breaks it, wait a moment rather than spin.
            if (!breakStale(lock, seen.text)) await sleep(opts.pollMs ?? 100);
            continue;
        }
        const name = path.basename(file);
        if (Date.now() >= deadline) {
            const where = seen.holder && seen.holder.hostname !== os.hostname() ? ` on ${seen.holder.hostname}` : "";
            throw new LockBusy(
                `${name} is being changed by ${describe(seen.holder)}; gave up waiting after ${Math.round(opts.waitMs / 1000)}s, nothing changed. ` +
                    `Run it again when that is done (PROJECT_VM_LOCK_WAIT=<seconds> waits longer). If no project-vm is running${where}, remove ${lock}.`,
            );
        }
        if (!told) {
            opts.onWait(`waiting for ${describe(seen.holder)} editing ${name}…`);
            told = true;
        }
        await sleep(opts.pollMs ?? 100);
    }
    let held = true;
    const release = () => {
        if (!held) return;
        held = false;
        process.off("exit", release);
        // Only our own lock: never one that someone took over.
        if (readHolder(lock)?.text === text) fs.rmSync(lock, { force: true });
    };
    process.on("exit", release);
    return { path: lock, release, [Symbol.dispose]: release };
}
