// The stack's configuration: what a host stack may say, its defaults, and the one pure function
// that turns raw config into validated settings — or into every problem at once, each naming its
// key and its bad value, before any resource is registered.
import { createHash } from "node:crypto";
import * as path from "node:path";

/** The config namespace: the Pulumi project name. Keys are written `project-vms:<key>`. */
export const NAMESPACE = "project-vms";

/** A size given with a binary unit suffix, e.g. `100G` (= 100 GiB). */
export interface Size {
    /** As written in the config, e.g. `100G`. */
    text: string;
    /** In bytes. */
    bytes: number;
}

/** Optional parts of a project's provisioning. Everything else (Docker, git, …) always installs. */
export interface Features {
    /** Install Nix (official multi-user installer, flakes enabled). Needs nixos.org. */
    nix: boolean;
    /** Join the tailnet with Tailscale SSH. Needs pkgs.tailscale.com and the Tailscale API. */
    tailscale: boolean;
    /** Install the Claude Code CLI from npm. Needs the npm registry. */
    claudeCode: boolean;
}

/** One project: one VM, one project disk. */
export interface Project {
    /** The project name, e.g. `myapp`: a DNS label. */
    name: string;
    /** `project-<name>`: the domain name, the guest hostname and the tailnet machine name. */
    hostname: string;
    /** Memory in MiB. */
    memory: number;
    /** Virtual CPUs. */
    cpus: number;
    /** Size of the project disk. */
    disk: Size;
    /** Desired power state. */
    running: boolean;
    /** Start with the host (while the project is running: a stopped one stays stopped). */
    autostart: boolean;
    /**
     * Delete the project disk (and the project's folder) when the entry is removed or the stack
     * destroyed. False (the default) keeps them: set it, `pulumi up`, then remove the entry.
     */
    purge: boolean;
    /**
     * The base image version the project is pinned to, when its entry says so. Unpinned projects
     * are created on the newest version and stay on the one they have.
     */
    base?: string;
    /** Optional provisioning steps. */
    features: Features;
    /** The NIC's MAC address, derived from the name so it survives a domain replacement. */
    mac: string;
}

/** One version of the Debian testing base image. */
export interface BaseImage {
    /** Its name, e.g. `2026-11`; with the `baseImage` shorthand, `url-` and a hash of the URL. */
    version: string;
    /** Where it is downloaded from (or a path on the machine running Pulumi). */
    url: string;
    /** Its file in the base pool: `debian-testing-<version>.qcow2`. */
    volume: string;
}

/** Where the VMs' NICs attach. */
export type NetworkSettings =
    /** A NAT network the program creates and owns. */
    | { kind: "nat"; name: string; cidr: string }
    /** An existing libvirt network, by name. */
    | { kind: "network"; name: string }
    /** An existing host bridge. */
    | { kind: "bridge"; bridge: string };

/** Tailscale settings of the stack. */
export interface TailscaleSettings {
    /** Whether VMs join the tailnet (a project can opt out with `features.tailscale: false`). */
    enabled: boolean;
    /** The tailnet's MagicDNS suffix, e.g. `bat-boa.ts.net`. */
    tailnet?: string;
    /** ACL tags every VM's auth key carries. */
    tags: string[];
}

/** The validated settings of one host stack. */
export interface Settings {
    /** libvirt connection URI of the host. */
    libvirtUri: string;
    /** Directory on the host that holds every pool. */
    storageDir: string;
    /** The base image versions, oldest first; the last is the newest. */
    baseImages: BaseImage[];
    /** Public keys that may log in as `dev`. */
    sshPublicKeys: string[];
    /** Size of each VM's system disk (the overlay over the base image). */
    systemDiskSize: Size;
    /** Where NICs attach. */
    network: NetworkSettings;
    /** Tailscale settings. */
    tailscale: TailscaleSettings;
    /** Whether apt in the guests checks Release files' Valid-Until (false only for a frozen mirror snapshot). */
    aptCheckValidUntil: boolean;
    /** Seconds a VM gets to shut down on ACPI before it is forced off. */
    shutdownTimeout: number;
    /** Seconds `pulumi up` waits for cloud-init to finish in a new VM. */
    readyTimeout: number;
    /** What the host can give the VMs that run, when the stack says. */
    hostCapacity?: { memory: number; cpus: number };
    /** The projects, in config order. */
    projects: Project[];
}

