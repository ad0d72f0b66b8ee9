// How the CLI applies a stack and reads its outputs: through the `pulumi` CLI (its progress
// shown as it is), behind an interface so that the commands can be tested with a stand-in.
import { ChildProcess, spawn } from "node:child_process";
import * as os from "node:os";
import { reasonOf, run } from "./run";

/** Thrown when the Pulumi CLI or the stack cannot be reached; read-only commands go on without it. */
export class PulumiUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PulumiUnavailable";
    }
}

/** One entry of the program's `projects` stack output. */
export interface ProjectOutput {
    hostname?: string;
    fqdn?: string | null;
    ssh?: string;
    ip?: string | null;
    domainName?: string;
    disks?: { system?: string; project?: string; cloudInit?: string };
}

/** What the CLI needs of Pulumi. */
export interface PulumiRunner {
    /**
     * `pulumi up` of the host's stack, without a prompt, its progress shown; resolves to the exit
     * code, or to 128 + the signal's number when this process was interrupted meanwhile (see
     * interruptedBy). `replace`: URNs of resources to replace in the same update (`--replace`).
     */
    up(host: string, opts?: { replace?: string[] }): Promise<number>;
    /** The host stack's `projects` output by project name ({} before the first apply). */
    outputs(host: string): Promise<Record<string, ProjectOutput>>;
    /**
     * The projects whose project disk Pulumi's state would delete if their entry went now: those
     * last applied with `purge: true` (the disk's retainOnDelete is off), whatever the file says.
     */
    armedPurges(host: string): Promise<Set<string>>;
    /** Which base volume each project's system disk is an overlay of, by Pulumi's state (see systemDiskBases). */
    systemDiskBases(host: string): Promise<Map<string, string>>;
    /** `pulumi version`, e.g. `v3.274.1`; throws PulumiUnavailable when there is no Pulumi CLI. */
    version(): Promise<string>;
}

/**
 * From `pulumi stack export`: which base volume each project's system disk is an overlay of, by
 * project name (the volume's file name, e.g. `debian-testing-2026-11.qcow2`).
 */
export function systemDiskBases(exported: unknown): Map<string, string> {
    const resources = (exported as { deployment?: { resources?: unknown } })?.deployment?.resources;
    const found = new Map<string, string>();
    if (!Array.isArray(resources)) return found;
    for (const r of resources as { urn?: unknown; type?: unknown; inputs?: { baseVolumeId?: unknown } }[]) {
        if (r?.type !== "libvirt:index/volume:Volume" || typeof r.urn !== "string") continue;
        const m = /^project-(.+)-system-disk$/.exec(r.urn.slice(r.urn.lastIndexOf("::") + 2));
        const base = r.inputs?.baseVolumeId;
        if (m && typeof base === "string") found.set(m[1], base.slice(base.lastIndexOf("/") + 1));
    }
    return found;
}

/** The URN of project `name`'s system disk in the host's stack (components/projectVm.ts names it). */
export function systemDiskUrn(host: string, name: string): string {
    return `urn:pulumi:${host}::project-vms::project-vms:index:ProjectVm$libvirt:index/volume:Volume::project-${name}-system-disk`;
}

/** The oldest Pulumi CLI that applies this program: the engine learnt `replaceWith` in v3.207.0. */
export const MIN_PULUMI = "v3.207.0";

/** Whether `version` (`v3.274.1`, `3.274.1-dev.0`) is at least `min`; false when unreadable. */
export function versionAtLeast(version: string, min: string): boolean {
    const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1).map(Number);
    const a = parse(version);
    const b = parse(min)!;
    if (!a) return false;
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return true;
}

/** The type token of the libvirt volume. */
const VOLUME_TYPE = "libvirt:index/volume:Volume";
/** A project disk's resource name: `<ProjectVm name = project-<name>>-project-disk` (projectVm.ts). */
const PROJECT_DISK = /^project-(.+)-project-disk$/;

/**
 * From `pulumi stack export`: the project names whose project disk volume is in the state without
 * retainOnDelete, so that the engine deletes it when the project's entry is removed.
 */
export function armedPurgesOf(exported: unknown): Set<string> {
    const resources = (exported as { deployment?: { resources?: unknown } })?.deployment?.resources;
    const armed = new Set<string>();
    if (!Array.isArray(resources)) return armed;
    for (const r of resources as { urn?: unknown; type?: unknown; retainOnDelete?: unknown }[]) {
        if (r?.type !== VOLUME_TYPE || typeof r.urn !== "string") continue;
        const resourceName = r.urn.slice(r.urn.lastIndexOf("::") + 2);
        const m = PROJECT_DISK.exec(resourceName);
        if (m && r.retainOnDelete !== true) armed.add(m[1]);
    }
    return armed;
}

