// What each `project-vm` command does. Every change goes through a host's stack file (edited
// with its comments kept, validated by the program's own rules, written atomically) and then
// `pulumi up`; read-only commands combine the stack file, the stack's outputs and libvirt's live
// state, and say what they could not see. Everything outside — Pulumi, virsh, the terminal —
// comes in through the Context, so that the orchestration is tested with stand-ins.
import { ConfigError, formatSize, hostnameOf, parseSize, Project, projectNameProblem, Settings } from "../components/config";
import { GUEST_USER } from "../components/cloudInit";
import { PROJECT_FILES, projectPaths, sshCommand, tailnetFqdn } from "../components/names";
import { GuestResult, Libvirt, LibvirtUnavailable, VolumeSize } from "./libvirt";
import { ProjectOutput, PulumiRunner, PulumiUnavailable } from "./pulumi";
import { lockFile, StackLock } from "./lock";
import { EntryFields, StackFile, stackFilePath, UsageError } from "./stacks";

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
}

/** An operation that failed after the stack file was changed: exit code 1, and what to do next. */
export class ApplyFailed extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ApplyFailed";
    }
}

/** `8192` (MiB) or a size with a unit (`8G`) → MiB. */
export function parseMemory(text: string): number {
    if (/^\d+$/.test(text.trim())) return Number(text);
    const size = parseSize(text);
    if (!size || size.bytes % 1024 ** 2 !== 0) {
        throw new UsageError(`memory must be MiB (e.g. 8192) or a size with a unit (e.g. 8G), got '${text}'`);
    }
    return size.bytes / 1024 ** 2;
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

function settingsOf(stack: StackFile): Settings {
    try {
        return stack.settings();
    } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(`${stack.path}: ${e.message}`);
        throw e;
    }
}

function projectOf(stack: StackFile, settings: Settings, name: string): Project {
    const project = settings.projects.find((p) => p.name === name);
    if (!project) throw new UsageError(stack.noSuchProject(name));
    return project;
}

/** Asks for a yes; `yes` answers it in advance. No terminal and no `yes` is a refusal, with the flag to give. */
async function confirm(io: Io, question: string, yes: boolean | undefined): Promise<boolean> {
    if (yes) return true;
    const answer = await io.ask(`${question} [y/N] `);
    if (answer === undefined) throw new UsageError(`${question} — there is no terminal to ask on; give --yes to confirm`);
    return /^y(es)?$/i.test(answer.trim());
}

/**
 * Holds the host's stack file for one change, from reading it to the end of `pulumi up`: a second
 * change of the same file waits (saying for whom) instead of overwriting the first one's entry.
 */
function lockStack(ctx: Context, host: string, what: string): Promise<StackLock> {
    return lockFile(stackFilePath(ctx.dir, host), {
        command: `project-vm ${what}`,
        waitMs: ctx.lockWaitMs ?? 10 * 60_000,
        onWait: (m) => ctx.io.err(`project-vm: ${m} (up to ${Math.round((ctx.lockWaitMs ?? 10 * 60_000) / 1000)}s)`),
    });
}

/** Writes the edited stack file, applies it, and on failure says what the file now holds and what to do. */
async function applyChange(ctx: Context, stack: StackFile, change: { what: string; undo: string }): Promise<void> {
    stack.save(change.what);
    ctx.io.err(`project-vm: ${change.what}: ${stack.path} updated; applying it (pulumi up --stack ${stack.host})`);
    let code: number;
    try {
        code = await ctx.pulumi.up(stack.host);
    } catch (e) {
        if (!(e instanceof PulumiUnavailable)) throw e;
        throw new ApplyFailed(`${change.what}: ${stack.path} was changed, but it could not be applied: ${e.message}. ` +
            `Apply it later with 'project-vm apply -H ${stack.host}', or undo the change with '${change.undo}'.`);
    }
    if (code !== 0) {
        throw new ApplyFailed(`${change.what}: pulumi up --stack ${stack.host} failed (exit ${code}); ${stack.path} keeps the change. ` +
            `Fix the cause shown above and run 'project-vm apply -H ${stack.host}', or undo the change with '${change.undo}'.`);
    }
}

