// The engine suite's hold on the host: its libvirt objects share host-wide names (the base pool
// `project-vms-base`), so one run at a time, and what a killed run left behind is swept first.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";

/** Everything an engine run makes on the host lives under folders with this prefix. */
export const ENGINE_ROOT_PREFIX = "/var/lib/pvms-engine-";
/** The engine run's network names: `pvms-e` and four hex digits. */
export const ENGINE_NETWORK = /^pvms-e[0-9a-f]{4}$/;
const LOCK = "/var/lib/pvms-engine.lock";

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Takes the host-wide engine lock (a file holding this process's ID), waiting up to `waitMs` for a
 * live holder and taking over from a dead one. Returns the release function.
 */
export async function claimEngineHost(log: (line: string) => void, waitMs = 60 * 60_000): Promise<() => void> {
    const deadline = Date.now() + waitMs;
    let told = false;
    for (;;) {
        try {
            const fd = fs.openSync(LOCK, "wx");
            fs.writeSync(fd, `${process.pid}\n`);
            fs.closeSync(fd);
            return () => {
                if (fs.readFileSync(LOCK, "utf8").trim() === String(process.pid)) fs.rmSync(LOCK, { force: true });
            };
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const holder = Number(fs.readFileSync(LOCK, "utf8").trim());
        if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
            log(`engine: ${LOCK} was left by process ${holder || "?"}, which is gone: taking it over`);
            fs.rmSync(LOCK, { force: true });
            continue;
        }
        if (Date.now() > deadline) throw new Error(`another engine suite (process ${holder}) still holds ${LOCK}`);
        if (!told) log(`engine: waiting for the engine suite of process ${holder} (${LOCK})`);
        told = true;
        await new Promise((r) => setTimeout(r, 5000));
    }
}

/** Whether a path belongs to an engine run's folders. */
export function engineOwned(file: string): boolean {
    return file.startsWith(ENGINE_ROOT_PREFIX) && /^[0-9a-f]{4}(-|\/|$)/.test(file.slice(ENGINE_ROOT_PREFIX.length));
}

/**
 * Removes what earlier engine runs left on the host (domains with a disk in their folders, pools
 * on their folders, their networks, the folders): to be called while holding the lock, when no
 * other run can own them. Returns what it removed.
 */
export function sweepEngineLeftovers(uri: string): string[] {
    const virsh = (...args: string[]) => spawnSync("virsh", ["-q", "-c", uri, ...args], { encoding: "utf8" });
    const names = (...args: string[]) =>
        virsh(...args)
            .stdout.split("\n")
            .map((s) => s.trim())
            .filter(Boolean);
    const swept: string[] = [];
    for (const domain of names("list", "--all", "--name")) {
        const disks = names("domblklist", domain, "--details").map((l) => l.split(/\s+/)[3] ?? "");
        if (!disks.some(engineOwned)) continue;
        virsh("destroy", domain);
        if (virsh("undefine", domain, "--nvram", "--checkpoints-metadata", "--snapshots-metadata").status !== 0) virsh("undefine", domain);
        swept.push(`domain ${domain}`);
    }
    for (const pool of names("pool-list", "--all", "--name")) {
        const target = /<target>\s*<path>([^<]*)<\/path>/.exec(virsh("pool-dumpxml", pool).stdout)?.[1] ?? "";
        if (!engineOwned(target)) continue;
        virsh("pool-destroy", pool);
        virsh("pool-undefine", pool);
        swept.push(`pool ${pool}`);
    }
    for (const net of names("net-list", "--all", "--name").filter((n) => ENGINE_NETWORK.test(n))) {
        virsh("net-destroy", net);
        virsh("net-undefine", net);
        swept.push(`network ${net}`);
    }
    for (const entry of fs.readdirSync("/var/lib")) {
        const dir = `/var/lib/${entry}`;
        if (!engineOwned(dir)) continue;
        fs.rmSync(dir, { recursive: true, force: true });
        swept.push(`folder ${dir}`);
    }
    return swept;
}