/** Defaults of every key that has one. */
export const DEFAULTS = {
    libvirtUri: "qemu:///system",
    storageDir: "/var/lib/project-vms",
    baseImage: "https://cloud.debian.org/images/cloud/forky/daily/latest/debian-14-genericcloud-amd64-daily.qcow2",
    defaultMemory: 4096,
    defaultCpus: 2,
    defaultDisk: "50G",
    systemDiskSize: "20G",
    shutdownTimeout: 180,
    readyTimeout: 1800,
    networkName: "project-vms",
    networkCidr: "10.17.0.0/24",
    tailscaleTags: ["tag:project-vm"],
} as const;

/** Limits that validation enforces. */
export const LIMITS = {
    memoryMiB: { min: 1024, max: 1024 * 1024 },
    cpus: { min: 1, max: 256 },
    projectDiskBytes: { min: 1 * 1024 ** 3, max: 64 * 1024 ** 4 },
    /** The Debian cloud image is 3 GiB; Docker and Nix want room beyond it. */
    systemDiskBytes: { min: 8 * 1024 ** 3, max: 16 * 1024 ** 4 },
    shutdownSeconds: { min: 10, max: 3600 },
    readySeconds: { min: 60, max: 4 * 3600 },
    /** `project-<name>` must be a hostname label of at most 63 characters. */
    nameLength: 63 - "project-".length,
} as const;

/** The keys a stack may set under `project-vms:`. */
export const CONFIG_KEYS = [
    "libvirtUri", "storageDir", "baseImage", "baseImages", "sshPublicKeys", "defaultMemory", "defaultCpus",
    "defaultDisk", "systemDiskSize", "network", "tailscale", "aptCheckValidUntil", "shutdownTimeout", "readyTimeout",
    "hostCapacity", "projects",
] as const;
const PROJECT_KEYS = ["name", "memory", "cpus", "disk", "running", "autostart", "purge", "base", "features"] as const;
const BASE_IMAGE_KEYS = ["version", "url"] as const;
const CAPACITY_KEYS = ["memory", "cpus"] as const;
const FEATURE_KEYS = ["nix", "tailscale", "claudeCode"] as const;
const TAILSCALE_KEYS = ["enabled", "tailnet", "tags"] as const;
const NETWORK_KEYS = ["name", "cidr", "bridge"] as const;

/** Thrown with every problem of a stack's config; `message` lists them one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`The stack's configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
            problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses `100G`, `512M`, `2T`, `100GiB` (binary units). Returns undefined when it is not a size. */
export function parseSize(text: string): Size | undefined {
    const m = /^\s*(\d+)\s*([KMGT])(?:i?B)?\s*$/i.exec(text);
    if (!m) return undefined;
    const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
    return Number.isSafeInteger(bytes) ? { text: text.trim(), bytes } : undefined;
}

/** `project-<name>`: one name for the domain, the guest hostname and the tailnet machine. */
export function hostnameOf(name: string): string {
    return `project-${name}`;
}

/**
 * The NIC's MAC address, derived from the project name: QEMU's locally administered prefix
 * `52:54:00` and three bytes of SHA-256, so the guest keeps its DHCP lease (and IP) across a
 * domain replacement.
 */
export function macFor(name: string): string {
    const h = createHash("sha256").update(`${NAMESPACE}/${name}`).digest();
    return ["52", "54", "00", ...[0, 1, 2].map((i) => h[i].toString(16).padStart(2, "0"))].join(":");
}

const KEY_TYPES = new Set([
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
]);

