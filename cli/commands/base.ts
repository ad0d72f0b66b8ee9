// `base`: the base image versions as a routine — which projects are on each, a new dated version
// (pinned to its SHA-512), a project moved to another, and versions nothing uses pruned.
import { BaseImage } from "../../components/config";
import { isPreparedOf, preparedMarkerName, preparedPrefixOf } from "../../components/names";
import { BASE_POOL_DIR, debianSumsUrl, NAMESPACE, sha512Problem } from "../../components/validate";
import { LibvirtUnavailable } from "../libvirt";
import { PulumiUnavailable, systemDiskUrn } from "../pulumi";
import { StackFile, UsageError } from "../stacks";
import { ApplyFailed, applyChange, confirm, Context, lockStack, projectOf, requirePulumi, settingsOf, upAndRecord } from "./context";
import { Command } from "commander";
import { Declare } from "../factory";

/** The libvirt pool of the base images (components/host.ts basePoolName, without loading Pulumi). */
const BASE_POOL = `${NAMESPACE}-${BASE_POOL_DIR}`;

/** One base image version as `base list` shows it. */
export interface BaseRow {
    version: string;
    url: string;
    /** Where new projects start. */
    newest: boolean;
    /** Projects whose entry pins this version. */
    pinned: string[];
    /**
     * Projects whose system disk, by Pulumi's state, is an overlay of this version or of one of its
     * prepared layers (null when unknown).
     */
    inUse: string[] | null;
}

/** The rows of a host's versions; `stateRead` false when Pulumi's state could not be read (every `inUse` null). */
async function rows(
    ctx: Context,
    host: string,
    images: BaseImage[],
    pins: Map<string, string | undefined>,
): Promise<{ list: BaseRow[]; stateRead: boolean }> {
    let bases: Map<string, string> | undefined;
    try {
        bases = await ctx.pulumi.systemDiskBases(host);
    } catch (e) {
        if (!(e instanceof PulumiUnavailable)) throw e;
    }
    const list = images.map((b, i) => ({
        version: b.version,
        url: b.url,
        newest: i === images.length - 1,
        pinned: [...pins].filter(([, v]) => v === b.version).map(([n]) => n),
        inUse: bases ? [...bases].filter(([, vol]) => vol === b.volume || isPreparedOf(vol, b.volume)).map(([n]) => n) : null,
    }));
    return { list, stateRead: bases !== undefined };
}

/** Lists the base image versions with the projects on each. */
export async function baseList(ctx: Context, host: string, opts: { json?: boolean }): Promise<void> {
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const { list, stateRead } = await rows(ctx, host, settings.baseImages, new Map(settings.projects.map((p) => [p.name, p.base])));
    if (opts.json) {
        ctx.io.out(JSON.stringify({ baseImages: list }, null, 2));
        return;
    }
    if (!stateRead) ctx.io.err("project-vm: warning: Pulumi's state could not be read: which VMs run on which version is unknown");
    for (const r of list) {
        const on = r.inUse === null ? "?" : r.inUse.join(", ") || "none";
        ctx.io.out(`${r.version}${r.newest ? " (newest: new projects start here)" : ""}`);
        ctx.io.out(`  url:    ${r.url}`);
        ctx.io.out(`  VMs:    ${on}${r.pinned.length ? `; pinned by ${r.pinned.join(", ")}` : ""}`);
    }
}

/** Whether a URL names an image that changes under it (a "latest" link). */
export function movingImageProblem(url: string): string | undefined {
    // Every valid location starts with a scheme or "/" (validate.ts imageLocationProblem).
    return /\/(latest|current)(\/|[-_.]|$)/i.test(url) || /daily\.qcow2$/.test(url)
        ? "names an image that changes under the same URL (latest/daily); give a dated image, e.g. …/forky/20261101/debian-14-genericcloud-amd64-20261101.qcow2"
        : undefined;
}