// ---------------------------------------------------------------------------------------------
// Changes: create, start, stop, resize, destroy, apply.

/** Options of `create`. */
export interface CreateOptions {
    /** Memory as given: MiB or a size with a unit. */
    memory?: string;
    /** vCPUs as given. */
    cpus?: string;
    /** Project disk size as given. */
    disk?: string;
    /** Install Nix (default true). */
    nix?: boolean;
    /** Join the tailnet (default: the stack's tailscale.enabled). */
    tailscale?: boolean;
    /** Install the Claude Code CLI (default true). */
    claudeCode?: boolean;
}

/** Adds a project to the host and creates its VM; prints how to log in. */
export async function create(ctx: Context, host: string, name: string, opts: CreateOptions): Promise<void> {
    const nameProblem = projectNameProblem(name);
    if (nameProblem) throw new UsageError(`project name '${name}' ${nameProblem}`);
    using _lock = await lockStack(ctx, host, `create ${name}`);
    const stack = new StackFile(ctx.dir, host);
    const features: EntryFields["features"] = {};
    if (opts.nix === false) features.nix = false;
    if (opts.tailscale === false) features.tailscale = false;
    if (opts.claudeCode === false) features.claudeCode = false;
    const before = settingsOf(stack);
    stack.addProject(name, {
        memory: opts.memory === undefined ? undefined : parseMemory(opts.memory),
        cpus: opts.cpus === undefined ? undefined : parseCpus(opts.cpus),
        disk: opts.disk === undefined ? undefined : parseDisk(opts.disk),
        // With versioned base images the entry says which one it was made on.
        base: stack.has("project-vms:baseImages") ? before.baseImages[before.baseImages.length - 1].version : undefined,
        features: Object.keys(features).length ? features : undefined,
    });
    await takeUpKeptDisk(ctx, stack, before, name, opts.disk !== undefined);
    await applyChange(ctx, stack, { what: `create ${name}`, undo: `project-vm destroy -H ${host} ${name}` });
    const { row } = await viewProject(ctx, host, name);
    ctx.io.err(`project-vm: ${row.hostname} is ready; its work lives on /home/${GUEST_USER}/project. Log in with:`);
    ctx.io.out(row.ssh ?? sshCommand(row.hostname));
}

/**
 * A project disk kept from an earlier project of the same name is taken up again by the new one:
 * says so, and makes the new entry ask for no less than it holds (the grow step would refuse a
 * shrink, after the VM was made) — or refuses a disk size given smaller. Unchecked when libvirt
 * cannot be reached (`pulumi up` will need it anyway).
 */
async function takeUpKeptDisk(ctx: Context, stack: StackFile, settings: Settings, name: string, sizeGiven: boolean): Promise<void> {
    const kept = await ctx.libvirt(settings.libvirtUri).volume(hostnameOf(name), PROJECT_FILES.projectDisk);
    if (!kept) return;
    const where = projectPaths(settings.storageDir, name).projectDisk;
    const size = kept.capacity % 1024 === 0 ? formatSize(kept.capacity) : `${Math.ceil(kept.capacity / 1024 ** 2)}M`;
    let planned: Project | undefined;
    try {
        planned = stack.settings().projects.find((p) => p.name === name);
    } catch {
        return; // the entry has problems of its own: saving it reports them
    }
    if (planned && planned.disk.bytes < kept.capacity) {
        if (sizeGiven) {
            throw new UsageError(`a project disk kept from an earlier '${name}' is on host ${stack.host} (${where}, ${size}); the new project takes it up, ` +
                `so its disk cannot be ${planned.disk.text}: give ${size} or more, or leave the size out`);
        }
        stack.setFields(name, { disk: size });
    }
    ctx.io.err(`project-vm: ${name} takes up the project disk kept on ${stack.host}: ${where} (${size}, ${(kept.allocation / 1024 ** 3).toFixed(1)}G used)`);
}

