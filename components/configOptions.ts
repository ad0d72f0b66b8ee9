// Every option a host stack may set, declared once — its kind, default, limits and description —
// the way a NixOS module declares options with mkOption. From these tables come the TypeScript
// types of the values (below), DEFAULTS, LIMITS and the key lists (configSchema.ts), the checks
// and messages of plain values (readOptions), the `config:` block and comments of Pulumi.yaml
// (pulumiYaml.ts: `npm run gen:pulumi-yaml`) and what `project-vm config` shows.
import type { Size } from "./validate";
import { formatSize, libvirtUriProblem, NAME_MAX_LENGTH, show, storageDirProblem } from "./validate";

/**
 * What an option holds: `string`, `boolean`, `integer` (within `limits`, in `unit`), `memory` (MiB,
 * or a size with a unit), `size` (bytes, written with a unit: `100G`), `strings` (a list of
 * strings), `object` (a mapping of `options`), `list` (entries, each a mapping of `options`),
 * `features` (a mapping of FEATURES' keys to booleans).
 */
export type OptionKind = "string" | "boolean" | "integer" | "memory" | "size" | "strings" | "object" | "list" | "features";

/** One option, as declared. */
export interface OptionDecl {
    /** What it holds (see OptionKind). */
    readonly kind: OptionKind;
    /** One or two sentences for the user: what it does (limits and default are appended where shown). */
    readonly description: string;
    /** The value when unset. */
    readonly default?: string | number | boolean | readonly string[];
    /** The default in words, when it is worked out from other values (it always has a value then). */
    readonly defaultText?: string;
    /** Must be given: no default (Pulumi.yaml declares it without one, so Pulumi refuses a stack without it). */
    readonly required?: boolean;
    /** The range validation enforces (integer, memory: the number; size: bytes). */
    readonly limits?: { readonly min: number; readonly max: number };
    /** The unit of an integer as messages and descriptions show it, e.g. ` seconds`. */
    readonly unit?: string;
    /** What a string value looks like, for a value YAML read as a number. */
    readonly example?: string;
    /** A project option whose default is this stack option (e.g. `defaultMemory`). */
    readonly inherits?: string;
    /** A stack option that is part of another's settings (`baseImage` makes `baseImages`), not a setting of its own. */
    readonly partOf?: string;
    /** Why Pulumi.yaml documents it in a comment instead of declaring it, when Pulumi could declare its kind. */
    readonly undeclared?: string;
    /** A credential: checked, never shown (in messages or anywhere else). */
    readonly secret?: boolean;
    /** The problem text (after the key) of a value of the right kind that is still wrong, or undefined. */
    readonly check?: (value: string) => string | undefined;
    /** The options of an `object`, or of each entry of a `list`. */
    readonly options?: Readonly<Record<string, OptionDecl>>;
}

/** Checks a declaration's shape while keeping its literal types (for the derived types). */
function options<const T extends Record<string, OptionDecl>>(table: T): T {
    return table;
}

const MEMORY_MIB = { min: 1024, max: 1024 * 1024 } as const;
const CPUS = { min: 1, max: 256 } as const;
const PROJECT_DISK_BYTES = { min: 1 * 1024 ** 3, max: 64 * 1024 ** 4 } as const;

/**
 * The optional parts of a project's provisioning, one row each (everything else — Docker, git, …
 * — always installs). From this table come the `features` keys and their defaults (config.ts),
 * `create`'s `--no-<flag>` options (cli/main.ts) and the prepared layer's recipe key (prepare.ts).
 */
export const FEATURES = [
    {
        key: "nix",
        flag: "nix",
        off: "do not install Nix",
        about: "Install Nix (official multi-user installer, flakes enabled). Needs nixos.org.",
        followsTailscale: false,
    },
    {
        key: "tailscale",
        flag: "tailscale",
        off: "do not join the tailnet (log in through the VM's IP)",
        about: "Join the tailnet with Tailscale SSH. Needs pkgs.tailscale.com and the Tailscale API. Defaults to the stack's tailscale.enabled.",
        followsTailscale: true,
    },
    {
        key: "claudeCode",
        flag: "claude-code",
        off: "do not install the Claude Code CLI",
        about: "Install the Claude Code CLI from npm. Needs the npm registry.",
        followsTailscale: false,
    },
] as const;

/** A feature's key in a project's `features`. */
export type FeatureKey = (typeof FEATURES)[number]["key"];

/** Which optional parts a project's provisioning has (see FEATURES). */
export type Features = Record<FeatureKey, boolean>;

