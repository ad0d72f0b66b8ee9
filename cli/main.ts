#!/usr/bin/env node
// project-vm: the command line over the host stacks. Parses arguments (commander), finds the
// project and the host, and hands over to cli/commands.ts. User errors go to stderr with exit
// code 2 and no stack trace; a failed operation exits 1.
import { Command, CommanderError } from "commander";
import { FEATURES } from "../components/configSchema";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import * as backups from "./backup";
import * as commands from "./commands";
import { completionScript } from "./completion";
import { Libvirt, RunVirsh, virshOnPath } from "./libvirt";
import { pulumiCli, PulumiRunner } from "./pulumi";
import { interactive, run } from "./run";
import { findProjectDir, listHosts, pickHost, rememberedHost, rememberHost, UsageError } from "./stacks";

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** What main needs of the world; tests give stand-ins. */
export interface Deps {
    env: NodeJS.ProcessEnv;
    cwd: string;
    io: commands.Io;
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
const INSTALLED_AT = path.resolve(__dirname, __dirname.endsWith(path.join("dist", "cli")) ? "../.." : "..");

/** project-vm's version: the package's. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require(path.join(INSTALLED_AT, "package.json")).version;

/** PROJECT_VM_LOCK_WAIT: seconds a change waits for another change of the same stack file. */
function lockWaitMs(env: NodeJS.ProcessEnv): number | undefined {
    const given = env.PROJECT_VM_LOCK_WAIT;
    if (given === undefined || given === "") return undefined;
    if (!/^\d+$/.test(given.trim())) throw new UsageError(`PROJECT_VM_LOCK_WAIT must be a whole number of seconds, got '${given}'`);
    return Number(given) * 1000;
}

/** The command-line program; commands that end with an exit code of their own report it to `setCode`. */
export function buildProgram(deps: Deps, setCode: (code: number) => void): Command {
    const program = new Command("project-vm")
        .description("One development VM per project on a libvirt host, through the host's Pulumi stack.\n" +
            "Changes edit Pulumi.<host>.yaml (comments kept) and run 'pulumi up'; reads combine the stack file, its outputs and libvirt.")
        .option("-H, --host <host>", "the host stack (default: $PROJECT_VM_HOST, else the only Pulumi.<host>.yaml)")
        .option("-C, --dir <dir>", "the project-vms Pulumi project folder (default: $PROJECT_VMS_DIR, else found from here)")
        .version(VERSION, "-V, --version", "the version of project-vm")
        .configureHelp({ showGlobalOptions: true })
        .showHelpAfterError("(project-vm --help lists the commands)")
        .configureOutput({ writeOut: (s) => deps.io.out(s.replace(/\n$/, "")), writeErr: (s) => deps.io.err(s.replace(/\n$/, "")) })
        .exitOverride();

    type Globals = { host?: string; dir?: string };
    const where = (cmd: Command) => {
        const g = cmd.optsWithGlobals<Globals>();
        const dir = findProjectDir({ dir: g.dir, env: deps.env, cwd: deps.cwd, installedAt: INSTALLED_AT });
        const ctx: commands.Context = {
            dir,
            pulumi: deps.pulumi(dir),
            libvirt: (uri) => new Libvirt(uri, deps.virsh),
            interactive: deps.interactive,
            io: deps.io,
            command: commands.commandLine(dir, INSTALLED_AT),
            lockWaitMs: lockWaitMs(deps.env),
        };
        const hosts = listHosts(dir);
        return { ctx, hosts, host: () => pickHost(hosts, { host: g.host, env: deps.env, remembered: rememberedHost(deps.env) }) };
    };
    const allOrOne = (w: ReturnType<typeof where>, all?: boolean) => (all ? w.hosts : [w.host()]);

    const create = program.command("create").description("add a project to the host and create its VM; prints how to log in")
        .argument("<name>", "project name: a DNS label; the VM is project-<name>")
        .argument("[memory]", "memory in MiB, or with a unit (8G); default: the stack's defaultMemory")
        .argument("[cpus]", "vCPUs; default: the stack's defaultCpus")
        .argument("[disk]", "project disk size, e.g. 100G; default: the stack's defaultDisk")
        .action(async (name: string, memory: string | undefined, cpus: string | undefined, disk: string | undefined, o, cmd: Command) => {
            const w = where(cmd);
            // Commander names --no-claude-code's value claudeCode: each feature's key.
            const features = Object.fromEntries(FEATURES.map((f) => [f.key, o[f.key] as boolean]));
            await commands.create(w.ctx, w.host(), name, { memory, cpus, disk, features });
        });
    for (const f of FEATURES) create.option(`--no-${f.flag}`, f.off);

    for (const [verb, running, description] of [
        ["start", true, "start a project's VM (its entry's running: false goes)"],
        ["stop", false, "shut a project's VM down (running: false; ACPI, forced after shutdownTimeout)"],
    ] as const) {
        program.command(verb).description(description)
            .argument("<name>", "project name")
            .action(async (name: string, _o, cmd: Command) => {
                const w = where(cmd);
                await commands.setRunning(w.ctx, w.host(), name, running);
            });
    }

    program.command("restart").description("reboot a project's running VM (ACPI); the stack file is not changed")
        .argument("<name>", "project name")
        .action(async (name: string, _o, cmd: Command) => {
            const w = where(cmd);
            await commands.restart(w.ctx, w.host(), name);
        });

    program.command("resize").description("change memory or vCPUs (the VM restarts) or grow the project disk (in place)")
        .argument("<name>", "project name")
        .option("-m, --memory <memory>", "memory in MiB, or with a unit (16G)")
        .option("-c, --cpus <cpus>", "vCPUs")
        .option("-d, --disk <size>", "project disk size; it can only grow")
        .option("-y, --yes", "do not ask before restarting the VM")
        .action(async (name: string, o, cmd: Command) => {
            const w = where(cmd);
            await commands.resize(w.ctx, w.host(), name, o);
        });

    program.command("destroy").description("delete a project's VM; its project disk is kept unless --purge")
        .argument("<name>", "project name")
        .option("--purge", "delete the project disk too (asks you to type the project name; with --yes, for scripts, it does not)")
        .option("-y, --yes", "do not ask")
        .action(async (name: string, o, cmd: Command) => {
            const w = where(cmd);
            await commands.destroy(w.ctx, w.host(), name, o);
        });

    program.command("apply").description("apply the host's stack file as it is (pulumi up), e.g. after a failed change")
        .action(async (_o, cmd: Command) => {
            const w = where(cmd);
            await commands.apply(w.ctx, w.host());
        });

    program.command("undo").description("put the host's stack file back as it was before project-vm's latest change of it, and apply it")
        .action(async (_o, cmd: Command) => {
            const w = where(cmd);
            await commands.undo(w.ctx, w.host());
        });

    const base = program.command("base").description("base image versions: list (with the projects on each), add, move a project, prune");
    base.command("list", { isDefault: true }).description("the versions, the newest last, with the VMs on each and the projects pinned to each")
        .option("--json", "JSON: {baseImages: [{version, url, newest, pinned, inUse}]}")
        .action(async (o, cmd: Command) => {
            const w = where(cmd);
            await commands.baseList(w.ctx, w.host(), o);
        });
    base.command("add").description("add a dated image as the newest version, pinned to its SHA-512 (read from the SHA512SUMS beside a cloud.debian.org image)")
        .argument("<version>", "its name, e.g. 2026-12")
        .argument("<url>", "a dated image, e.g. https://cloud.debian.org/images/cloud/forky/20261201/debian-14-genericcloud-amd64-20261201.qcow2")
        .option("--sha512 <sum>", "its SHA-512 (needed elsewhere than cloud.debian.org)")
        .action(async (version: string, url: string, o, cmd: Command) => {
            const w = where(cmd);
            await commands.baseAdd(w.ctx, w.host(), version, url, { sha512: o.sha512, fetchText: deps.fetchText });
        });
    base.command("move").description("move a project to a version: a fresh system disk on it; the project disk, MAC and tailnet name are kept")
        .argument("<name>", "project name")
        .argument("<version>", "a base image version of the host")
        .option("-y, --yes", "do not ask")
        .action(async (name: string, version: string, o, cmd: Command) => {
            const w = where(cmd);
            await commands.baseMove(w.ctx, w.host(), name, version, o);
        });
    base.command("prune").description("remove versions that no project is pinned to and no VM runs on (never the newest), with their volumes")
        .option("-y, --yes", "do not ask")
        .action(async (o, cmd: Command) => {
            const w = where(cmd);
            await commands.basePrune(w.ctx, w.host(), o);
        });

    program.command("ssh").description("log in as dev (over the tailnet, else to the VM's IP); offers to start a stopped VM")
        .argument("<name>", "project name")
        .argument("[args...]", "more ssh arguments, after --")
        .option("--start", "start a stopped VM without asking")
        .action(async (name: string, args: string[], o, cmd: Command) => {
            const w = where(cmd);
            setCode(await commands.ssh(w.ctx, w.host(), name, args, o));
        });

    program.command("list").alias("ls").description("the projects of the host (or of all hosts): wanted and live state, size, address")
        .option("-a, --all", "every host")
        .option("--json", "JSON: {projects: [...], warnings: [...]}")
        .option("-q, --quiet", "project names only")
        .action(async (o, cmd: Command) => {
            const w = where(cmd);
            await commands.list(w.ctx, allOrOne(w, o.all), o);
        });

    program.command("status").description("one project: power state, addresses, disks, cloud-init status")
        .argument("<name>", "project name")
        .option("--json", "JSON")
        .action(async (name: string, o, cmd: Command) => {
            const w = where(cmd);
            await commands.status(w.ctx, w.host(), name, o);
        });

    program.command("logs").description("the end of cloud-init's output log in the VM, or its serial console")
        .argument("<name>", "project name")
        .option("-n, --lines <n>", "how many lines", "100")
        .option("--console", "attach to the serial console instead (virsh console)")
        .action(async (name: string, o, cmd: Command) => {
            const w = where(cmd);
            setCode(await commands.logs(w.ctx, w.host(), name, o));
        });

    // Backups of the project disks (cli/backup.ts, host-scripts/backup.sh).
    const backupCtx = (w: ReturnType<typeof where>) => {
        const host = w.host();
        return { ctx: { dir: w.ctx.dir, io: deps.io, env: deps.env, command: w.ctx.command, lockWaitMs: w.ctx.lockWaitMs } as backups.BackupContext, h: backups.readHost(w.ctx.dir, host, deps.env) };
    };
    program.command("backup").description("back up a project's disk (consistent: frozen through the guest agent), full or incremental, then apply retention")
        .argument("[name]", "project name")
        .option("-a, --all", "every project of the host whose VM runs, and stopped ones whose disk changed since their newest backup")
        .option("--full", "a full backup even when an incremental could be made")
        .option("--json", "JSON: {host, backups: [{project, ok, volume, kind, size, seconds, deleted, error, skipped}]}")
        .action(async (name: string | undefined, o, cmd: Command) => {
            const { ctx, h } = backupCtx(where(cmd));
            setCode((await backups.backup(ctx, h, name, o)) ? EXIT.ok : EXIT.failed);
        });

    program.command("backups").description("list a project's backups: time, kind, size (also after the project was removed)")
        .argument("<name>", "project name")
        .option("--json", "JSON: {host, project, dir, backups: [{volume, time, kind, size, capacity, base, chainSize}], total, keptAside}")
        .action(async (name: string, o, cmd: Command) => {
            const { ctx, h } = backupCtx(where(cmd));
            await backups.backups(ctx, h, name, o);
        });

    program.command("restore").description("replace a project's disk by a backup; the replaced disk is kept aside until --confirm")
        .argument("<name>", "project name")
        .argument("[backup]", "the backup: its name from 'project-vm backups', its time stamp, or latest")
        .option("--stop", "shut the VM down first when it runs (ACPI), and start it again afterwards")
        .option("--confirm", "delete the disk(s) earlier restores kept aside")
        .option("-y, --yes", "do not ask")
        .option("--json", "JSON: {project, restored, keptAside, verified, seconds}")
        .action(async (name: string, which: string | undefined, o, cmd: Command) => {
            const { ctx, h } = backupCtx(where(cmd));
            await backups.restore(ctx, h, name, which, o);
        });

    program.command("ssh-config").description("an ssh_config block (Host project-*) for the projects, to Include from ~/.ssh/config")
        .option("-a, --all", "every host (the default unless -H or $PROJECT_VM_HOST picks one)")
        .action(async (o, cmd: Command) => {
            const w = where(cmd);
            // One file for every project a user has: all hosts unless one is picked.
            const picked = cmd.optsWithGlobals<Globals>().host ?? deps.env.PROJECT_VM_HOST;
            await commands.sshConfig(w.ctx, allOrOne(w, o.all || !picked));
        });

    program.command("config").description("what a project's entry resolves to, the stack's defaults applied")
        .argument("<name>", "project name")
        .option("--json", "JSON")
        .action(async (name: string, o, cmd: Command) => {
            const w = where(cmd);
            await commands.showConfig(w.ctx, w.host(), name, o);
        });

    program.command("use").description("remember the host to work on when -H and $PROJECT_VM_HOST say none (--forget: remember none)")
        .argument("[host]", "a host stack of the project")
        .option("--forget", "forget the remembered host")
        .action(async (host: string | undefined, o, cmd: Command) => {
            const w = where(cmd);
            if (o.forget) {
                const file = rememberHost(deps.env, undefined);
                deps.io.err(`project-vm: no host remembered (${file})`);
                return;
            }
            if (host === undefined) {
                const remembered = rememberedHost(deps.env);
                deps.io.out(remembered ?? "");
                if (!remembered) deps.io.err("project-vm: no host remembered: 'project-vm use <host>' remembers one");
                return;
            }
            const picked = pickHost(w.hosts, { host, env: {} });
            const file = rememberHost(deps.env, picked);
            deps.io.err(`project-vm: ${picked} is the host from now on, unless -H or $PROJECT_VM_HOST says otherwise (${file})`);
        });

    program.command("doctor").description("check the tools, every host's stack file and that its libvirt answers")
        .option("--json", "JSON: {ok, checks: [{name, ok, detail}]}")
        .action(async (o, cmd: Command) => {
            const w = where(cmd);
            // One host when one is picked (-H, PROJECT_VM_HOST); else every stack file, those not
            // set up in the backend only noted.
            const g = cmd.optsWithGlobals<Globals>();
            const picked = g.host !== undefined || deps.env.PROJECT_VM_HOST !== undefined;
            const ok = await commands.doctor(w.ctx, picked ? [w.host()] : w.hosts, deps.runTool, { ...o, picked });
            setCode(ok ? EXIT.ok : EXIT.failed);
        });

    program.command("completion").description("a shell completion script: eval \"$(project-vm completion bash)\"")
        .addArgument(new Command().createArgument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
        .action((shell: "bash" | "zsh") => {
            deps.io.out(completionScript(program, shell));
        });

    return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], deps: Deps): Promise<number> {
    let code: number = EXIT.ok;
    const program = buildProgram(deps, (c) => (code = c));
    try {
        await program.parseAsync(argv, { from: "user" });
        return code;
    } catch (e) {
        if (e instanceof CommanderError) {
            if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version") return EXIT.ok;
            return EXIT.usage;
        }
        if (e instanceof UsageError) {
            deps.io.err(`project-vm: ${e.message}`);
            return EXIT.usage;
        }
        if (e instanceof Error) {
            deps.io.err(`project-vm: ${e.message}`);
            if (deps.env.PROJECT_VM_DEBUG && e.stack) deps.io.err(e.stack);
            return e instanceof commands.ApplyFailed ? e.exitCode : EXIT.failed;
        }
        throw e;
    }
}

/** The real terminal: questions only when stdin and stderr are terminals. */
export function terminalIo(): commands.Io {
    return {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        async ask(question) {
            if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
            const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
            try {
                return await rl.question(question);
            } finally {
                rl.close();
            }
        },
    };
}

if (require.main === module) {
    main(process.argv.slice(2), {
        env: process.env,
        cwd: process.cwd(),
        io: terminalIo(),
        pulumi: (dir) => pulumiCli(dir),
        virsh: virshOnPath,
        interactive,
        runTool: (cmd, args) => run(cmd, args, { timeoutMs: 30_000 }),
    }).then((code) => {
        process.exitCode = code;
    });
}

