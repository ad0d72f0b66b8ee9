// `create`: a new entry, a kept project disk taken up, the apply, and how to log in.
import { FEATURE_KEYS, Features, formatSize, hostnameOf, Project, projectNameProblem, Settings } from "../../components/config";
import { GUEST_USER } from "../../components/cloudInit";
import { PROJECT_FILES, projectPaths, sshCommand } from "../../components/names";
import { EntryFields, listHosts, StackFile, UsageError } from "../stacks";
import { applyChange, Context, lockStack, parseCpus, parseDisk, parseMemory, projectOf, settingsOf } from "./context";
import { viewProject } from "./view";
import { Command } from "commander";
import { FEATURES } from "../../components/configSchema";
import { Declare } from "../factory";

/** Whether a host's stack file has a project of this name (a file that cannot be read has none). */
function hasProjectNamed(dir: string, host: string, name: string): boolean {
    try {
        return new StackFile(dir, host).hasProject(name);
    } catch (e) {
        if (e instanceof UsageError) return false;
        throw e;
    }
}

/** Options of `create`. */
export interface CreateOptions {
    /** Memory as given: MiB or a size with a unit. */
    memory?: string;
    /** vCPUs as given. */
    cpus?: string;
    /** Project disk size as given. */
    disk?: string;
    /** The features turned off (`--no-<flag>`: false); the others take the stack's defaults (FEATURES). */
    features?: Partial<Features>;
}

/** Adds a project to the host and creates its VM; prints how to log in. */
export async function create(ctx: Context, host: string, name: string, opts: CreateOptions): Promise<void> {
    const nameProblem = projectNameProblem(name);
    if (nameProblem) throw new UsageError(`project name '${name}' ${nameProblem}`);
    // project-<name> is the tailnet name: two hosts of this checkout must not both have it.
    const elsewhere = listHosts(ctx.dir).filter((h) => h !== host && hasProjectNamed(ctx.dir, h, name));
    if (elsewhere.length > 0) {
        throw new UsageError(
            `project '${name}' already exists on host ${elsewhere.join(", ")}: its VM is ${hostnameOf(name)} on the tailnet, ` +
                `and a second one would become ${hostnameOf(name)}-1; pick another name`,
        );
    }
    using _lock = await lockStack(ctx, host, `create ${name}`);
    const stack = new StackFile(ctx.dir, host);
    const features: EntryFields["features"] = {};
    for (const key of FEATURE_KEYS) if (opts.features?.[key] === false) features[key] = false;
    const before = settingsOf(stack);
    if (stack.hasProject(name)) {
        const p = projectOf(stack, before, name);
        throw new UsageError(
            `project '${name}' already exists on host ${host}` +
                ` (${p.running ? "running" : "stopped"}; ${p.memory} MiB, ${p.cpus} CPUs, disk ${p.disk.text})` +
                `: start it with '${ctx.command(host, "start", name)}', change its size with '${ctx.command(host, "resize", name, "--memory", "<size>")}', or pick another name`,
        );
    }
    stack.addProject(name, {
        memory: opts.memory === undefined ? undefined : parseMemory(opts.memory),
        cpus: opts.cpus === undefined ? undefined : parseCpus(opts.cpus),
        disk: opts.disk === undefined ? undefined : parseDisk(opts.disk),
        // With versioned base images the entry says which one it was made on.
        base: stack.has("project-vms:baseImages") ? before.baseImages[before.baseImages.length - 1].version : undefined,
        features: Object.keys(features).length ? features : undefined,
    });
    await takeUpKeptDisk(ctx, stack, before, name, opts.disk !== undefined);
    await applyChange(ctx, stack, { what: `create ${name}` });
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
            throw new UsageError(
                `a project disk kept from an earlier '${name}' is on host ${stack.host} (${where}, ${size}); the new project takes it up, ` +
                    `so its disk cannot be ${planned.disk.text}: give ${size} or more, or leave the size out`,
            );
        }
        stack.setFields(name, { disk: size });
    }
    ctx.io.err(
        `project-vm: ${name} takes up the project disk kept on ${stack.host}: ${where} (${size}, ${(kept.allocation / 1024 ** 3).toFixed(1)}G used)`,
    );
}

/** `project-vm create <name> [memory] [cpus] [disk]`, with a --no-<feature> flag for each optional feature. */
export const declareCreate: Declare = (program, f) => {
    const cmd = program
        .command("create")
        .description("add a project to the host and create its VM; prints how to log in")
        .argument("<name>", "project name: a DNS label; the VM is project-<name>")
        .argument("[memory]", "memory in MiB, or with a unit (8G); default: the stack's defaultMemory")
        .argument("[cpus]", "vCPUs; default: the stack's defaultCpus")
        .argument("[disk]", "project disk size, e.g. 100G; default: the stack's defaultDisk")
        .action(async (name: string, memory: string | undefined, cpus: string | undefined, disk: string | undefined, o, c: Command) => {
            const w = f.where(c);
            // Commander names --no-claude-code's value claudeCode: each feature's key.
            const features = Object.fromEntries(FEATURES.map((x) => [x.key, o[x.key] as boolean]));
            await create(w.ctx, w.host(), name, { memory, cpus, disk, features });
        });
    for (const x of FEATURES) cmd.option(`--no-${x.flag}`, x.off);
};
