// Backups of project disks, the pure part: the stack's `backups` settings, the names of backup
// volumes, which backup a new one builds on, and which backups retention keeps. The work on the
// host is host-scripts/backup.sh; the commands are cli/backup.ts.
import { BACKUP_OPTIONS, defaultsOf, keysOf, Values } from "./configOptions";
import { Reader, readOptions } from "./configReader";
import { show, storageDirProblem } from "./validate";

/** The libvirt dir pool holding every backup (one per host; the program never deletes it). */
export const BACKUP_POOL = "project-vms-backups";

/** `project-vms:backups`, defaults applied (see BACKUP_OPTIONS). */
export type BackupSettings = Values<typeof BACKUP_OPTIONS>;

/** The defaults of `project-vms:backups` but its dir (defaultBackupDir). */
export const BACKUP_DEFAULTS = defaultsOf(BACKUP_OPTIONS);

/**
 * The default folder: under storageDir, named so that no project folder can be it (`_` is not in
 * a DNS label). Meant to be set to another disk or a mounted NAS.
 */
export function defaultBackupDir(storageDir: string): string {
    return `${storageDir}/_backups`;
}

/** The keys of `project-vms:backups`. */
export const BACKUP_KEYS = keysOf(BACKUP_OPTIONS);

/**
 * Why `dir` cannot hold the backups, or undefined: storageDir's own rules (a safe, normalised,
 * absolute path; no system folder; nothing virtual, read-only or emptied at boot), and neither
 * storageDir itself nor a folder of one of its projects.
 */
export function backupDirProblem(dir: string, storageDir: string): string | undefined {
    const problem = storageDirProblem(dir);
    if (problem) return problem;
    if (
        dir === storageDir ||
        (dir.startsWith(`${storageDir}/`) && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(dir.slice(storageDir.length + 1).split("/")[0]))
    ) {
        return `is or is inside a project's folder under storageDir; use another disk, or ${defaultBackupDir(storageDir)}`;
    }
    return undefined;
}

/**
 * Reads `project-vms:backups` (undefined: all defaults) through the stack's Reader, one problem per
 * bad value with its key; undefined after a problem.
 */
export function parseBackupSettings(r: Reader, raw: unknown, storageDir: string): BackupSettings | undefined {
    const before = r.problems.length;
    const o = r.object(raw, "backups") ?? {};
    r.unknownKeys(o, BACKUP_KEYS, "backups");
    // (The default is checked with storageDir, whose problem is its own.)
    const dirProblem = (dir: string) => {
        const problem = backupDirProblem(dir, storageDir);
        return problem && `${show(dir)} ${problem}`;
    };
    const settings = readOptions(r, {
        from: o,
        table: BACKUP_OPTIONS,
        at: "backups",
        inherited: { dir: defaultBackupDir(storageDir) },
        checks: { dir: dirProblem },
    });
    return r.problems.length > before ? undefined : (settings as BackupSettings);
}

export type BackupKind = "full" | "inc";

/** One backup volume. */
export interface Backup {
    /** The volume's name in the backups pool. */
    volume: string;
    project: string;
    /** `20261127T111500Z`. */
    stamp: string;
    /** The point in time. */
    time: Date;
    kind: BackupKind;
    /**
     * The backup its file rests on (the volume name of its qcow2 backing file; "" for none), as
     * the backups pool reports it: chains are read from this, never from the names' time stamps
     * (which machines with clocks that disagree write). Undefined when not known.
     */
    parent?: string;
}

const VOLUME = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)--(\d{8}T\d{6}Z)--(full|inc)\.qcow2$/;

/** A UTC time as a stamp, `20261127T111500Z` (to the second). */
export function stampOf(time: Date): string {
    return time
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
}

/** A stamp back to a time; undefined when it is not one. */
export function timeOfStamp(stamp: string): Date | undefined {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
    if (!m) return undefined;
    const t = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
    return Number.isNaN(t.getTime()) || stampOf(t) !== stamp ? undefined : t;
}

export function backupVolumeName(project: string, stamp: string, kind: BackupKind): string {
    return `${project}--${stamp}--${kind}.qcow2`;
}

/** A backup volume's name parsed; undefined for anything else in the pool. */
export function parseBackupVolume(volume: string): Backup | undefined {
    const m = VOLUME.exec(volume);
    if (!m) return undefined;
    const time = timeOfStamp(m[2]);
    return time ? { volume, project: m[1], stamp: m[2], time, kind: m[3] as BackupKind } : undefined;
}

/**
 * A project's backups split into chains, oldest first: each chain is a full backup and the
 * incrementals that rest on it, each an overlay over the one before. When every backup's `parent`
 * is known, the chains follow the backing files (an incremental whose parent is gone starts a
 * chain of its own with those resting on it, and one that rests on a loop is a chain of its own:
 * neither can be restored); else the time stamps order
 * them, each incremental resting on the backup before it. Incrementals with no full before them
 * (which the program never makes) form a chain of their own, which cannot be restored.
 */
export function chains(backups: Backup[]): Backup[][] {
    if (backups.length > 0 && backups.every((b) => b.parent !== undefined)) return linkedChains(backups);
    const sorted = [...backups].sort((a, b) => a.stamp.localeCompare(b.stamp));
    const out: Backup[][] = [];
    for (const b of sorted) {
        if (b.kind === "full" || out.length === 0) out.push([b]);
        else out[out.length - 1].push(b);
    }
    return out;
}