/** Sets a project running or stopped and applies it. */
export async function setRunning(ctx: Context, host: string, name: string, running: boolean): Promise<void> {
    using _lock = await lockStack(ctx, host, `${running ? "start" : "stop"} ${name}`);
    const stack = new StackFile(ctx.dir, host);
    projectOf(stack, settingsOf(stack), name);
    // Running is the default: a started project's entry goes back to saying nothing about it.
    stack.setFields(name, { running: running ? null : false });
    const [verb, undo] = running ? ["start", "stop"] : ["stop", "start"];
    await applyChange(ctx, stack, { what: `${verb} ${name}`, undo: `project-vm ${undo} -H ${host} ${name}` });
    ctx.io.err(`project-vm: ${name} is ${running ? "running" : "stopped"}`);
}

/** Options of `resize`. */
export interface ResizeOptions {
    memory?: string;
    cpus?: string;
    disk?: string;
    yes?: boolean;
}

/** Changes a project's memory, vCPUs or project disk size (grow only) and applies it. */
export async function resize(ctx: Context, host: string, name: string, opts: ResizeOptions): Promise<void> {
    if (opts.memory === undefined && opts.cpus === undefined && opts.disk === undefined) {
        throw new UsageError("resize needs at least one of --memory, --cpus, --disk");
    }
    using _lock = await lockStack(ctx, host, `resize ${name}`);
    const stack = new StackFile(ctx.dir, host);
    const project = projectOf(stack, settingsOf(stack), name);
    const memory = opts.memory === undefined ? undefined : parseMemory(opts.memory);
    const cpus = opts.cpus === undefined ? undefined : parseCpus(opts.cpus);
    const disk = opts.disk === undefined ? undefined : parseDisk(opts.disk);
    if (disk !== undefined && parseSize(disk)!.bytes < project.disk.bytes) {
        throw new UsageError(`the project disk of ${name} is ${project.disk.text} and cannot shrink to ${disk} (shrinking would cut off work); nothing changed`);
    }
    const restarts = (memory !== undefined && memory !== project.memory) || (cpus !== undefined && cpus !== project.cpus);
    if (restarts && project.running) {
        ctx.io.err(`project-vm: new memory or vCPUs need a new VM: ${project.hostname} is shut down (ACPI, forced after the stack's shutdownTimeout) and comes back on the same disks.`);
        if (!(await confirm(ctx.io, `Restart ${project.hostname} now?`, opts.yes))) throw new UsageError("resize cancelled; nothing changed");
    }
    stack.setFields(name, { memory, cpus, disk });
    const was = `--memory ${project.memory} --cpus ${project.cpus}`;
    await applyChange(ctx, stack, { what: `resize ${name}`, undo: `project-vm resize -H ${host} ${name} ${was}` });
    const now = projectOf(stack, settingsOf(stack), name);
    ctx.io.err(`project-vm: ${name} has ${now.memory} MiB, ${now.cpus} vCPUs and a ${now.disk.text} project disk` +
        (disk !== undefined && parseSize(disk)!.bytes > project.disk.bytes ? " (its filesystem grows at the VM's next boot)" : ""));
}

/** Options of `destroy`. */
export interface DestroyOptions {
    /** Delete the project disk too. */
    purge?: boolean;
    /** Confirmed in advance. */
    yes?: boolean;
}

/**
 * Removes a project: its VM is shut down and deleted; its project disk stays in the host's
 * storage folder (a project of the same name takes it up again) unless `purge`, which first marks
 * the entry `purge: true` and applies that, then removes it.
 */
