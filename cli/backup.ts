// project-vm backup / backups / restore: the project disks' backups, kept in the libvirt dir pool
// project-vms-backups at the stack's backups.dir. The work on the host is done by
// host-scripts/backup.sh and restore.sh with virsh against the stack's libvirtUri (so it works over
// qemu+ssh://); this module picks what to do (full or incremental, what retention deletes, which
// backup to restore), runs it, and reports.
import {
    Backup,
    BACKUP_POOL,
    BackupSettings,
    chainOf,
    chains,
    parseBackupVolume,
    planBackup,
    retention,
    stampOf,
    stampProblem,
    unchangedSinceBackup,
} from "../components/backup";
import { formatSize, hostnameOf, projectNameProblem, Settings } from "../components/config";
import { PROJECT_DISK_TARGET } from "../components/domainShape";
import { PROJECT_FILES } from "../components/names";
import { bashRunner, RunBackupScript } from "./backupRunner";
import { Io } from "./commands";
import { confirm, lockStack, settingsOf } from "./commands/context";
import { StackFile, UsageError } from "./stacks";

/** The guest disk the project disk is attached as (domainShape.ts; re-exported where it was). */
export { PROJECT_DISK_TARGET } from "../components/domainShape";

/** What the backup commands need. */
export interface BackupContext {
    /** The Pulumi project folder (holding the stack files and host-scripts/). */
    dir: string;
    io: Io;
    /** The environment the host scripts inherit (PATH: virsh). */
    env: NodeJS.ProcessEnv;
    /** Replaces running bash (tests). */
    runScript?: RunBackupScript;
    /** A project-vm command line that works as printed (see commands' Context.command). */
    command: (host: string, ...args: string[]) => string;
    /** How long backup and restore wait for another command holding the stack's lock (default 10 minutes). */
    lockWaitMs?: number;
}

/** A host's settings and its backups settings, read from its stack file. */
export interface HostBackups {
    host: string;
    settings: Settings;
    backups: BackupSettings;
    /** The backups pool: project-vms-backups ($PROJECT_VMS_BACKUP_POOL names another, for tests). */
    pool: string;
    /** The message for a name that is not one of the host's projects (the one every command gives). */
    noSuchProject: (name: string) => string;
}

/**
 * Reads a stack file's settings, `project-vms:backups` among them, with the program's own
 * validation (components/config.ts), and the backups pool.
 */
export function readHost(dir: string, host: string, env: NodeJS.ProcessEnv = {}): HostBackups {
    // The stack file as every command reads it (Pulumi's reading, every key checked, backups included).
    const stack = new StackFile(dir, host);
    const settings = settingsOf(stack);
    const pool = env.PROJECT_VMS_BACKUP_POOL ?? BACKUP_POOL;
    if (!/^[A-Za-z0-9_.-]+$/.test(pool)) throw new UsageError(`PROJECT_VMS_BACKUP_POOL '${pool}' is not a pool name`);
    return { host, settings, backups: settings.backups, pool, noSuchProject: (name) => stack.noSuchProject(name) };
}

/** One backup as `backups --json` lists it. */
export interface BackupRow {
    volume: string;
    /** ISO time of the point in time. */
    time: string;
    kind: "full" | "inc";
    /** Bytes the backup file takes. */
    size: number;
    /** The disk's size. */
    capacity: number;
    /** The full backup its chain starts with. */
    base: string;
    /** Bytes the backup needs to be restored: itself and what it rests on. */
    chainSize: number;
}

function baseEnv(ctx: BackupContext, h: HostBackups, project: string): Record<string, string> {
    return {
        // The project-vm command line the script's hints name (with -C and -H: it works as printed).
        PROJECT_VM_CMD: ctx.command(h.host),
        LIBVIRT_URI: h.settings.libvirtUri,
        PROJECT: project,
        DOMAIN: hostnameOf(project),
        PROJECT_POOL: hostnameOf(project),
        VOLUME: PROJECT_FILES.projectDisk,
        TARGET: PROJECT_DISK_TARGET,
        BACKUP_POOL: h.pool,
        BACKUP_DIR: h.backups.dir,
    };
}

