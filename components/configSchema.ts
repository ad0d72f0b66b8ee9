// What a host stack may say: the shapes of its validated settings, the defaults, the limits and
// the keys. Declarations only; parseConfig (config.ts) fills them in.
import type { BackupSettings } from "./backup";
import { NAME_MAX_LENGTH, Size } from "./validate";

/**
 * The optional parts of a project's provisioning, one row each (everything else — Docker, git, …
 * — always installs). From this table come the `features` keys and their defaults (config.ts),
 * `create`'s `--no-<flag>` options (cli/main.ts) and the prepared layer's recipe key (prepare.ts).
 */
export const FEATURES = [
    {
        key: "nix", flag: "nix", off: "do not install Nix",
        about: "Install Nix (official multi-user installer, flakes enabled). Needs nixos.org.",
        followsTailscale: false,
    },
    {
        key: "tailscale", flag: "tailscale", off: "do not join the tailnet (log in through the VM's IP)",
        about: "Join the tailnet with Tailscale SSH. Needs pkgs.tailscale.com and the Tailscale API. Defaults to the stack's tailscale.enabled.",
        followsTailscale: true,
    },
    {
        key: "claudeCode", flag: "claude-code", off: "do not install the Claude Code CLI",
        about: "Install the Claude Code CLI from npm. Needs the npm registry.",
        followsTailscale: false,
    },
] as const;

/** A feature's key in a project's `features`. */
export type FeatureKey = (typeof FEATURES)[number]["key"];

/** Which optional parts a project's provisioning has (see FEATURES). */
export type Features = Record<FeatureKey, boolean>;

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
}

/** One version of the Debian testing base image. */
export interface BaseImage {
    /** Its name, e.g. `2026-11`; with the `baseImage` shorthand, `url-` and a hash of the URL. */
    version: string;
    /** Where it is downloaded from (or a path on the machine running Pulumi). */
    url: string;
    /** Its file in the base pool: `debian-testing-<version>.qcow2`. */
    volume: string;
    /** The SHA-512 it must have (lowercase hex), when the config gives it. */
    sha512?: string;
    /**
     * Where its SHA-512 is read when the config gives none: the `SHA512SUMS` beside a
     * cloud.debian.org image. Undefined for a local path (the user's own file) or a given sha512.
     */
    sumsUrl?: string;
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

/** The Tailscale provider's config (`tailscale:*`) that the program passes on to host commands. */
export interface TailscaleApiSettings {
    /** `tailscale:oauthClientId`, when set (checked like a secret: never shown). */
    oauthClientId?: string;
    /** `tailscale:tailnet`, default `-` (the credentials' own tailnet). */
    tailnet: string;
    /** `tailscale:baseUrl`, default https://api.tailscale.com. */
    baseUrl: string;
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
    /**
     * Whether new system disks start from a prepared layer (the base image with the shared part of
     * the provisioning done once per version and recipe: components/prepare.ts), or provision
     * everything at first boot (false: the cold path).
     */
    prepare: boolean;
    /** Seconds a VM gets to shut down on ACPI before it is forced off. */
    shutdownTimeout: number;
    /** Seconds `pulumi up` waits for cloud-init to finish in a new VM. */
    readyTimeout: number;
    /** What the host can give the VMs that run, when the stack says. */
    hostCapacity?: { memory: number; cpus: number };
    /** Where project-vm keeps backups of project disks, and how many (see components/backup.ts). */
    backups: BackupSettings;
    /** The Tailscale API's address and the non-secret part of its credentials (validated; secrets stay with the provider's config). */
    tailscaleApi: TailscaleApiSettings;
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
    tailscaleApiTailnet: "-",
    tailscaleApiBaseUrl: "https://api.tailscale.com",
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
    nameLength: NAME_MAX_LENGTH,
} as const;

/** The keys a stack may set under `project-vms:`. */
export const CONFIG_KEYS = [
    "libvirtUri", "storageDir", "baseImage", "baseImageSha512", "baseImages", "sshPublicKeys", "defaultMemory", "defaultCpus",
    "defaultDisk", "systemDiskSize", "network", "tailscale", "aptCheckValidUntil", "prepare", "shutdownTimeout", "readyTimeout",
    "hostCapacity", "backups", "projects",
] as const;
/** The keys of a project entry. */
export const PROJECT_KEYS = ["name", "memory", "cpus", "disk", "running", "autostart", "purge", "base", "features"] as const;
/** The keys of a baseImages entry. */
export const BASE_IMAGE_KEYS = ["version", "url", "sha512"] as const;
/** The keys of hostCapacity. */
export const CAPACITY_KEYS = ["memory", "cpus"] as const;
/** The keys of a project's features. */
export const FEATURE_KEYS: readonly FeatureKey[] = FEATURES.map((f) => f.key);
/** The keys of the stack's tailscale settings. */
export const TAILSCALE_KEYS = ["enabled", "tailnet", "tags"] as const;
/** The keys of network. */
export const NETWORK_KEYS = ["name", "cidr", "bridge"] as const;
/** The keys of the Tailscale provider's config this program reads (`tailscale:<key>`). */
export const TAILSCALE_API_KEYS = ["apiKey", "oauthClientId", "oauthClientSecret", "tailnet", "baseUrl"] as const;

/** Thrown with every problem of a stack's config; `message` lists them one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`The stack's configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
            problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}