export async function destroy(ctx: Context, host: string, name: string, opts: DestroyOptions): Promise<void> {
    using _lock = await lockStack(ctx, host, `destroy ${opts.purge ? "--purge " : ""}${name}`);
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    const paths = projectPaths(settings.storageDir, name);
    if (opts.purge) {
        ctx.io.err(`project-vm: this deletes ${project.hostname} AND its project disk ${paths.projectDisk} on ${host}: the work in /home/${GUEST_USER}/project is gone for good.`);
        if (!opts.yes) {
            const answer = await ctx.io.ask(`Type the project name (${name}) to delete it with its disk: `);
            if (answer === undefined) throw new UsageError(`destroy --purge deletes the project disk of ${name}; there is no terminal to confirm on: give --yes`);
            if (answer.trim() !== name) throw new UsageError("destroy cancelled; nothing changed");
        }
        stack.setFields(name, { purge: true, running: false });
        await applyChange(ctx, stack, {
            what: `destroy --purge ${name} (step 1 of 2: mark it purge and stop it)`,
            undo: `project-vm start -H ${host} ${name} after removing purge: true from its entry`,
        });
    } else {
        ctx.io.err(`project-vm: this deletes the VM ${project.hostname} on ${host} (its system disk: what is installed outside /home/${GUEST_USER}/project). ` +
            `The project disk ${paths.projectDisk} is kept.`);
        if (!(await confirm(ctx.io, `Destroy ${project.hostname}?`, opts.yes))) throw new UsageError("destroy cancelled; nothing changed");
    }
    stack.removeProject(name);
    await applyChange(ctx, stack, {
        what: `destroy ${opts.purge ? "--purge " : ""}${name}`,
        undo: opts.purge ? `project-vm apply -H ${host}` : `project-vm create -H ${host} ${name}`,
    });
    if (opts.purge) ctx.io.err(`project-vm: ${name} and its project disk are gone`);
    else ctx.io.err(`project-vm: ${project.hostname} is gone; its project disk stays at ${paths.projectDisk} on ${host}, and 'project-vm create ${name}' takes it up again`);
}

/** Applies the host's stack file as it is (after a hand edit, or to retry a failed apply). */
export async function apply(ctx: Context, host: string): Promise<void> {
    using _lock = await lockStack(ctx, host, "apply");
    const stack = new StackFile(ctx.dir, host);
    settingsOf(stack);
    const code = await ctx.pulumi.up(host);
    if (code !== 0) throw new ApplyFailed(`pulumi up --stack ${host} failed (exit ${code}); see above`);
}

// ---------------------------------------------------------------------------------------------
// Reading: list, status, ssh-config.

/** One project as `list` and `status` show it. */
export interface ProjectRow {
    /** The host stack. */
    host: string;
    /** The project name. */
    name: string;
    /** `project-<name>`. */
    hostname: string;
    /** What the stack file asks for; null when the stack file has problems. */
    desired: "running" | "stopped" | null;
    /** libvirt's state of the VM ("running", "shut off", …), "absent" when there is no VM, null when unknown. */
    state: string | null;
    /** Memory in MiB. */
    memory: number | null;
    /** vCPUs. */
    cpus: number | null;
    /** Project disk size, e.g. `100G`. */
    disk: string | null;
    /** The base image version the project is pinned to. */
    base: string | null;
    /** The tailnet name. */
    fqdn: string | null;
    /** The VM's address on the host's network. */
    ip: string | null;
    /** How to log in. */
    ssh: string | null;
}

/** One host's view: its rows and what could not be seen. */
interface HostView {
    settings?: Settings;
    rows: ProjectRow[];
    outputs: Record<string, ProjectOutput>;
    libvirt?: Libvirt;
    warnings: string[];
}