/**
 * Why `line` is not an OpenSSH public key line (`<type> <base64> [comment]`), or undefined when it
 * is one: the type is known and the base64 blob decodes to a key of that same type.
 */
export function publicKeyProblem(line: string): string | undefined {
    if (/PRIVATE KEY/.test(line)) return "is a private key; give the public key (the .pub file)";
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2) return "is not '<type> <base64> [comment]'";
    const [type, blob] = parts;
    if (!KEY_TYPES.has(type)) return `has unknown key type '${type}'`;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return "has a key blob that is not base64";
    const raw = Buffer.from(blob, "base64");
    const len = raw.length >= 4 ? raw.readUInt32BE(0) : -1;
    if (len < 0 || 4 + len > raw.length || raw.subarray(4, 4 + len).toString("latin1") !== type) {
        return `has a key blob that is not a ${type} key`;
    }
    return undefined;
}

type Raw = Record<string, unknown>;

/** Reads typed values from raw config, collecting problems instead of throwing. */
class Reader {
    readonly problems: string[] = [];

    problem(key: string, text: string): void {
        this.problems.push(`${NAMESPACE}:${key} ${text}`);
    }

    /** Reports keys of `obj` that are not in `known`, suggesting the closest known key. */
    unknownKeys(obj: Raw, known: readonly string[], at: string): void {
        for (const k of Object.keys(obj)) {
            if (known.includes(k)) continue;
            const near = known.find((c) => c.toLowerCase() === k.toLowerCase() || editDistance(c, k) <= 2);
            this.problem(at ? `${at}.${k}` : k, `is not a known key${near ? ` (did you mean '${near}'?)` : ""}; known: ${known.join(", ")}`);
        }
    }

    string(v: unknown, key: string, fallback?: string): string | undefined {
        if (v === undefined || v === null) return fallback;
        if (typeof v !== "string" || v.trim() === "") {
            this.problem(key, `must be a non-empty string, got ${show(v)}`);
            return undefined;
        }
        return v.trim();
    }

    boolean(v: unknown, key: string, fallback: boolean): boolean {
        if (v === undefined || v === null) return fallback;
        if (typeof v === "boolean") return v;
        if (v === "true" || v === "false") return v === "true";
        this.problem(key, `must be true or false, got ${show(v)}`);
        return fallback;
    }

    integer(v: unknown, key: string, fallback: number, range: { min: number; max: number }, unit: string): number {
        if (v === undefined || v === null) return fallback;
        const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n)) {
            this.problem(key, `must be a whole number${unit}, got ${show(v)}`);
            return fallback;
        }
        if (n < range.min || n > range.max) {
            this.problem(key, `is ${n}${unit}; it must be between ${range.min} and ${range.max}`);
        }
        return n;
    }

    size(v: unknown, key: string, fallback: string, range: { min: number; max: number }): Size {
        const text = v === undefined || v === null ? fallback : v;
        const size = typeof text === "string" ? parseSize(text) : undefined;
        if (!size) {
            const hint = typeof text === "number" ? " (a number needs a unit)" : "";
            this.problem(key, `must be a size with a unit K, M, G or T (binary: 100G = 100 GiB), got ${show(v)}${hint}`);
            return parseSize(fallback)!;
        }
        if (size.bytes < range.min || size.bytes > range.max) {
            this.problem(key, `is ${size.text}; it must be between ${formatSize(range.min)} and ${formatSize(range.max)}`);
        }
        return size;
    }

    object(v: unknown, key: string): Raw | undefined {
        if (v === undefined || v === null) return undefined;
        if (typeof v !== "object" || Array.isArray(v)) {
            this.problem(key, `must be an object (a YAML mapping), got ${show(v)}`);
            return undefined;
        }
        return v as Raw;
    }

    array(v: unknown, key: string): unknown[] | undefined {
        if (v === undefined || v === null) return undefined;
        if (!Array.isArray(v)) {
            this.problem(key, `must be a list, got ${show(v)}`);
            return undefined;
        }
        return v;
    }
}

