// The backup commands' test world: the CLI's stand-in world (test/support/cli.ts), its stand-in virsh
// (fakeVirsh.ts) holding two projects' disks, myapp's VM running with its guest agent.
import { afterEach, beforeEach } from "node:test";
import { World } from "./cli";
import { FakeHost } from "./fakeVirsh";

export const GiB = 1024 ** 3;
export { BPOOL } from "./backupScript";

/** A fresh world: the `storage` stack, myapp (100G, running) and webapp (50G, no VM). */
export function backupWorld(): { w: World; host: FakeHost } {
    const w = new World(["storage"]);
    const host = w.host;
    w.env = host.env();
    host.state("running");
    host.agent();
    host.pool("project-myapp", "/var/lib/project-vms/myapp");
    host.volume("project-myapp", "project.qcow2", 100 * GiB, 2 * GiB);
    host.pool("project-webapp", "/var/lib/project-vms/webapp");
    host.volume("project-webapp", "project.qcow2", 50 * GiB, GiB);
    return { w, host };
}

/** Runs the CLI in `w` with the clock at `iso`; the exit code, and stdout parsed when it is JSON. */
export async function runAt(w: World, iso: string, ...args: string[]): Promise<{ code: number; json?: any }> {
    w.out.length = 0;
    w.err.length = 0;
    const code = await withClock(iso, () => w.run(...args));
    let json: any;
    try {
        json = JSON.parse(w.out.join("\n"));
    } catch {
        /* not JSON */
    }
    return { code, json };
}

/** Runs `fn` with the clock (new Date(), Date.now()) stopped at `iso`: the CLI stamps backups with new Date(). */
export async function withClock<T>(iso: string, fn: () => Promise<T>): Promise<T> {
    const fixed = new Date(iso).getTime();
    const RealDate = Date;
    (globalThis as any).Date = class extends RealDate {
        constructor(...a: any[]) {
            super(...((a.length ? a : [fixed]) as [number]));
        }
        static now() {
            return fixed;
        }
    };
    try {
        return await fn();
    } finally {
        (globalThis as any).Date = RealDate;
    }
}

/** Gives each test of the file a fresh backup world (handed to `use`), cleaned up after it. */
export function eachBackupWorld(use: (world: { w: World; host: FakeHost }) => void): void {
    let current: { w: World; host: FakeHost } | undefined;
    beforeEach(() => {
        current = backupWorld();
        use(current);
    });
    afterEach(() => {
        current?.w.cleanup();
        current?.host.cleanup();
    });
}