async function viewHost(ctx: Context, host: string): Promise<HostView> {
    const warnings: string[] = [];
    const stack = new StackFile(ctx.dir, host);
    let settings: Settings | undefined;
    try {
        settings = stack.settings();
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        warnings.push(`${host}: the stack file has problems, so only the project names are shown (${e.problems.join("; ")})`);
    }
    let outputs: Record<string, ProjectOutput> = {};
    try {
        outputs = await ctx.pulumi.outputs(host);
    } catch (e) {
        if (!(e instanceof PulumiUnavailable)) throw e;
        warnings.push(`${host}: no stack outputs (${e.message}); addresses come from libvirt`);
    }
    let states: Map<string, string> | undefined;
    const libvirt = settings ? ctx.libvirt(settings.libvirtUri) : undefined;
    if (libvirt) {
        try {
            states = await libvirt.states();
        } catch (e) {
            if (!(e instanceof LibvirtUnavailable)) throw e;
            warnings.push(`${host}: ${e.message}; the VMs' live state is unknown`);
        }
    }
    const rows: ProjectRow[] = [];
    if (!settings) {
        for (const name of stack.projectNames()) {
            rows.push({ host, name, hostname: hostnameOf(name), desired: null, state: null, memory: null, cpus: null, disk: null, base: null, fqdn: null, ip: null, ssh: null });
        }
        return { rows, outputs, warnings };
    }
    for (const p of settings.projects) {
        const out = outputs[p.name];
        const state = states ? (states.get(p.hostname) ?? "absent") : null;
        let ip = out?.ip ?? null;
        if (!ip && libvirt && state === "running") ip = (await libvirt.addresses(p.hostname))[0] ?? null;
        const fqdn = tailnetFqdn(p, settings.tailscale.tailnet) ?? null;
        rows.push({
            host, name: p.name, hostname: p.hostname, desired: p.running ? "running" : "stopped", state,
            memory: p.memory, cpus: p.cpus, disk: p.disk.text, base: p.base ?? null, fqdn, ip,
            ssh: fqdn || ip ? sshCommand((fqdn ?? ip)!) : null,
        });
    }
    return { settings, rows, outputs, libvirt, warnings };
}

/** One project of a host as viewHost sees it (the host's stack file must be valid). */
async function viewProject(ctx: Context, host: string, name: string): Promise<{ view: HostView & { settings: Settings }; row: ProjectRow }> {
    const view = await viewHost(ctx, host);
    if (!view.settings) throw new UsageError(`${host}: ${view.warnings[0]}`);
    const row = view.rows.find((r) => r.name === name);
    if (!row) throw new UsageError(new StackFile(ctx.dir, host).noSuchProject(name));
    return { view: { ...view, settings: view.settings }, row };
}

/** Renders rows as a left-aligned table with a header. */
export function table(headers: string[], rows: string[][]): string[] {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(headers), ...rows.map(line)];
}

function stateText(row: ProjectRow): string {
    if (row.state === null) return "?";
    const wanted = row.desired === "stopped" ? "shut off" : row.desired;
    return row.desired && row.state !== wanted ? `${row.state} (wants ${row.desired})` : row.state;
}

/** Options of `list`. */
export interface ListOptions {
    /** Print JSON: `{projects: ProjectRow[], warnings: string[]}`. */
    json?: boolean;
    /** Print the project names only. */
    quiet?: boolean;
}

/** Lists the projects of the given hosts. */
export async function list(ctx: Context, hosts: string[], opts: ListOptions): Promise<void> {
    if (opts.quiet) {
        for (const host of hosts) for (const name of new StackFile(ctx.dir, host).projectNames()) ctx.io.out(name);
        return;
    }
    const views = await Promise.all(hosts.map((h) => viewHost(ctx, h)));
    const rows = views.flatMap((v) => v.rows);
    const warnings = views.flatMap((v) => v.warnings);
    if (opts.json) {
        ctx.io.out(JSON.stringify({ projects: rows, warnings }, null, 2));
        return;
    }
    for (const w of warnings) ctx.io.err(`project-vm: warning: ${w}`);
    if (rows.length === 0) {
        ctx.io.err(`project-vm: no projects on ${hosts.join(", ")}; add one with 'project-vm create <name>'`);
        return;
    }
    const show = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
    for (const l of table(
        ["HOST", "NAME", "STATE", "MEMORY", "CPUS", "DISK", "ADDRESS"],
        rows.map((r) => [r.host, r.name, stateText(r), r.memory === null ? "-" : `${r.memory}M`, show(r.cpus), show(r.disk), show(r.fqdn ?? r.ip)]),
    )) ctx.io.out(l);
}