function show(v: unknown): string {
    return JSON.stringify(v) ?? String(v);
}

/** `107374182400` → `100G`; the largest binary unit that divides the size. */
export function formatSize(bytes: number): string {
    for (const u of ["T", "G", "M", "K"]) {
        if (bytes % UNITS[u] === 0) return `${bytes / UNITS[u]}${u}`;
    }
    return `${bytes}B`;
}

function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const TAG = /^tag:[a-z][a-z0-9-]*$/;
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Names a project cannot have: they are folders of the host's own under storageDir. */
export const RESERVED_NAMES = ["base"] as const;

/** Why `name` cannot be a project name, or undefined when it can. */
export function projectNameProblem(name: string): string | undefined {
    if ((RESERVED_NAMES as readonly string[]).includes(name)) {
        return `is reserved (${RESERVED_NAMES.join(", ")}: the host keeps its own files there)`;
    }
    if (!DNS_LABEL.test(name)) {
        return "must be a DNS label: lowercase letters, digits and hyphens, starting and ending with a letter or digit";
    }
    if (name.length > LIMITS.nameLength) {
        return `is ${name.length} characters; at most ${LIMITS.nameLength}, so that '${hostnameOf(name)}' fits a 63-character hostname`;
    }
    return undefined;
}

function validTailnet(t: string): boolean {
    const labels = t.split(".");
    return labels.length >= 2 && labels.every((l) => DNS_LABEL.test(l) && l.length <= 63) && t.length <= 253;
}

function validCidr(c: string): boolean {
    const m = CIDR.exec(c);
    return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) >= 8 && Number(m[5]) <= 29;
}

/**
 * Validates a stack's raw config — the values under `project-vms:` keyed without the namespace,
 * as JSON-parsed values (what `pulumi config` holds) — and returns the settings with every default
 * applied. Throws a ConfigError listing every problem found.
 */