/** Reads an image's SHA-512 from the SHA512SUMS beside it (cloud.debian.org). */
export async function sha512FromSums(url: string, fetchText: (url: string) => Promise<string>): Promise<string> {
    const sums = debianSumsUrl(url);
    if (!sums) throw new UsageError(`${url} is not a cloud.debian.org image: give its --sha512`);
    const name = url.slice(url.lastIndexOf("/") + 1);
    let text: string;
    try {
        text = await fetchText(sums);
    } catch (e) {
        throw new UsageError(`could not read ${sums} (${(e as Error).message}): give the image's --sha512`);
    }
    const line = text
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .find((f) => f[1] === name || f[1] === `*${name}`);
    if (!line || sha512Problem(line[0])) throw new UsageError(`${sums} lists no SHA-512 for ${name}: is the URL right?`);
    return line[0].toLowerCase();
}

/**
 * Reads a text over https, following up to five redirects, each only to another https URL (an
 * image's SHA-512 read over plain http could be anyone's); `fetchImpl` is the WHATWG fetch.
 */
export async function httpsText(url: string, fetchImpl: typeof fetch = fetch): Promise<string> {
    let at = new URL(url);
    for (let hops = 0; ; hops++) {
        if (at.protocol !== "https:")
            throw new Error(hops === 0 ? `${at.href} is not https` : `redirected to ${at.href}, which is not https`);
        const r = await fetchImpl(at.href, { redirect: "manual" });
        const location = r.headers.get("location");
        if (r.status >= 300 && r.status < 400 && location) {
            if (hops === 5) throw new Error(`more than 5 redirects from ${url}`);
            at = new URL(location, at);
            continue;
        }
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.text();
    }
}

/** Options of `base add`. */
export interface BaseAddOptions {
    sha512?: string;
    /** Reads a text over https (SHA512SUMS); tests give a stand-in. */
    fetchText?: (url: string) => Promise<string>;
}

/** Adds a dated base image version, pinned to its SHA-512, and applies (the volume is made). */
export async function baseAdd(ctx: Context, host: string, version: string, url: string, opts: BaseAddOptions): Promise<void> {
    const moving = movingImageProblem(url);
    if (moving) throw new UsageError(`${url} ${moving}`);
    if (opts.sha512 !== undefined && sha512Problem(opts.sha512)) throw new UsageError(`--sha512 ${sha512Problem(opts.sha512)}`);
    using _lock = await lockStack(ctx, host, `base add ${version}`);
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    if (settings.baseImages.some((b) => b.version === version))
        throw new UsageError(`base image version ${version} is already listed on ${host}`);
    const fetchText = opts.fetchText ?? ((u: string) => httpsText(u));
    const sha512 = opts.sha512?.toLowerCase() ?? (await sha512FromSums(url, fetchText));
    stack.setBaseImages([
        ...settings.baseImages.map((b) => ({ version: b.version, url: b.url, sha512: b.sha512 })),
        { version, url, sha512 },
    ]);
    await applyChange(ctx, stack, { what: `base add ${version}` });
    ctx.io.err(
        `project-vm: base image ${version} is on ${host} (SHA-512 ${sha512.slice(0, 16)}…); new projects start on it. ` +
            `Move a project with '${ctx.command(host, "base", "move", "<name>", version)}'`,
    );
}

