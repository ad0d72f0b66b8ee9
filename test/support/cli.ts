// A stand-in world for the CLI: a copy of the project's Pulumi files in a temporary folder, a
// Pulumi that records each apply together with the stack file it saw, the shared stand-in virsh
// (fakeVirsh.ts), and a terminal with scripted answers.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { Deps, main } from "../../cli/main";
import { ProjectOutput, PulumiUnavailable, systemDiskUrn } from "../../cli/pulumi";
import { lockPathOf } from "../../cli/lock";
import { FakeHost } from "./fakeVirsh";
import { EXAMPLES, REPO } from "./schemas";

/** One `pulumi up` the CLI ran: the host and the stack file's text at that moment. */
export interface Apply {
    host: string;
    text: string;
    /** URNs it was told to replace (`--replace`). */
    replace: string[];
    /** The parsed project entries at that moment. */
    projects: Record<string, any>[];
}

/** The fake world and what the CLI did in it. */
export class World {
    readonly dir: string;
    readonly applies: Apply[] = [];
    readonly out: string[] = [];
    readonly err: string[] = [];
    readonly asked: string[] = [];
    readonly interactive: { cmd: string; args: string[] }[] = [];
    /** Answers to questions, in order; undefined = no terminal. */
    answers: (string | undefined)[] = [];
    /** Exit codes of the next applies (0 when empty). */
    upCodes: number[] = [];
    /** How the next applies rewrite the stack file, as Pulumi does (its salt, its formatting). */
    upRewrites: ((text: string) => string)[] = [];
    /** Whether the Pulumi CLI is missing. */
    pulumiMissing = false;
    /** libvirt: the stand-in virsh's host, its domains and volumes (the CLI and the host scripts both see it). */
    readonly host = new FakeHost();
    /** The stack outputs by host. */
    outputs: Record<string, Record<string, ProjectOutput>> = {};
    /**
     * Pulumi's state as far as project disks go, by host and project: whether the disk is held
     * with retainOnDelete. Every apply, failed ones too (the engine may have updated the volume
     * before failing), takes each entry's purge into it; an entry gone deletes a disk not retained.
     */
    retained: Record<string, Record<string, boolean>> = {};
    /** Project disks the engine deleted, as `host/name`. */
    readonly deletedDisks: string[] = [];
    /** What `pulumi version` says. */
    pulumiVersion = "v3.274.1";
    /** Pulumi's state of system disks: by host, project → base volume file. */
    systemDisks: Record<string, Record<string, string>> = {};
    /**
     * The replacement trigger Pulumi's state recorded for each system disk, by host and project
     * (none: made before project-vms set one). An apply moves a disk in systemDisks when its
     * entry's trigger differs from a recorded one, or when it is told to replace it; it then
     * records the trigger (components/projectVm.ts systemDiskTrigger; the engine's rule).
     */
    diskTriggers: Record<string, Record<string, string>> = {};
    /** Whether `pulumi stack export` fails. */
    stateUnreadable = false;
    /** What `pulumi plugin ls --json` lists. */
    plugins = [
        { name: "libvirt", kind: "resource", version: "0.5.4" },
        { name: "command", kind: "resource", version: "1.2.1" },
        { name: "tailscale", kind: "resource", version: "0.27.1" },
    ];
    /** Whether the Node.js language host is found. */
    languageHost = true;
    /** The stacks `pulumi stack ls --json` lists. */
    backendStacks = ["storage", "raider"];
    /** Exit code of the interactive programs. */
    interactiveCode = 0;
    env: NodeJS.ProcessEnv = {};