/** `status --json`: a project row with its disks and cloud-init's status. */
export interface ProjectStatus extends ProjectRow {
    /** The disks on the host: path, and size and space taken when libvirt answers. */
    disks: Record<"system" | "project" | "cloudInit", { path: string } & Partial<VolumeSize>>;
    /** cloud-init in the guest (`cloud-init status --format json`), null when it cannot be asked. */
    cloudInit: { status: string; detail?: string; errors: string[] } | null;
    /** What could not be seen. */
    warnings: string[];
}

/** Shows one project: power state, addresses, sizes, disks and provisioning. */
export async function status(ctx: Context, host: string, name: string, opts: { json?: boolean }): Promise<void> {
    const { view, row } = await viewProject(ctx, host, name);
    const warnings = [...view.warnings];
    const paths = projectPaths(view.settings.storageDir, name);
    const out = view.outputs[name]?.disks;
    const disks: ProjectStatus["disks"] = {
        system: { path: out?.system ?? paths.systemDisk },
        project: { path: out?.project ?? paths.projectDisk },
        cloudInit: { path: out?.cloudInit ?? paths.cloudInit },
    };
    let cloudInit: ProjectStatus["cloudInit"] = null;
    if (view.libvirt && row.state !== null) {
        for (const [key, file] of [["system", PROJECT_FILES.systemDisk], ["project", PROJECT_FILES.projectDisk]] as const) {
            const size = await view.libvirt.volume(row.hostname, file);
            if (size) Object.assign(disks[key], size);
        }
        if (row.state === "running") {
            try {
                cloudInit = parseCloudInitStatus(await view.libvirt.guestExec(row.hostname, "cloud-init", ["status", "--format", "json"]));
            } catch (e) {
                if (!(e instanceof LibvirtUnavailable)) throw e;
                warnings.push(`cloud-init status unknown: ${e.message}`);
            }
        }
    }
    const status: ProjectStatus = { ...row, disks, cloudInit, warnings };
    if (opts.json) {
        ctx.io.out(JSON.stringify(status, null, 2));
        return;
    }
    for (const w of warnings) ctx.io.err(`project-vm: warning: ${w}`);
    const size = (d: { capacity?: number; allocation?: number }) =>
        d.capacity === undefined ? "" : `${formatSize(d.capacity)} (${(d.allocation! / 1024 ** 3).toFixed(1)}G used)  `;
    ctx.io.out(`${row.hostname} on ${host}`);
    for (const [k, v] of [
        ["state", `${stateText(row)}${row.desired ? `; wanted: ${row.desired}` : ""}`],
        ["login", row.ssh ?? "unknown (no tailnet name and no address yet)"],
        ["ip", row.ip ?? "-"],
        ["size", `${row.memory} MiB memory, ${row.cpus} vCPUs`],
        ["project", `${size(disks.project)}${disks.project.path} → /home/${GUEST_USER}/project (entry says ${row.disk})`],
        ["system", `${size(disks.system)}${disks.system.path}${row.base ? ` (base ${row.base})` : ""}`],
        ["cloud-init", cloudInit ? `${cloudInit.status}${cloudInit.errors.length ? `: ${cloudInit.errors.join("; ")}` : ""}` : "unknown"],
    ]) ctx.io.out(`  ${`${k}:`.padEnd(12)}${v}`);
}

/** cloud-init's JSON status (it exits 1 on error and 2 on warnings, with the same JSON). */
export function parseCloudInitStatus(r: GuestResult): NonNullable<ProjectStatus["cloudInit"]> {
    try {
        const s = JSON.parse(r.stdout);
        const errors = [...(Array.isArray(s.errors) ? s.errors : [])].map(String);
        return { status: String(s.extended_status ?? s.status ?? "unknown"), detail: s.detail ? String(s.detail) : undefined, errors };
    } catch {
        throw new LibvirtUnavailable(`cloud-init status said: ${(r.stderr || r.stdout).trim().split("\n")[0] ?? `exit ${r.code}`}`);
    }
}