/** The options of one entry of `projects`: one VM, one project disk. */
export const PROJECT_OPTIONS = options({
    name: {
        kind: "string",
        required: true,
        description: `The project name, e.g. myapp: a DNS label of at most ${NAME_MAX_LENGTH} characters (project-<name> is the domain, the guest hostname and the tailnet machine name).`,
    },
    memory: { kind: "memory", inherits: "defaultMemory", limits: MEMORY_MIB, description: "Memory in MiB, or with a unit (8G)." },
    cpus: { kind: "integer", inherits: "defaultCpus", limits: CPUS, unit: "", description: "Virtual CPUs." },
    disk: { kind: "size", inherits: "defaultDisk", limits: PROJECT_DISK_BYTES, description: "Size of the project disk, e.g. 100G." },
    running: { kind: "boolean", default: true, description: "Desired power state." },
    autostart: {
        kind: "boolean",
        default: true,
        description: "Start with the host (while the project is running: a stopped one stays stopped).",
    },
    purge: {
        kind: "boolean",
        default: false,
        description:
            "Delete the project disk (and the project's folder) when the entry is removed or the stack destroyed; false keeps them: set it, pulumi up, then remove the entry.",
    },
    base: {
        kind: "string",
        example: "2026-11",
        description:
            "The base image version (of baseImages) the project is pinned to; unpinned projects are created on the newest version and stay on the one they have.",
    },
    features: { kind: "features", description: "The optional parts of its provisioning, each true or false." },
});

/** The options of `network`: where the VMs' NICs attach. */
export const NETWORK_OPTIONS = options({
    name: {
        kind: "string",
        default: "project-vms",
        description: "With cidr: the name of the program's own NAT network (and its bridge); alone: an existing libvirt network.",
    },
    cidr: { kind: "string", default: "10.17.0.0/24", description: "The program's own NAT network's addresses." },
    bridge: { kind: "string", description: "An existing host bridge, used as it is (instead of name and cidr)." },
});

/** The options of `tailscale`: the stack's tailnet. */
export const TAILSCALE_OPTIONS = options({
    enabled: {
        kind: "boolean",
        default: true,
        description: "Whether VMs join the tailnet (a project can opt out with features.tailscale: false).",
    },
    tailnet: { kind: "string", description: "The tailnet's MagicDNS suffix, e.g. bat-boa.ts.net; required while enabled." },
    tags: { kind: "strings", default: ["tag:project-vm"], description: "ACL tags every VM's auth key carries." },
});

/** The options of `hostCapacity`: what the host can give the VMs that run. */
export const CAPACITY_OPTIONS = options({
    memory: { kind: "memory", required: true, limits: { min: MEMORY_MIB.min, max: 64 * 1024 * 1024 }, description: "Memory in MiB." },
    cpus: { kind: "integer", required: true, limits: { min: 1, max: 4096 }, unit: "", description: "Virtual CPUs." },
});

/** The options of one entry of `baseImages`. */
export const BASE_IMAGE_OPTIONS = options({
    version: {
        kind: "string",
        required: true,
        example: "2026-11",
        description: 'Its name, e.g. "2026-11": lowercase letters, digits, dots and hyphens.',
    },
    url: { kind: "string", required: true, description: "Where it is downloaded from (https, or a path on the machine running Pulumi)." },
    sha512: { kind: "string", description: "The SHA-512 it must have; else read from the SHA512SUMS beside a cloud.debian.org image." },
});

/** The options of `backups`: where project-vm keeps backups of project disks, and how many (components/backup.ts). */
export const BACKUP_OPTIONS = options({
    dir: {
        kind: "string",
        defaultText: "<storageDir>/_backups",
        description: "The folder holding the backups; best another disk or a NAS.",
    },
    keepDaily: { kind: "integer", default: 7, limits: { min: 1, max: 1000 }, unit: "", description: "Days whose newest backup is kept." },
    keepWeekly: {
        kind: "integer",
        default: 4,
        limits: { min: 0, max: 1000 },
        unit: "",
        description: "ISO weeks whose newest backup is kept.",
    },
    keepLast: {
        kind: "integer",
        default: 3,
        limits: { min: 1, max: 1000 },
        unit: "",
        description: "The newest backups kept whatever their day.",
    },
    fullEvery: {
        kind: "integer",
        default: 7,
        limits: { min: 1, max: 1000 },
        unit: "",
        description: "A full backup after this many backups in a chain.",
    },
});