/** Chains by the backing files: each backup's path down to a full (or to where it breaks). */
function linkedChains(backups: Backup[]): Backup[][] {
    const byName = new Map(backups.map((b) => [b.volume, b]));
    const pathOf = (b: Backup): Backup[] => {
        const path = [b];
        for (let at = b; at.kind === "inc";) {
            const up = at.parent ? byName.get(at.parent) : undefined;
            if (!up || path.includes(up)) break;
            path.unshift(up);
            at = up;
        }
        return path;
    };
    // Grouped by the backup each rests on at the bottom, ordered by how deep it rests.
    const groups = new Map<Backup, Backup[][]>();
    for (const b of backups) {
        const p = pathOf(b);
        groups.set(p[0], [...(groups.get(p[0]) ?? []), p]);
    }
    return [...groups.entries()]
        .map(([, paths]) =>
            paths
                .sort((x, y) => x.length - y.length || x[x.length - 1].stamp.localeCompare(y[y.length - 1].stamp))
                .map((p) => p[p.length - 1]),
        )
        .sort((x, y) => x[0].stamp.localeCompare(y[0].stamp));
}

/**
 * Why a backup stamped `stamp` cannot rest on `parent`: a stamp not later than its parent's (the
 * clock of the machine taking it is behind the one that took the parent). Undefined when it can.
 */
export function stampProblem(stamp: string, parent: Backup | undefined): string | undefined {
    return parent && stamp <= parent.stamp
        ? `this machine's clock (${stamp}) is not later than the newest backup's (${parent.volume}): backups are ordered by their time, so it would be taken for an older one. Set this machine's clock right (or back up from the machine that took it)`
        : undefined;
}

/** What the next backup of a running VM is: a full one, or an incremental over the newest. */
export function planBackup(backups: Backup[], fullEvery: number, forceFull = false): { kind: BackupKind; parent?: Backup } {
    const all = chains(backups);
    const last = all[all.length - 1];
    if (forceFull || !last || last[0].kind !== "full" || last.length >= fullEvery) return { kind: "full" };
    return { kind: "inc", parent: last[last.length - 1] };
}

/**
 * Whether `backup --all` may skip a VM that is not running: only when its newest backup is newer
 * than the last change of its disk (`diskChanged`, the disk file's mtime: when the VM stopped, or
 * a later restore or resize). A disk whose change time is unknown, or a project without backups,
 * is backed up.
 */
export function unchangedSinceBackup(backups: Backup[], diskChanged: Date | undefined): boolean {
    if (!diskChanged || Number.isNaN(diskChanged.getTime()) || backups.length === 0) return false;
    const newest = Math.max(...backups.map((b) => b.time.getTime()));
    return newest > diskChanged.getTime();
}

/** The ISO 8601 week of a UTC time, as `2026-W48`. */
export function isoWeek(time: Date): string {
    const d = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
    const day = d.getUTCDay() || 7;
    d.setUTCDate(d.getUTCDate() + 4 - day);
    const year = d.getUTCFullYear();
    const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
    return `${year}-W${String(week).padStart(2, "0")}`;
}

/**
 * Retention: the newest `keepLast` backups, the newest backup of each of the newest `keepDaily`
 * days (UTC) that have one, and of each of the newest `keepWeekly` ISO weeks, are kept, each with
 * everything it rests on (the earlier backups of its chain). The newest backup is always kept.
 * Everything else goes: a backup is deleted only when nothing kept depends on it.
 */
export function retention(
    backups: Backup[],
    keep: { keepDaily: number; keepWeekly: number; keepLast?: number },
): { keep: Backup[]; remove: Backup[] } {
    const sorted = [...backups].sort((a, b) => b.stamp.localeCompare(a.stamp));
    const wanted = new Set<Backup>();
    const newestOf = (period: (b: Backup) => string, n: number) => {
        const seen = new Set<string>();
        for (const b of sorted) {
            const p = period(b);
            if (seen.has(p)) continue;
            if (seen.size >= n) break;
            seen.add(p);
            wanted.add(b);
        }
    };
    newestOf((b) => b.volume, Math.max(1, keep.keepLast ?? 1));
    newestOf((b) => b.stamp.slice(0, 8), Math.max(1, keep.keepDaily));
    newestOf((b) => isoWeek(b.time), keep.keepWeekly);
    const kept = new Set<Backup>();
    for (const chain of chains(backups)) {
        const last = chain.map((b) => wanted.has(b)).lastIndexOf(true);
        for (let i = 0; i <= last; i++) kept.add(chain[i]);
    }
    return {
        keep: sorted.filter((b) => kept.has(b)).reverse(),
        remove: sorted.filter((b) => !kept.has(b)).reverse(),
    };
}

/** The chain a backup rests on (oldest first, ending with it); undefined when it is not in `backups`. */
export function chainOf(backups: Backup[], volume: string): Backup[] | undefined {
    for (const chain of chains(backups)) {
        const i = chain.findIndex((b) => b.volume === volume);
        if (i >= 0) return chain.slice(0, i + 1);
    }
    return undefined;
}