/** Moves a project to another base version: its system disk is made afresh, its project disk kept. */
export async function baseMove(ctx: Context, host: string, name: string, version: string, opts: { yes?: boolean }): Promise<void> {
    using _lock = await lockStack(ctx, host, `base move ${name} ${version}`);
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const project = projectOf(stack, settings, name);
    if (!settings.baseImages.some((b) => b.version === version)) {
        throw new UsageError(
            `no base image version ${version} on ${host} (it has ${settings.baseImages.map((b) => b.version).join(", ")})`,
        );
    }
    const target = settings.baseImages.find((b) => b.version === version)!;
    const freshDisk = () =>
        ctx.io.err(
            `project-vm: ${project.hostname} gets a fresh system disk on ${version}: it is shut down (ACPI), provisioned ` +
                `afresh, and keeps its project disk (/home/dev/project), MAC and tailnet name; what was installed outside /home/dev/project goes.`,
        );
    const again = ctx.command(host, "base", "move", name, version);
    if (project.base === version) {
        // Pinned already; but a disk made before its base was recorded may not have moved.
        ctx.io.err(`project-vm: ${name} is pinned to ${version}`);
        await requirePulumi(ctx);
        await confirmMoved(ctx, host, name, target, async () => {
            freshDisk();
            return confirm(ctx.io, `Move ${project.hostname} to ${version}?`, opts.yes);
        });
        return;
    }
    stack.setFields(name, { base: version });
    settingsOf(stack);
    freshDisk();
    if (!(await confirm(ctx.io, `Move ${project.hostname} to ${version}?`, opts.yes)))
        throw new UsageError("base move cancelled; nothing changed");
    try {
        await applyChange(ctx, stack, { what: `base move ${name} ${version}` });
    } catch (e) {
        // 'apply' alone would not check where the disk ended up: the move is finished by running it again.
        if (e instanceof ApplyFailed) throw new ApplyFailed(`${e.message} To finish the move once the cause is fixed, run '${again}'.`);
        throw e;
    }
    await confirmMoved(ctx, host, name, target, async () => true);
    ctx.io.err(`project-vm: ${name} runs on ${version}`);
}

/**
 * After a move's apply, Pulumi's state must show the system disk on the version (its image or one
 * of its prepared layers). A disk made before project-vms recorded its base in the state (the
 * engine ignores a replacement trigger it has never seen) is not moved by the change alone: it is
 * then replaced explicitly (`pulumi up --replace`).
 */
async function confirmMoved(ctx: Context, host: string, name: string, target: BaseImage, ask: () => Promise<boolean>): Promise<void> {
    let bases: Map<string, string>;
    try {
        bases = await ctx.pulumi.systemDiskBases(host);
    } catch (e) {
        if (!(e instanceof PulumiUnavailable)) throw e;
        ctx.io.err(
            `project-vm: warning: Pulumi's state could not be read (${e.message}): check with '${ctx.command(host, "base")}' that ${name} is on ${target.version}`,
        );
        return;
    }
    const on = bases.get(name);
    if (on === undefined || on === target.volume || isPreparedOf(on, target.volume)) return;
    ctx.io.err(
        `project-vm: ${name}'s system disk is still on ${on} (made before its base was recorded in Pulumi's state): it is replaced to move it`,
    );
    if (!(await ask())) throw new UsageError(`base move cancelled; ${name} stays on ${on}`);
    const code = await upAndRecord(ctx, new StackFile(ctx.dir, host), { replace: [systemDiskUrn(host, name)] });
    if (code !== 0) {
        throw new ApplyFailed(
            `base move ${name} ${target.version}: pulumi up --replace of its system disk failed (exit ${code}); ` +
                `its entry is pinned to ${target.version}: run '${ctx.command(host, "base", "move", name, target.version)}' again once the cause shown above is fixed`,
        );
    }
}