function runner(ctx: BackupContext): RunBackupScript {
    return ctx.runScript ?? bashRunner(ctx.dir, ctx.env);
}

async function script(ctx: BackupContext, fn: string, env: Record<string, string>): Promise<string> {
    const r = await runner(ctx)(fn, env, (l) => ctx.io.err(l));
    if (r.code !== 0) throw new BackupFailed(`${fn.replace("_", " ")} failed (exit ${r.code}); see above`);
    return r.stdout;
}

/** A backup or restore that failed on the host: exit 1. */
export class BackupFailed extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BackupFailed";
    }
}

/** The project's backups on the host, oldest first, with their sizes. */
export async function listBackups(ctx: BackupContext, h: HostBackups, project: string): Promise<{ backups: Backup[]; rows: BackupRow[] }> {
    const out = await script(ctx, "backup_list", baseEnv(ctx, h, project));
    const sizes = new Map<string, [number, number]>();
    const backups: Backup[] = [];
    for (const line of out.split("\n")) {
        const [volume, alloc, cap, backing] = line.split(" "); // the script's `volume allocation capacity backing` lines
        const b = volume ? parseBackupVolume(volume) : undefined;
        if (!b || b.project !== project) continue;
        // The backing file as the pool reports it ("-" for none, which no backup is named), absent from an older script.
        backups.push(backing === undefined ? b : { ...b, parent: backing });
        sizes.set(volume, [Number(alloc), Number(cap)]);
    }
    const rows: BackupRow[] = [];
    for (const chain of chains(backups)) {
        let total = 0;
        for (const b of chain) {
            const [size, capacity] = sizes.get(b.volume)!;
            total += size;
            rows.push({
                volume: b.volume,
                time: b.time.toISOString(),
                kind: b.kind,
                size,
                capacity,
                base: chain[0].volume,
                chainSize: total,
            });
        }
    }
    return { backups, rows };
}

/** The seconds from `started` (a Date.now()) to `now`, to a tenth, as the CLI reports a backup's or restore's time. */
export function secondsSince(started: number, now = Date.now()): number {
    return Math.round((now - started) / 100) / 10;
}

function checkName(name: string): void {
    const problem = projectNameProblem(name);
    if (problem) throw new UsageError(`project name '${name}' ${problem}`);
}