export function parseConfig(raw: Raw): Settings {
    const r = new Reader();
    r.unknownKeys(raw, CONFIG_KEYS, "");

    const libvirtUri = r.string(raw.libvirtUri, "libvirtUri", DEFAULTS.libvirtUri)!;
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s]*$/.test(libvirtUri)) {
        r.problem("libvirtUri", `must be a libvirt URI such as qemu:///system or qemu+ssh://admin@storage/system, got ${show(libvirtUri)}`);
    }

    const storageDir = r.string(raw.storageDir, "storageDir", DEFAULTS.storageDir)!;
    if (!path.posix.isAbsolute(storageDir) || storageDir !== path.posix.normalize(storageDir).replace(/(.)\/$/, "$1") || /\s/.test(storageDir)) {
        r.problem("storageDir", `must be an absolute, normalised path without spaces, got ${show(storageDir)}`);
    }

    const baseImages = parseBaseImages(r, raw.baseImage, raw.baseImages);

    const sshPublicKeys: string[] = [];
    const keys = r.array(raw.sshPublicKeys, "sshPublicKeys");
    if (!keys || keys.length === 0) {
        r.problem("sshPublicKeys", "must list at least one SSH public key (e.g. the content of ~/.ssh/id_ed25519.pub): without one nobody can log in as dev");
    } else {
        keys.forEach((k, i) => {
            const problem = typeof k === "string" ? publicKeyProblem(k) : `must be a string, got ${show(k)}`;
            if (problem) r.problem(`sshPublicKeys[${i}]`, `${problem}: ${show(typeof k === "string" && k.length > 40 ? `${k.slice(0, 40)}…` : k)}`);
            else sshPublicKeys.push((k as string).trim());
        });
    }

    const defaultMemory = r.integer(raw.defaultMemory, "defaultMemory", DEFAULTS.defaultMemory, LIMITS.memoryMiB, " MiB");
    const defaultCpus = r.integer(raw.defaultCpus, "defaultCpus", DEFAULTS.defaultCpus, LIMITS.cpus, "");
    const defaultDisk = r.size(raw.defaultDisk, "defaultDisk", DEFAULTS.defaultDisk, LIMITS.projectDiskBytes);
    const systemDiskSize = r.size(raw.systemDiskSize, "systemDiskSize", DEFAULTS.systemDiskSize, LIMITS.systemDiskBytes);
    const aptCheckValidUntil = r.boolean(raw.aptCheckValidUntil, "aptCheckValidUntil", true);
    const shutdownTimeout = r.integer(raw.shutdownTimeout, "shutdownTimeout", DEFAULTS.shutdownTimeout, LIMITS.shutdownSeconds, " seconds");
    const readyTimeout = r.integer(raw.readyTimeout, "readyTimeout", DEFAULTS.readyTimeout, LIMITS.readySeconds, " seconds");
    const capacity = r.object(raw.hostCapacity, "hostCapacity");
    let hostCapacity: Settings["hostCapacity"];
    if (capacity) {
        r.unknownKeys(capacity, CAPACITY_KEYS, "hostCapacity");
        if (capacity.memory === undefined || capacity.cpus === undefined) r.problem("hostCapacity", "needs both memory (MiB) and cpus");
        hostCapacity = {
            memory: r.integer(capacity.memory, "hostCapacity.memory", 0, { min: LIMITS.memoryMiB.min, max: 64 * 1024 * 1024 }, " MiB"),
            cpus: r.integer(capacity.cpus, "hostCapacity.cpus", 0, { min: 1, max: 4096 }, ""),
        };
    }

    const network = parseNetwork(r, raw.network);
    const tailscale = parseTailscale(r, raw.tailscale);

    const projects: Project[] = [];
    const list = r.array(raw.projects, "projects") ?? [];
    const seen = new Map<string, number>();
    const macs = new Map<string, string>();
    list.forEach((entry, i) => {
        const at = `projects[${i}]`;
        const p = r.object(entry, at);
        if (!p) {
            if (entry === undefined || entry === null) r.problem(at, "is empty; give at least {name: <project>}");
            return;
        }
        r.unknownKeys(p, PROJECT_KEYS, at);
        const name = r.string(p.name, `${at}.name`);
        if (name === undefined) {
            if (p.name === undefined) r.problem(`${at}.name`, "is required (the project name, e.g. myapp)");
            return;
        }
        const nameProblem = projectNameProblem(name);
        if (nameProblem) r.problem(`${at}.name`, `${show(name)} ${nameProblem}`);
        if (seen.has(name)) r.problem(`${at}.name`, `${show(name)} is already used by projects[${seen.get(name)}]`);
        else seen.set(name, i);

        const f = r.object(p.features, `${at}.features`) ?? {};
        r.unknownKeys(f, FEATURE_KEYS, `${at}.features`);
        const features: Features = {
            nix: r.boolean(f.nix, `${at}.features.nix`, true),
            tailscale: r.boolean(f.tailscale, `${at}.features.tailscale`, tailscale.enabled),
            claudeCode: r.boolean(f.claudeCode, `${at}.features.claudeCode`, true),
        };
        if (features.tailscale && !tailscale.enabled) {
            r.problem(`${at}.features.tailscale`, "is true but tailscale.enabled is false for this stack");
        }

        const mac = macFor(name);
        if (!nameProblem && macs.has(mac) && macs.get(mac) !== name) {
            r.problem(`${at}.name`, `${show(name)} derives the same MAC address (${mac}) as ${show(macs.get(mac))}; rename one of them`);
        }
        macs.set(mac, name);

        projects.push({
            name,
            hostname: hostnameOf(name),
            memory: r.integer(p.memory, `${at}.memory`, defaultMemory, LIMITS.memoryMiB, " MiB"),
            cpus: r.integer(p.cpus, `${at}.cpus`, defaultCpus, LIMITS.cpus, ""),
            disk: p.disk === undefined ? defaultDisk : r.size(p.disk, `${at}.disk`, DEFAULTS.defaultDisk, LIMITS.projectDiskBytes),
            running: r.boolean(p.running, `${at}.running`, true),
            autostart: r.boolean(p.autostart, `${at}.autostart`, true),
            purge: r.boolean(p.purge, `${at}.purge`, false),
            base: parseBase(r, p.base, `${at}.base`, baseImages),
            features,
            mac,
        });
    });

    if (hostCapacity) {
        for (const problem of capacityProblems(projects, hostCapacity)) r.problem("hostCapacity", problem);
    }

    if (r.problems.length > 0) throw new ConfigError(r.problems);
    return {
        libvirtUri, storageDir, baseImages, sshPublicKeys, systemDiskSize, network, tailscale, aptCheckValidUntil,
        shutdownTimeout, readyTimeout, hostCapacity, projects,
    };
}