/** The Pulumi CLI (`exe`, default `pulumi` on PATH) on the project in `dir`. */
export function pulumiCli(dir: string, exe = "pulumi"): PulumiRunner {
    /** `pulumi stack export` of the host's stack, parsed. */
    const exportState = async (host: string): Promise<unknown> => {
        const r = await run(exe, ["stack", "export", "--stack", host, "--cwd", dir]);
        if (r.code === 127) throw new PulumiUnavailable(`the Pulumi CLI (${exe}) is not installed or not on PATH`);
        if (r.code !== 0) throw new PulumiUnavailable(`pulumi stack export failed for stack ${host}: ${reasonOf(r.stderr, "no message")}`);
        try {
            return JSON.parse(r.stdout);
        } catch {
            throw new PulumiUnavailable(`pulumi stack export for stack ${host} is not JSON`);
        }
    };
    return {
        up(host, opts = {}) {
            return new Promise((resolve, reject) => {
                const replace = (opts.replace ?? []).flatMap((urn) => ["--replace", urn]);
                // While Pulumi runs, a signal ends it gracefully and this process waits for it
                // (keeping the lock, saying afterwards what the stack file holds): Ctrl+C reaches
                // Pulumi from the terminal as well, so only SIGTERM and SIGHUP are passed on. The
                // handlers come first, so that a signal as soon as Pulumi runs is queued rather
                // than fatal; they run after this synchronous block, when the child is there.
                let interrupted: NodeJS.Signals | undefined;
                let child!: ChildProcess;
                const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => {
                    const handler = () => {
                        if (sig !== "SIGINT" && !interrupted) child.kill("SIGINT");
                        interrupted ??= sig;
                    };
                    process.on(sig, handler);
                    return () => process.off(sig, handler);
                });
                const done = () => handlers.forEach((off) => off());
                try {
                    child = spawn(exe, ["up", "--stack", host, "--yes", "--cwd", dir, ...replace], { stdio: "inherit" });
                } catch (e) {
                    done();
                    return reject(e);
                }
                child.on("error", (e: NodeJS.ErrnoException) => {
                    done();
                    reject(
                        e.code === "ENOENT"
                            ? new PulumiUnavailable(
                                  `the Pulumi CLI (${exe}) is not installed or not on PATH: https://www.pulumi.com/docs/install/`,
                              )
                            : e,
                    );
                });
                child.on("close", (code, signal) => {
                    done();
                    resolve(interrupted ? 128 + os.constants.signals[interrupted] : (code ?? (signal ? 128 : 1)));
                });
            });
        },
        async outputs(host) {
            const r = await run(exe, ["stack", "output", "projects", "--json", "--stack", host, "--cwd", dir]);
            if (r.code === 127) throw new PulumiUnavailable(`the Pulumi CLI (${exe}) is not installed or not on PATH`);
            if (r.code !== 0) {
                if (/does not have output property|no output named/i.test(r.stderr)) return {};
                throw new PulumiUnavailable(`pulumi stack output failed for stack ${host}: ${reasonOf(r.stderr, "no message")}`);
            }
            try {
                const parsed = JSON.parse(r.stdout);
                return parsed && typeof parsed === "object" ? parsed : {};
            } catch {
                throw new PulumiUnavailable(`pulumi stack output for stack ${host} is not JSON`);
            }
        },
        async version() {
            const r = await run(exe, ["version"]);
            if (r.code === 127)
                throw new PulumiUnavailable(
                    `the Pulumi CLI (${exe}) is not installed or not on PATH: https://www.pulumi.com/docs/install/ (or build it: bash engine/build.sh)`,
                );
            if (r.code !== 0) throw new PulumiUnavailable(`pulumi version failed: ${reasonOf(r.stderr, "no message")}`);
            return r.stdout.trim();
        },
        async armedPurges(host) {
            return armedPurgesOf(await exportState(host));
        },
        async systemDiskBases(host) {
            return systemDiskBases(await exportState(host));
        },
    };
}

/** The signal an `up` exit code says this process got while Pulumi ran (SIGINT, SIGTERM, SIGHUP), if any. */
export function interruptedBy(code: number): string | undefined {
    return (["SIGINT", "SIGTERM", "SIGHUP"] as const).find((sig) => code === 128 + os.constants.signals[sig]);
}