/** The options of the stack, under `project-vms:`. */
export const STACK_OPTIONS = options({
    libvirtUri: {
        kind: "string",
        default: "qemu:///system",
        description: "libvirt connection URI of the host, e.g. qemu+ssh://admin@storage/system.",
        check: (v: string) => {
            const p = libvirtUriProblem(v);
            return p && `${p}, got ${show(v)}`;
        },
    },
    storageDir: {
        kind: "string",
        default: "/var/lib/project-vms",
        description: "Folder on the host holding base/ and one folder per project.",
        check: (v: string) => {
            const p = storageDirProblem(v);
            return p && `${show(v)} ${p}`;
        },
    },
    baseImage: {
        kind: "string",
        partOf: "baseImages",
        default: "https://cloud.debian.org/images/cloud/forky/daily/latest/debian-14-genericcloud-amd64-daily.qcow2",
        undeclared: "with a default declared, Pulumi would set it in every stack, also beside baseImages",
        description:
            "https URL (or local path) of the Debian testing cloud image; verified against baseImageSha512, else against the SHA512SUMS beside a cloud.debian.org image. For versioned images use baseImages.",
    },
    baseImageSha512: {
        kind: "string",
        partOf: "baseImages",
        description: "SHA-512 (128 hex digits) of baseImage; required for an image elsewhere.",
    },
    baseImages: {
        kind: "list",
        options: BASE_IMAGE_OPTIONS,
        description:
            "Versioned base images, oldest first (instead of baseImage): new projects start on the newest, a project moves only when its entry sets base: <version>.",
    },
    sshPublicKeys: { kind: "strings", required: true, description: "SSH public keys that may log in as dev (OpenSSH one-line format)." },
    defaultMemory: {
        kind: "memory",
        default: 4096,
        limits: MEMORY_MIB,
        description: "Memory of a project VM in MiB unless its entry sets memory.",
    },
    defaultCpus: {
        kind: "integer",
        default: 2,
        limits: CPUS,
        unit: "",
        description: "Virtual CPUs of a project VM unless its entry sets cpus.",
    },
    defaultDisk: {
        kind: "size",
        default: "50G",
        limits: PROJECT_DISK_BYTES,
        description: "Size of a project disk unless its entry sets disk; K/M/G/T binary units (100G = 100 GiB).",
    },
    systemDiskSize: {
        kind: "size",
        default: "20G",
        // The Debian cloud image is 3 GiB; Docker and Nix want room beyond it.
        limits: { min: 8 * 1024 ** 3, max: 16 * 1024 ** 4 },
        description: "Size of each VM's system disk (an overlay over the base image; the guest grows its root).",
    },
    network: {
        kind: "object",
        options: NETWORK_OPTIONS,
        description:
            "Where the VMs' NICs attach: the program's own NAT network (cidr), an existing libvirt network (name) or a host bridge (bridge).",
    },
    tailscale: { kind: "object", options: TAILSCALE_OPTIONS, description: "The stack's tailnet." },
    aptCheckValidUntil: {
        kind: "boolean",
        default: true,
        description: "Whether guest apt checks Release files' Valid-Until; false only behind a frozen mirror snapshot.",
    },
    prepare: {
        kind: "boolean",
        default: true,
        description:
            "New VMs start from a prepared layer of their base image (packages, Docker, Nix, Tailscale, Claude Code installed once per image version on the host), so first boot only does what is their own; false provisions everything at first boot.",
    },
    shutdownTimeout: {
        kind: "integer",
        default: 180,
        limits: { min: 10, max: 3600 },
        unit: " seconds",
        description: "Seconds a VM gets to shut down on ACPI (before a stop, replacement or deletion) before it is forced off.",
    },
    readyTimeout: {
        kind: "integer",
        default: 1800,
        limits: { min: 60, max: 4 * 3600 },
        unit: " seconds",
        description: "Seconds pulumi up waits for cloud-init to finish in a new VM before it fails.",
    },
    hostCapacity: {
        kind: "object",
        options: CAPACITY_OPTIONS,
        description: "What the VMs that run may add up to, checked before anything changes (unchecked when unset).",
    },
    backups: {
        kind: "object",
        options: BACKUP_OPTIONS,
        description: "Where project-vm keeps backups of project disks, and how many (the program itself makes none).",
    },
    projects: { kind: "list", options: PROJECT_OPTIONS, description: "The projects, one VM each." },
});