/**
 * Why the projects set to run do not fit the host: their memory or vCPUs add up to more than the
 * host's capacity. Empty when they fit.
 */
export function capacityProblems(projects: Project[], capacity: { memory: number; cpus: number }): string[] {
    const running = projects.filter((p) => p.running);
    const memory = running.reduce((sum, p) => sum + p.memory, 0);
    const cpus = running.reduce((sum, p) => sum + p.cpus, 0);
    const who = running.map((p) => `${p.name} ${p.memory} MiB/${p.cpus} vCPUs`).join(", ");
    const problems: string[] = [];
    if (memory > capacity.memory) problems.push(`is ${capacity.memory} MiB of memory, but the running projects need ${memory} MiB (${who}); stop a project (running: false) or give less memory`);
    if (cpus > capacity.cpus) problems.push(`is ${capacity.cpus} vCPUs, but the running projects need ${cpus} (${who}); stop a project (running: false) or give fewer cpus`);
    return problems;
}

const IMAGE_URL = /^(https?:\/\/[^\s]+|file:\/\/\/[^\s]+|\/[^\s]+)$/;
const VERSION = /^[a-z0-9][a-z0-9.-]{0,31}$/;

/** The base image versions: `baseImages`, or the one `baseImage` (which names its version by a hash of its URL). */
function parseBaseImages(r: Reader, single: unknown, list: unknown): BaseImage[] {
    const image = (version: string, url: string): BaseImage => ({ version, url, volume: `debian-testing-${version}.qcow2` });
    if (list === undefined || list === null) {
        const url = r.string(single, "baseImage", DEFAULTS.baseImage)!;
        if (!IMAGE_URL.test(url)) r.problem("baseImage", `must be an http(s) URL or an absolute path of a qcow2 image, got ${show(url)}`);
        return [image(`url-${createHash("sha256").update(url).digest("hex").slice(0, 8)}`, url)];
    }
    if (single !== undefined && single !== null) r.problem("baseImage", "is set together with baseImages; list every image in baseImages instead");
    const entries = r.array(list, "baseImages") ?? [];
    if (entries.length === 0) r.problem("baseImages", "must list at least one {version, url}");
    const images: BaseImage[] = [];
    entries.forEach((e, i) => {
        const at = `baseImages[${i}]`;
        const o = r.object(e, at);
        if (!o) return;
        r.unknownKeys(o, BASE_IMAGE_KEYS, at);
        const version = r.string(o.version, `${at}.version`);
        const url = r.string(o.url, `${at}.url`);
        if (version === undefined) r.problem(`${at}.version`, "is required, e.g. 2026-11");
        else if (!VERSION.test(version)) r.problem(`${at}.version`, `must be lowercase letters, digits, dots and hyphens (at most 32), got ${show(version)}`);
        else if (images.some((b) => b.version === version)) r.problem(`${at}.version`, `${show(version)} is listed twice`);
        if (url === undefined) r.problem(`${at}.url`, "is required");
        else if (!IMAGE_URL.test(url)) r.problem(`${at}.url`, `must be an http(s) URL or an absolute path of a qcow2 image, got ${show(url)}`);
        if (version && url) images.push(image(version, url));
    });
    return images;
}