/** Removes versions no project is pinned to and no VM runs on (never the newest), and their volumes. */
export async function basePrune(ctx: Context, host: string, opts: { yes?: boolean }): Promise<void> {
    using _lock = await lockStack(ctx, host, "base prune");
    const stack = new StackFile(ctx.dir, host);
    const settings = settingsOf(stack);
    const { list, stateRead } = await rows(ctx, host, settings.baseImages, new Map(settings.projects.map((p) => [p.name, p.base])));
    if (!stateRead) throw new UsageError("Pulumi's state could not be read, so which VMs run on which version is unknown; nothing pruned");
    const unused = settings.baseImages.filter((b, i) => !list[i].newest && list[i].pinned.length === 0 && list[i].inUse!.length === 0);
    if (unused.length === 0) {
        ctx.io.err(`project-vm: every base image version of ${host} is in use (or the newest); nothing to prune`);
        return;
    }
    ctx.io.err(
        `project-vm: no project uses ${unused.map((b) => b.version).join(", ")}: they leave the stack file, and their volumes the host.`,
    );
    if (!(await confirm(ctx.io, `Prune ${unused.map((b) => b.version).join(", ")}?`, opts.yes)))
        throw new UsageError("base prune cancelled; nothing changed");
    const keep = settings.baseImages.filter((b) => !unused.includes(b));
    stack.setBaseImages(keep.map((b) => ({ version: b.version, url: b.url, sha512: b.sha512 })));
    await applyChange(ctx, stack, { what: "base prune" });
    // The volumes are kept by the program when a version leaves the config (retainOnDelete), and
    // so are its prepared layers: delete them now.
    const libvirt = ctx.libvirt(settings.libvirtUri);
    let present: string[];
    try {
        present = await libvirt.volumes(BASE_POOL);
    } catch (e) {
        if (!(e instanceof LibvirtUnavailable)) throw e;
        // Which prepared layers each version has is unknown: say what to look for, delete nothing.
        const virsh = `virsh -c ${settings.libvirtUri}`;
        ctx.io.err(
            `project-vm: warning: the volumes of ${BASE_POOL} could not be listed (${e.message}), so none was deleted: ` +
                `delete ${unused.map((b) => `${b.volume} and its prepared layers (${preparedPrefixOf(b.volume)}*)`).join(", ")} ` +
                `with '${virsh} vol-list --pool ${BASE_POOL}' and '${virsh} vol-delete --pool ${BASE_POOL} <volume>'`,
        );
        return;
    }
    for (const b of unused) {
        const layers = present.filter((v) => isPreparedOf(v, b.volume));
        const markers = layers.map(preparedMarkerName).filter((m) => present.includes(m));
        for (const volume of [b.volume, ...layers, ...markers]) {
            try {
                await libvirt.deleteVolume(BASE_POOL, volume);
                ctx.io.err(`project-vm: deleted ${volume} from the host`);
            } catch (e) {
                if (!(e instanceof LibvirtUnavailable)) throw e;
                ctx.io.err(
                    `project-vm: warning: ${volume} could not be deleted (${e.message}); delete it with 'virsh -c ${settings.libvirtUri} vol-delete --pool ${BASE_POOL} ${volume}'`,
                );
            }
        }
    }
}

/** `project-vm base list|add|move|prune`. */
export const declareBase: Declare = (program, f) => {
    const base = program.command("base").description("base image versions: list (with the projects on each), add, move a project, prune");
    base.command("list", { isDefault: true })
        .description("the versions, the newest last, with the VMs on each and the projects pinned to each")
        .option("--json", "JSON: {baseImages: [{version, url, newest, pinned, inUse}]}")
        .action(async (o, c: Command) => {
            const w = f.where(c);
            await baseList(w.ctx, w.host(), o);
        });
    base.command("add")
        .description(
            "add a dated image as the newest version, pinned to its SHA-512 (read from the SHA512SUMS beside a cloud.debian.org image)",
        )
        .argument("<version>", "its name, e.g. 2026-12")
        .argument(
            "<url>",
            "a dated image, e.g. https://cloud.debian.org/images/cloud/forky/20261201/debian-14-genericcloud-amd64-20261201.qcow2",
        )
        .option("--sha512 <sum>", "its SHA-512 (needed elsewhere than cloud.debian.org)")
        .action(async (version: string, url: string, o, c: Command) => {
            const w = f.where(c);
            await baseAdd(w.ctx, w.host(), version, url, { sha512: o.sha512, fetchText: f.deps.fetchText });
        });
    base.command("move")
        .description("move a project to a version: a fresh system disk on it; the project disk, MAC and tailnet name are kept")
        .argument("<name>", "project name")
        .argument("<version>", "a base image version of the host")
        .option("-y, --yes", "do not ask")
        .action(async (name: string, version: string, o, c: Command) => {
            const w = f.where(c);
            await baseMove(w.ctx, w.host(), name, version, o);
        });
    base.command("prune")
        .description("remove versions that no project is pinned to and no VM runs on (never the newest), with their volumes")
        .option("-y, --yes", "do not ask")
        .action(async (o, c: Command) => {
            const w = f.where(c);
            await basePrune(w.ctx, w.host(), o);
        });
};