/** The options of the Tailscale provider's config that the program reads (`tailscale:<key>`). */
export const TAILSCALE_API_OPTIONS = options({
    apiKey: { kind: "string", secret: true, description: "An API access token." },
    oauthClientId: { kind: "string", secret: true, description: "An OAuth client's id, with oauthClientSecret." },
    oauthClientSecret: { kind: "string", secret: true, description: "The OAuth client's secret." },
    tailnet: { kind: "string", default: "-", description: "The tailnet (- is the credentials' own)." },
    baseUrl: { kind: "string", default: "https://api.tailscale.com", description: "The Tailscale API's address." },
});

// ---- the types of the values ----

/** The value of an option of this kind, as validated. */
export type ValueOf<K extends OptionKind> = K extends "string"
    ? string
    : K extends "boolean"
      ? boolean
      : K extends "integer" | "memory"
        ? number
        : K extends "size"
          ? Size
          : K extends "strings"
            ? string[]
            : K extends "features"
              ? Features
              : unknown;

/** The value of an option of this kind as a stack file holds it (a size as its text; some features). */
export type RawValueOf<K extends OptionKind> = K extends "size" ? string : K extends "features" ? Partial<Features> : ValueOf<K>;

/** The options that always have a value once validated: a default, a stack default, features (each has one), or required. */
type Always<T> = {
    [K in keyof T]: T[K] extends
        { default: unknown } | { defaultText: string } | { inherits: string } | { required: true } | { kind: "features" }
        ? K
        : never;
}[keyof T];

/** The validated values of a table of options (without its objects and lists, which their sections shape). */
export type Values<T extends Record<string, OptionDecl>> = {
    [K in Always<T> as T[K]["kind"] extends "object" | "list" ? never : K]: ValueOf<T[K]["kind"]>;
} & { [K in Exclude<keyof T, Always<T>> as T[K]["kind"] extends "object" | "list" ? never : K]?: ValueOf<T[K]["kind"]> };

/** A project entry as a stack file holds it. */
export type ProjectEntry = { [K in keyof typeof PROJECT_OPTIONS]?: RawValueOf<(typeof PROJECT_OPTIONS)[K]["kind"]> };

// ---- what is derived from a table ----

/** The defaults of a table's options that have one, by key. */
export type DefaultsOf<T extends Record<string, OptionDecl>> = {
    [K in keyof T as T[K] extends { default: unknown } ? K : never]: T[K]["default"];
};

/** The defaults of a table's options that have one, by key (see DefaultsOf). */
export function defaultsOf<T extends Record<string, OptionDecl>>(table: T): DefaultsOf<T> {
    return Object.fromEntries(
        Object.entries(table)
            .filter(([, d]) => d.default !== undefined)
            .map(([k, d]) => [k, d.default]),
    ) as DefaultsOf<T>;
}

/** The limits of a table's options that have them, by key. */
export type LimitsOf<T extends Record<string, OptionDecl>> = {
    [K in keyof T as T[K] extends { limits: object } ? K : never]: T[K]["limits"];
};

/** The limits of a table's options that have them, by key (see LimitsOf). */
export function limitsOf<T extends Record<string, OptionDecl>>(table: T): LimitsOf<T> {
    return Object.fromEntries(
        Object.entries(table)
            .filter(([, d]) => d.limits !== undefined)
            .map(([k, d]) => [k, d.limits]),
    ) as LimitsOf<T>;
}

/** A table's keys, in declaration order (what unknown-key messages list). */
export function keysOf<T extends Record<string, OptionDecl>>(table: T): readonly (keyof T & string)[] {
    return Object.keys(table);
}

/** The options of the enclosing table that options of `table` inherit their default from (`defaultMemory`, …). */
export function inheritedFrom(table: Readonly<Record<string, OptionDecl>>): string[] {
    return Object.values(table).flatMap((d) => (d.inherits === undefined ? [] : [d.inherits]));
}

/** For each option of `table` that inherits its default, the value of the option it inherits from in `values`. */
export function inheritedValues(
    table: Readonly<Record<string, OptionDecl>>,
    values: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
    return Object.fromEntries(Object.entries(table).flatMap(([k, d]) => (d.inherits === undefined ? [] : [[k, values[d.inherits]]])));
}

/** An option's limits as the user reads them, e.g. `1024 to 1048576 MiB` or `8G to 16T`; undefined without limits. */
export function limitsText(d: OptionDecl): string | undefined {
    if (!d.limits) return undefined;
    const { min, max } = d.limits;
    if (d.kind === "size") return `${formatSize(min)} to ${formatSize(max)}`;
    return `${min} to ${max}${d.kind === "memory" ? " MiB" : (d.unit ?? "")}`;
}