function parseBase(r: Reader, v: unknown, key: string, images: BaseImage[]): string | undefined {
    const base = r.string(v, key);
    if (base !== undefined && images.length > 0 && !images.some((b) => b.version === base)) {
        r.problem(key, `${show(base)} is not a base image version; known: ${images.map((b) => b.version).join(", ")}`);
    }
    return base;
}

function parseNetwork(r: Reader, v: unknown): NetworkSettings {
    const n = r.object(v, "network") ?? {};
    r.unknownKeys(n, NETWORK_KEYS, "network");
    const bridge = r.string(n.bridge, "network.bridge");
    const cidr = r.string(n.cidr, "network.cidr");
    const name = r.string(n.name, "network.name");
    if (bridge !== undefined && (cidr !== undefined || name !== undefined)) {
        r.problem("network", "sets bridge together with name or cidr; a bridge is used as it is, so give only one");
    }
    if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) r.problem("network.name", `is not a libvirt network name: ${show(name)}`);
    if (bridge !== undefined && !INTERFACE_NAME.test(bridge)) r.problem("network.bridge", `is not a Linux interface name: ${show(bridge)}`);
    if (cidr !== undefined && !validCidr(cidr)) r.problem("network.cidr", `must be an IPv4 CIDR with a prefix of /8 to /29, e.g. 10.17.0.0/24, got ${show(cidr)}`);
    if (name !== undefined && cidr !== undefined && !INTERFACE_NAME.test(name)) {
        r.problem("network.name", `names the program's own NAT network and its bridge, so it must be a Linux interface name (at most 15 characters), got ${show(name)}`);
    }
    if (bridge !== undefined) return { kind: "bridge", bridge };
    if (name !== undefined && cidr === undefined) return { kind: "network", name };
    return { kind: "nat", name: name ?? DEFAULTS.networkName, cidr: cidr ?? DEFAULTS.networkCidr };
}

function parseTailscale(r: Reader, v: unknown): TailscaleSettings {
    const t = r.object(v, "tailscale") ?? {};
    r.unknownKeys(t, TAILSCALE_KEYS, "tailscale");
    const enabled = r.boolean(t.enabled, "tailscale.enabled", true);
    const tailnet = r.string(t.tailnet, "tailscale.tailnet");
    if (tailnet !== undefined && !validTailnet(tailnet)) {
        r.problem("tailscale.tailnet", `must be the tailnet's DNS name, e.g. bat-boa.ts.net, got ${show(tailnet)}`);
    }
    if (enabled && tailnet === undefined && t.tailnet === undefined) {
        r.problem("tailscale.tailnet", "is required while tailscale.enabled is true (the MagicDNS suffix, e.g. bat-boa.ts.net); or set tailscale.enabled: false");
    }
    const tags: string[] = [];
    const list = t.tags === undefined ? [...DEFAULTS.tailscaleTags] : r.array(t.tags, "tailscale.tags");
    list?.forEach((tag, i) => {
        if (typeof tag === "string" && TAG.test(tag)) tags.push(tag);
        else r.problem(`tailscale.tags[${i}]`, `must be a tag like tag:project-vm (lowercase letters, digits, hyphens), got ${show(tag)}`);
    });
    if (enabled && list && list.length === 0) {
        r.problem("tailscale.tags", "must name at least one tag: the VMs' auth keys are tagged so they belong to the tailnet, not to a person");
    }
    return { enabled, tailnet, tags };
}

/**
 * The raw config of this project from the engine's flat map (`pulumi.runtime.allConfig()`: keys
 * `project-vms:<key>`, values as strings, objects and lists as JSON): keys without the namespace,
 * values JSON-parsed where they parse (so `4096` is a number and `qemu:///system` stays a string).
 */
export function rawConfig(all: Record<string, string>): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) {
        if (!k.startsWith(`${NAMESPACE}:`)) continue;
        let value: unknown = v;
        try {
            value = JSON.parse(v);
        } catch {
            // a plain string
        }
        raw[k.slice(NAMESPACE.length + 1)] = value;
    }
    return raw;
}