/** An ssh_config for the projects of the given hosts, to Include from ~/.ssh/config. */
export async function sshConfig(ctx: Context, hosts: string[]): Promise<void> {
    const lines = [
        `# project-vms: generated by 'project-vm ssh-config' for ${hosts.join(", ")}. Keep it as a file of its own,`,
        "#   project-vm ssh-config > ~/.ssh/project-vms.conf",
        "# and put 'Include project-vms.conf' at the top of ~/.ssh/config. Then: ssh project-<name>.",
        "# A VM given a fresh system disk has new host keys: 'ssh-keygen -R <its name>' forgets the old ones.",
    ];
    const tailnets = new Map<string, string[]>();
    for (const host of hosts) {
        const view = await viewHost(ctx, host);
        for (const w of view.warnings) ctx.io.err(`project-vm: warning: ${w}`);
        for (const row of view.rows) {
            if (row.fqdn) {
                const tailnet = row.fqdn.slice(row.hostname.length + 1);
                tailnets.set(tailnet, [...(tailnets.get(tailnet) ?? []), row.hostname]);
            } else if (row.ip) {
                lines.push("", `# ${row.name} on ${host}: not on the tailnet`, `Host ${row.hostname}`, `    HostName ${row.ip}`, `    User ${GUEST_USER}`);
            } else if (row.desired !== null) {
                lines.push("", `# ${row.name} on ${host}: not on the tailnet and no address known yet (is it running?)`);
            }
        }
    }
    for (const [tailnet, names] of tailnets) {
        // Typed in full, the name is used as it is; typed short, the tailnet is appended.
        const short = tailnets.size === 1 ? "project-* !project-*.*" : names.join(" ");
        lines.push("", `Host project-*.${tailnet}`, `    User ${GUEST_USER}`);
        lines.push(`Host ${short}`, `    HostName %h.${tailnet}`, `    User ${GUEST_USER}`);
    }
    for (const l of lines) ctx.io.out(l);
}

// ---------------------------------------------------------------------------------------------
// Getting in: ssh, logs.

/** Logs in to a project (starting it first when it is stopped and the user agrees); resolves to ssh's exit code. */
export async function ssh(ctx: Context, host: string, name: string, args: string[], opts: { start?: boolean }): Promise<number> {
    let { row } = await viewProject(ctx, host, name);
    if (row.desired === "stopped" || (row.state !== null && row.state !== "running")) {
        const why = row.desired === "stopped" ? "is stopped (running: false)" : `is ${row.state}`;
        if (!opts.start) {
            const answer = await ctx.io.ask(`${row.hostname} ${why}. Start it? [Y/n] `);
            if (answer === undefined) throw new UsageError(`${row.hostname} ${why}; start it with 'project-vm start ${name}' or 'project-vm ssh --start ${name}'`);
            if (!/^(y(es)?)?$/i.test(answer.trim())) return 1;
        }
        await setRunning(ctx, host, name, true);
        ({ row } = await viewProject(ctx, host, name));
    }
    const address = row.fqdn ?? row.ip;
    if (!address) throw new UsageError(`no address known for ${row.hostname}: it is not on the tailnet, and neither the stack outputs nor libvirt know its IP`);
    return ctx.interactive("ssh", [`${GUEST_USER}@${address}`, ...args]);
}