    constructor(stacks: string[] = ["storage", "raider"]) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-cli-"));
        fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(this.dir, "Pulumi.yaml"));
        for (const s of stacks) fs.copyFileSync(path.join(EXAMPLES, `Pulumi.${s}.yaml`), path.join(this.dir, `Pulumi.${s}.yaml`));
    }

    stackText(host: string): string {
        return fs.readFileSync(path.join(this.dir, `Pulumi.${host}.yaml`), "utf8");
    }

    writeStack(host: string, text: string): void {
        fs.writeFileSync(path.join(this.dir, `Pulumi.${host}.yaml`), text);
    }

    /** Adds `line` (e.g. `running: false`) to project `name`'s entry in the stack file, as an edit by hand. */
    editEntry(host: string, name: string, line: string): void {
        this.writeStack(host, this.stackText(host).replace(new RegExp(`(- name: ${name}\\n)`), `$1      ${line}\n`));
    }

    /** The files in the project folder (to see that no temporary file is left), but project-vm's undo folder. */
    files(): string[] {
        return fs
            .readdirSync(this.dir)
            .filter((f) => f !== ".project-vm")
            .sort();
    }

    deps(): Deps {
        return {
            env: { ...this.env },
            cwd: this.dir,
            io: {
                out: (l) => this.out.push(l),
                err: (l) => this.err.push(l),
                ask: async (q) => {
                    this.asked.push(q);
                    return this.answers.shift();
                },
            },
            pulumi: (dir) => ({
                up: async (host, opts = {}) => {
                    if (this.pulumiMissing) throw new PulumiUnavailable("the Pulumi CLI (pulumi) is not installed or not on PATH");
                    const text = fs.readFileSync(path.join(dir, `Pulumi.${host}.yaml`), "utf8");
                    const projects: Record<string, any>[] = parse(text).config["project-vms:projects"] ?? [];
                    const replace = opts.replace ?? [];
                    this.applies.push({ host, text, projects, replace });
                    const disks = this.systemDisks[host] ?? {};
                    const triggers = (this.diskTriggers[host] ??= {});
                    for (const p of projects) {
                        const trigger = p.base === undefined ? "unpinned" : `base:${p.base}`;
                        const recorded = triggers[p.name];
                        const replaced = (recorded !== undefined && recorded !== trigger) || replace.includes(systemDiskUrn(host, p.name));
                        if (disks[p.name] !== undefined && replaced && p.base !== undefined)
                            disks[p.name] = `debian-testing-${p.base}.qcow2`;
                        triggers[p.name] = trigger;
                    }
                    const state = (this.retained[host] ??= {});
                    for (const name of Object.keys(state)) {
                        if (projects.some((p) => p.name === name)) continue;
                        if (!state[name]) this.deletedDisks.push(`${host}/${name}`);
                        delete state[name];
                    }
                    for (const p of projects) state[p.name] = p.purge !== true;
                    const rewrite = this.upRewrites.shift();
                    if (rewrite) this.writeStack(host, rewrite(this.stackText(host)));
                    return this.upCodes.shift() ?? 0;
                },
                outputs: async (host) => {
                    if (this.pulumiMissing) throw new PulumiUnavailable("the Pulumi CLI (pulumi) is not installed or not on PATH");
                    return this.outputs[host] ?? {};
                },
                version: async () => {
                    if (this.pulumiMissing) throw new PulumiUnavailable("the Pulumi CLI (pulumi) is not installed or not on PATH");
                    return this.pulumiVersion;
                },
                systemDiskBases: async (host) => {
                    if (this.pulumiMissing || this.stateUnreadable)
                        throw new PulumiUnavailable(`pulumi stack export failed for stack ${host}: backend unreachable`);
                    return new Map(Object.entries(this.systemDisks[host] ?? {}));
                },
                armedPurges: async (host) => {
                    if (this.pulumiMissing) throw new PulumiUnavailable("the Pulumi CLI (pulumi) is not installed or not on PATH");
                    if (this.stateUnreadable)
                        throw new PulumiUnavailable(`pulumi stack export failed for stack ${host}: backend unreachable`);
                    return new Set(
                        Object.entries(this.retained[host] ?? {})
                            .filter(([, kept]) => !kept)
                            .map(([name]) => name),
                    );
                },
            }),
            virsh: this.host.virsh,
            interactive: async (cmd, args) => {
                this.interactive.push({ cmd, args });
                return this.interactiveCode;
            },
            runTool: async (cmd, args) => {
                if (cmd === "pulumi" && this.pulumiMissing) return { code: 127, stdout: "", stderr: "pulumi: not found" };
                const json = (v: unknown) => ({ code: 0, stdout: JSON.stringify(v), stderr: "" });
                if (cmd === "sh")
                    return this.languageHost
                        ? { code: 0, stdout: "/opt/pulumi/bin/pulumi-language-nodejs\n", stderr: "" }
                        : { code: 1, stdout: "", stderr: "" };
                // As the real CLI: JSON only when asked for it, by these exact commands.
                if (cmd === "pulumi" && args.join(" ") === "plugin ls --json") return json(this.plugins);
                if (cmd === "pulumi" && args.slice(0, 3).join(" ") === "stack ls --json" && args[3] === "--cwd" && args.length === 5)
                    return json(this.backendStacks.map((name) => ({ name })));
                if (cmd === "pulumi" && (args[0] === "plugin" || args[0] === "stack"))
                    return { code: 1, stdout: "", stderr: `error: unknown command "${args.join(" ")}" for "pulumi"` };
                return { code: 0, stdout: cmd === "pulumi" ? `${this.pulumiVersion}\n` : `${cmd} 1.0\n`, stderr: "" };
            },
        };
    }

    /** The project-vm command line holding the host's stack file now (its lock file's `command`). */
    lockHolder(host = "storage"): string {
        return JSON.parse(fs.readFileSync(lockPathOf(path.join(this.dir, `Pulumi.${host}.yaml`)), "utf8")).command;
    }

    /** Deps whose every `pulumi up` first notes, in `holders`, who holds the stack file then. */
    depsNotingHolders(): { deps: Deps; holders: string[] } {
        const deps = this.deps();
        const pulumi = deps.pulumi;
        const holders: string[] = [];
        deps.pulumi = (dir) => {
            const p = pulumi(dir);
            return {
                ...p,
                up: async (host, opts) => {
                    holders.push(this.lockHolder(host));
                    return p.up(host, opts);
                },
            };
        };
        return { deps, holders };
    }

    /** Runs `project-vm <args>`; resolves to the exit code. */
    run(...args: string[]): Promise<number> {
        return main(args, this.deps());
    }

    /**
     * Runs a command line the CLI printed (`project-vm …`), as a user pasting it would: from
     * another folder (the filesystem root), so that it works only if it names its project folder.
     */
    paste(line: string): Promise<number> {
        const words = [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) =>
            m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2],
        );
        assert.equal(words.shift(), "project-vm", `a project-vm command: ${line}`);
        return main(words, { ...this.deps(), cwd: "/" });
    }

    /** The project-vm command lines quoted in what the CLI wrote to stderr ('project-vm …'). */
    printedCommands(): string[] {
        return [...this.errText().matchAll(/'(project-vm [^']*)'/g)].map((m) => m[1]);
    }

    /** Everything written to stderr, as one text. */
    errText(): string {
        return this.err.join("\n");
    }

    cleanup(): void {
        this.host.cleanup();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** A World for test `t`, cleaned up after it. */
export function worldFor(t: { after(fn: () => void): void }, stacks?: string[]): World {
    const w = new World(stacks);
    t.after(() => w.cleanup());
    return w;
}

/** An ed25519 public key of one's own (a well-formed blob), not the shipped stack files' sample key. */
export function ownSshKey(): string {
    const blob = (s: string) => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s)]);
    return `ssh-ed25519 ${Buffer.concat([blob("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]).toString("base64")} me@laptop`;
}