function needProject(h: HostBackups, name: string): void {
    if (!h.settings.projects.some((p) => p.name === name)) throw new UsageError(h.noSuchProject(name));
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)}G`;

/** Options of `backup`. */
export interface BackupOptions {
    all?: boolean;
    full?: boolean;
    json?: boolean;
}

/** One backup taken (`backup --json`). */
export interface BackupResult {
    project: string;
    ok: boolean;
    volume?: string;
    kind?: "full" | "inc";
    size?: number;
    seconds?: number;
    /** Backups retention deleted. */
    deleted?: string[];
    /** Why it was skipped or failed. */
    error?: string;
    skipped?: string;
}

/** When the project's disk last changed (its file's mtime, through libvirt); undefined when unknown. */
async function diskChanged(ctx: BackupContext, h: HostBackups, project: string): Promise<Date | undefined> {
    const out = (await script(ctx, "backup_disk_mtime", baseEnv(ctx, h, project))).trim();
    return /^\d+(\.\d+)?$/.test(out) ? new Date(Number(out) * 1000) : undefined;
}

/** Domain states through the host script's virsh (list --all). */
async function domainStates(ctx: BackupContext, h: HostBackups): Promise<Map<string, string> | undefined> {
    const r = await runner(ctx)("backup_states", { LIBVIRT_URI: h.settings.libvirtUri }, (l) => ctx.io.err(l));
    if (r.code !== 0) return undefined;
    const states = new Map<string, string>();
    for (const line of r.stdout.split("\n")) {
        const m = /^(\S+)\t(.+)$/.exec(line); // the script's `name<TAB>state` lines
        if (m) states.set(m[1], m[2]);
    }
    return states;
}

/**
 * Backs up a project (or, with --all, every project whose VM runs, and stopped ones whose disk
 * changed since their newest backup), then applies retention. Resolves to whether every backup succeeded.
 */
export async function backup(ctx: BackupContext, h: HostBackups, name: string | undefined, opts: BackupOptions): Promise<boolean> {
    if (!opts.all && !name) throw new UsageError("backup needs a project name, or --all");
    if (opts.all && name) throw new UsageError("give a project name or --all, not both");
    if (name) {
        checkName(name);
        needProject(h, name);
    }
    // No start, stop, destroy or restore of these VMs meanwhile (they take the same lock).
    using _lock = await lockStack(ctx, h.host, opts.all ? "backup --all" : `backup ${name}`);
    let names: string[];
    let states: Map<string, string> | undefined;
    if (opts.all) {
        names = h.settings.projects.map((p) => p.name);
        states = await domainStates(ctx, h);
        if (!states) throw new BackupFailed(`libvirt at ${h.settings.libvirtUri} cannot be reached; no backups were made`);
    } else {
        names = [name!];
    }
    const results: BackupResult[] = [];
    for (const project of names) {
        const result: BackupResult = { project, ok: false };
        results.push(result);
        try {
            const { backups } = await listBackups(ctx, h, project);
            const state = states?.get(hostnameOf(project)) ?? "not defined";
            // A state libvirt could not give ("unknown") may be running: never skipped on a guess.
            if (states && state !== "running" && state !== "unknown" && backups.length > 0) {
                const changed = await diskChanged(ctx, h, project);
                if (unchangedSinceBackup(backups, changed)) {
                    result.ok = true;
                    result.skipped = `${hostnameOf(project)} is ${state}: its disk has not changed since its newest backup ${backups[backups.length - 1].volume}`;
                    ctx.io.err(`project-vm: ${project}: skipped, ${result.skipped}`);
                    continue;
                }
                ctx.io.err(
                    `project-vm: ${project}: ${hostnameOf(project)} is ${state}, but its disk changed ` +
                        `${changed ? `at ${changed.toISOString()}` : "at a time libvirt does not give"}, after its newest backup`,
                );
            }
            const plan = planBackup(backups, h.backups.fullEvery, opts.full);
            const now = new Date();
            const newest = backups.at(-1); // the script lists them by name: by time
            const clock = stampProblem(stampOf(now), newest);
            if (clock) throw new BackupFailed(`${clock}; no backup was made`);
            const started = Date.now();
            const epoch = (t: Date) => String(Math.floor(t.getTime() / 1000));
            const env: Record<string, string> = {
                ...baseEnv(ctx, h, project),
                STAMP: stampOf(now),
                EPOCH: epoch(now),
                KIND: plan.kind,
                // Bitmaps the newest backups may have left in the disk (dropped after the backup).
                OLD: backups
                    .slice(-5)
                    .map((b) => `${b.stamp}:${epoch(b.time)}`)
                    .join(" "),
            };
            if (plan.parent) {
                env.PARENT = plan.parent.volume;
                env.PARENT_EPOCH = epoch(plan.parent.time);
            }
            ctx.io.err(
                `project-vm: backing up ${project} (${plan.kind === "inc" ? `incremental over ${plan.parent!.volume}` : "full"}) to ${h.backups.dir}`,
            );
            let taken: string;
            try {
                taken = await script(ctx, "backup_take", env);
            } catch (e) {
                // The script thaws the guest on every way out it has; killed outright it has none.
                await script(ctx, "backup_thaw_leftover", baseEnv(ctx, h, project)).catch(() => undefined);
                throw e;
            }
            const out = taken.trim().split("\n").at(-1)!;
            const [volume, kind] = out.split(" ");
            result.seconds = secondsSince(started);
            const after = await listBackups(ctx, h, project);
            const row = after.rows.find((r) => r.volume === volume);
            Object.assign(result, { ok: true, volume, kind, size: row?.size });
            const plan2 = retention(after.backups, h.backups);
            if (plan2.remove.length) {
                await script(ctx, "backup_delete", { ...baseEnv(ctx, h, project), VOLUMES: plan2.remove.map((b) => b.volume).join(" ") });
                result.deleted = plan2.remove.map((b) => b.volume);
            }
            const total = after.rows.filter((r) => !result.deleted?.includes(r.volume)).reduce((s, r) => s + r.size, 0);
            ctx.io.err(
                `project-vm: ${project}: ${volume} (${kind}, ${gib(row?.size ?? 0)}) in ${result.seconds}s; ` +
                    `${plan2.keep.length} backup(s) kept, ${gib(total)} in all` +
                    (result.deleted?.length ? `; retention deleted ${result.deleted.length}` : ""),
            );
        } catch (e) {
            if (!(e instanceof BackupFailed || e instanceof UsageError)) throw e;
            result.error = e.message;
            ctx.io.err(`project-vm: ${project}: backup FAILED: ${e.message}`);
        }
    }
    if (opts.json) ctx.io.out(JSON.stringify({ host: h.host, backups: results }, null, 2));
    else for (const r of results) if (r.volume) ctx.io.out(`${r.project}\t${r.volume}`);
    return results.every((r) => r.ok);
}

/** Lists a project's backups (also of a project no longer in the stack: backups outlive it). */
export async function backups(ctx: BackupContext, h: HostBackups, name: string, opts: { json?: boolean }): Promise<void> {
    checkName(name);
    const { rows } = await listBackups(ctx, h, name);
    const kept = await keptAside(ctx, h, name);
    const total = rows.reduce((s, r) => s + r.size, 0);
    if (opts.json) {
        ctx.io.out(JSON.stringify({ host: h.host, project: name, dir: h.backups.dir, backups: rows, total, keptAside: kept }, null, 2));
        return;
    }
    if (!h.settings.projects.some((p) => p.name === name))
        ctx.io.err(`project-vm: note: ${name} is not a project of ${h.host} (any more); its backups are kept`);
    if (rows.length === 0)
        ctx.io.err(`project-vm: ${name} has no backups in ${h.backups.dir}; make one with '${ctx.command(h.host, "backup", name)}'`);
    for (const r of [...rows].reverse()) {
        ctx.io.out(`${r.time.replace(".000Z", "Z")}  ${r.kind.padEnd(4)}  ${gib(r.size).padStart(8)}  ${r.volume}`);
    }
    if (rows.length)
        ctx.io.err(
            `project-vm: ${rows.length} backup(s) of ${name}, ${gib(total)} in ${h.backups.dir} (disk ${formatSize(rows[rows.length - 1].capacity)})`,
        );
    for (const k of kept)
        ctx.io.err(
            `project-vm: a restore kept the replaced disk as ${k.volume} (${gib(k.size)}): '${ctx.command(h.host, "restore", "--confirm", name)}' deletes it`,
        );
}

async function keptAside(ctx: BackupContext, h: HostBackups, name: string): Promise<{ volume: string; size: number }[]> {
    if (!h.settings.projects.some((p) => p.name === name)) return [];
    const out = await script(ctx, "restore_kept", baseEnv(ctx, h, name));
    return out
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => {
            const [volume, size] = l.split(" "); // the script's `volume bytes` lines
            return { volume, size: Number(size) };
        });
}

/** Options of `restore`. */
export interface RestoreOptions {
    stop?: boolean;
    yes?: boolean;
    confirm?: boolean;
    json?: boolean;
}

/**
 * Restores a backup (a volume name, its stamp, or `latest`) to a project's disk; or, with
 * --confirm, deletes the disks earlier restores kept aside.
 */
export async function restore(
    ctx: BackupContext,
    h: HostBackups,
    name: string,
    which: string | undefined,
    opts: RestoreOptions,
): Promise<void> {
    checkName(name);
    needProject(h, name);
    if (opts.confirm && which) throw new UsageError("restore --confirm takes only the project name");
    // From the first look at the VM's state to the end: no start (or any other change) meanwhile.
    using _lock = await lockStack(ctx, h.host, `restore ${opts.confirm ? "--confirm " : ""}${name}`);
    if (opts.confirm) {
        const kept = await keptAside(ctx, h, name);
        if (kept.length === 0) {
            ctx.io.err(`project-vm: no disk kept aside by a restore of ${name}`);
            return;
        }
        ctx.io.err(`project-vm: this deletes ${kept.map((k) => k.volume).join(", ")}: ${name}'s project disk as it was before a restore.`);
        if (!(await confirm(ctx.io, "Delete it?", opts.yes))) throw new UsageError("nothing deleted");
        await script(ctx, "restore_confirm", baseEnv(ctx, h, name));
        return;
    }
    if (!which)
        throw new UsageError(`restore needs the backup: a name '${ctx.command(h.host, "backups", name)}' lists, its time stamp, or latest`);
    const { backups } = await listBackups(ctx, h, name);
    const chosen =
        which === "latest"
            ? backups[backups.length - 1]
            : backups.find((b) => b.volume === which || b.stamp === which || b.volume === `${which}.qcow2`);
    if (!chosen) {
        const other = parseBackupVolume(which.endsWith(".qcow2") ? which : `${which}.qcow2`);
        if (other && other.project !== name)
            throw new UsageError(
                `${which} is a backup of ${other.project}, not of ${name}: a restore never takes another project's backup`,
            );
        throw new UsageError(
            `${name} has no backup '${which}'` +
                (backups.length ? `; '${ctx.command(h.host, "backups", name)}' lists them` : ` (it has none in ${h.backups.dir})`),
        );
    }
    const chain = chainOf(backups, chosen.volume)!;
    if (chain[0].kind !== "full") throw new UsageError(`${chosen.volume} rests on no full backup, so it cannot be restored`);
    ctx.io.err(
        `project-vm: this replaces the project disk of ${name} with ${chosen.volume} (${chosen.time.toISOString()}${chain.length > 1 ? `, a chain of ${chain.length}` : ""}). ` +
            `The disk as it is now is kept aside until '${ctx.command(h.host, "restore", "--confirm", name)}'.`,
    );
    if (!(await confirm(ctx.io, `Restore ${name} on ${h.host} to ${chosen.stamp}?`, opts.yes)))
        throw new UsageError("restore cancelled; nothing changed");
    const now = new Date();
    const started = Date.now();
    const out = await script(ctx, "restore_run", {
        ...baseEnv(ctx, h, name),
        BACKUP: chosen.volume,
        STAMP: stampOf(now),
        STOP: String(!!opts.stop),
        SHUTDOWN_TIMEOUT: String(h.settings.shutdownTimeout),
    });
    const [aside, verdict] = out.trim().split("\n").at(-1)!.split(" ");
    const verified = verdict === "verified";
    const seconds = secondsSince(started);
    if (opts.json) ctx.io.out(JSON.stringify({ project: name, restored: chosen.volume, keptAside: aside, verified, seconds }, null, 2));
    else ctx.io.out(aside);
    ctx.io.err(
        `project-vm: ${name} restored to ${chosen.stamp} in ${seconds}s, ` +
            (verified ? "verified against the backup (qemu-img compare)" : "NOT verified against the backup (see above why)") +
            `. Check it, then '${ctx.command(h.host, "restore", "--confirm", name)}' deletes the replaced disk (${aside}).`,
    );
}