/** Shows the end of cloud-init's output log from the guest, or attaches to the serial console. */
export async function logs(ctx: Context, host: string, name: string, opts: { console?: boolean; lines?: string }): Promise<number> {
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    const libvirt = ctx.libvirt(settings.libvirtUri);
    if (opts.console) {
        ctx.io.err(`project-vm: attaching to the serial console of ${project.hostname}; leave with Ctrl+]`);
        return ctx.interactive("virsh", ["-c", settings.libvirtUri, "console", project.hostname]);
    }
    const lines = opts.lines ?? "100";
    if (!/^\d+$/.test(lines)) throw new UsageError(`--lines must be a whole number, got '${lines}'`);
    const state = (await libvirt.states()).get(project.hostname) ?? "absent";
    if (state !== "running") throw new UsageError(`${project.hostname} is ${state}: its logs can be read while it runs (project-vm start ${name})`);
    const r = await libvirt.guestExec(project.hostname, "tail", ["-n", lines, "/var/log/cloud-init-output.log"]);
    if (r.code !== 0) throw new ApplyFailed(`could not read /var/log/cloud-init-output.log in ${project.hostname}: ${r.stderr.trim()}`);
    for (const l of r.stdout.replace(/\n$/, "").split("\n")) ctx.io.out(l);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// doctor.

/** One check of `doctor`. */
export interface Check {
    /** What was checked. */
    name: string;
    /** Whether it passed. */
    ok: boolean;
    /** What was found, or what to do. */
    detail: string;
}

/** A program the CLI or the stack's commands need, how to ask its version, and what it is for. */
export const TOOLS: { cmd: string; args: string[]; for: string }[] = [
    { cmd: "pulumi", args: ["version"], for: "applying the stacks (https://www.pulumi.com/docs/install/)" },
    { cmd: "virsh", args: ["--version"], for: "the host scripts and live state (libvirt client)" },
    { cmd: "mkisofs", args: ["--version"], for: "the libvirt provider's cloud-init ISO (cdrkit/genisoimage)" },
    { cmd: "ssh", args: ["-V"], for: "logging in, and qemu+ssh libvirt URIs (OpenSSH client)" },
    { cmd: "jq", args: ["--version"], for: "the host scripts" },
    { cmd: "curl", args: ["--version"], for: "removing a VM's machine from the tailnet" },
];

/** Checks the tools, each host's stack file and that each host's libvirt answers. */
export async function doctor(ctx: Context, hosts: string[], runTool: (cmd: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>, opts: { json?: boolean }): Promise<boolean> {
    const checks: Check[] = [];
    const major = Number(process.versions.node.split(".")[0]);
    checks.push({ name: "node", ok: major >= 20, detail: `v${process.versions.node}${major >= 20 ? "" : ": 20 or newer is needed"}` });
    for (const tool of TOOLS) {
        const r = await runTool(tool.cmd, tool.args);
        const version = `${r.stdout}\n${r.stderr}`.trim().split("\n")[0];
        checks.push({ name: tool.cmd, ok: r.code !== 127, detail: r.code === 127 ? `not found: needed for ${tool.for}` : version });
    }
    for (const host of hosts) {
        const stack = new StackFile(ctx.dir, host);
        let settings: Settings | undefined;
        try {
            settings = stack.settings();
            checks.push({ name: `${host}: stack file`, ok: true, detail: `${settings.projects.length} project(s), libvirt ${settings.libvirtUri}` });
        } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            checks.push({ name: `${host}: stack file`, ok: false, detail: e.problems.join("; ") });
            continue;
        }
        try {
            const states = await ctx.libvirt(settings.libvirtUri).states();
            checks.push({ name: `${host}: libvirt`, ok: true, detail: `${settings.libvirtUri} answers (${states.size} domain(s))` });
        } catch (e) {
            if (!(e instanceof LibvirtUnavailable)) throw e;
            checks.push({ name: `${host}: libvirt`, ok: false, detail: e.message });
        }
        if (settings.tailscale.enabled) {
            const has = stack.has("tailscale:apiKey") || (stack.has("tailscale:oauthClientId") && stack.has("tailscale:oauthClientSecret"));
            checks.push({
                name: `${host}: Tailscale API credentials`, ok: has,
                detail: has ? "set in the stack file" : `missing: pulumi config set --stack ${host} --secret tailscale:apiKey tskey-api-… (or tailscale:oauthClientId and tailscale:oauthClientSecret)`,
            });
        }
    }
    const ok = checks.every((c) => c.ok);
    if (opts.json) ctx.io.out(JSON.stringify({ ok, checks }, null, 2));
    else for (const c of checks) ctx.io.out(`${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
    return ok;
}

