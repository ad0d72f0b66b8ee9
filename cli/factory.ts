// What every command's declaration (cli/commands/*.ts) is given, as gh gives its commands a
// Factory: the outside world (Deps), the shared Context built from the global options -H and -C,
// the picked host, and where a command that ends with an exit code of its own reports it.
import { Command } from "commander";
import * as path from "node:path";
import { BackupContext, HostBackups, readHost } from "./backup";
import { commandLine, Context, Io } from "./commands/context";
import { Libvirt, RunVirsh } from "./libvirt";
import { PulumiRunner } from "./pulumi";
import { findProjectDir, listHosts, pickHost, rememberedHost, UsageError } from "./stacks";

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** What main needs of the world; tests give stand-ins. */
export interface Deps {
    env: NodeJS.ProcessEnv;
    cwd: string;
    io: Io;
    /** The Pulumi runner for a project folder. */
    pulumi(dir: string): PulumiRunner;
    /** virsh. */
    virsh: RunVirsh;
    interactive(cmd: string, args: string[]): Promise<number>;
    /** Reads a text over https (SHA512SUMS for `base add`); default: fetch. */
    fetchText?: (url: string) => Promise<string>;
    /** Runs a tool for `doctor`. */
    runTool(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** The folder the CLI was installed from (holds Pulumi.yaml when run from a checkout). */
export const INSTALLED_AT = path.resolve(__dirname, __dirname.endsWith(path.join("dist", "cli")) ? "../.." : "..");

/** The global options. */
export interface Globals {
    /** -H, --host. */
    host?: string;
    /** -C, --dir. */
    dir?: string;
}

/** Where a command runs: the project folder's Context, its hosts, and the host picked. */
export interface Where {
    /** The shared Context of the project folder. */
    ctx: Context;
    /** Every host stack of the folder. */
    hosts: string[];
    /** The host to work on (-H, $PROJECT_VM_HOST, the remembered one, or the only one); throws a UsageError when none is picked. */
    host(): string;
    /** The global options as given. */
    globals: Globals;
    /** Every host when `all`, else the picked one. */
    allOrOne(all?: boolean): string[];
}

/** What every command's declaration is given. */
export interface Factory {
    /** The outside world. */
    deps: Deps;
    /** Where the command `cmd` (as commander passes it to an action) runs. */
    where(cmd: Command): Where;
    /** The backup commands' context and the picked host's backups settings. */
    backups(cmd: Command): { ctx: BackupContext; h: HostBackups };
    /** Reports the exit code of a command that ends with one of its own. */
    setCode(code: number): void;
}

/**
 * A command's declaration: adds the command (its arguments, flags and action) to `program`
 * through `program.command(…)`, so that it inherits the program's output and help settings.
 */
export type Declare = (program: Command, f: Factory) => void;

/** PROJECT_VM_LOCK_WAIT: seconds a change waits for another change of the same stack file. */
export function lockWaitMs(env: NodeJS.ProcessEnv): number | undefined {
    const given = env.PROJECT_VM_LOCK_WAIT;
    if (given === undefined || given === "") return undefined;
    if (!/^\d+$/.test(given.trim())) throw new UsageError(`PROJECT_VM_LOCK_WAIT must be a whole number of seconds, got '${given}'`);
    return Number(given) * 1000;
}

/** The Factory over `deps`. */
export function factory(deps: Deps, setCode: (code: number) => void): Factory {
    const where = (cmd: Command): Where => {
        const globals = cmd.optsWithGlobals<Globals>();
        const dir = findProjectDir({ dir: globals.dir, env: deps.env, cwd: deps.cwd, installedAt: INSTALLED_AT });
        const ctx: Context = {
            dir,
            pulumi: deps.pulumi(dir),
            libvirt: (uri) => new Libvirt(uri, deps.virsh),
            interactive: deps.interactive,
            io: deps.io,
            command: commandLine(dir, INSTALLED_AT),
            lockWaitMs: lockWaitMs(deps.env),
        };
        const hosts = listHosts(dir);
        const host = () => pickHost(hosts, { host: globals.host, env: deps.env, remembered: rememberedHost(deps.env) });
        return { ctx, hosts, host, globals, allOrOne: (all) => (all ? hosts : [host()]) };
    };
    return {
        deps,
        where,
        backups(cmd) {
            const w = where(cmd);
            const host = w.host();
            const ctx: BackupContext = { dir: w.ctx.dir, io: deps.io, env: deps.env, command: w.ctx.command, lockWaitMs: w.ctx.lockWaitMs };
            return { ctx, h: readHost(w.ctx.dir, host, deps.env) };
        },
        setCode,
    };
}
