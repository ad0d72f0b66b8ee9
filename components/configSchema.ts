// The shapes of a host stack's validated settings, and its defaults, limits and keys as derived
// from the option declarations (configOptions.ts). Declarations only; parseConfig (config.ts)
// fills them in.
import type { BackupSettings } from "./backup";
import {
    BASE_IMAGE_OPTIONS,
    CAPACITY_OPTIONS,
    defaultsOf,
    FeatureKey,
    FEATURES,
    keysOf,
    limitsOf,
    NETWORK_OPTIONS,
    PROJECT_OPTIONS,
    STACK_OPTIONS,
    TAILSCALE_API_OPTIONS,
    TAILSCALE_OPTIONS,
    Values,
} from "./configOptions";

export * from "./configOptions";

/** A type with its intersections merged, for readable hovers and messages. */
type Flat<T> = { [K in keyof T]: T[K] };

/** One project: one VM, one project disk (see PROJECT_OPTIONS), and its hostname. */
export type Project = Flat<
    Values<typeof PROJECT_OPTIONS> & {
        /** `project-<name>`: the domain name, the guest hostname and the tailnet machine name. */
        hostname: string;
    }
>;

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

/** Tailscale settings of the stack (see TAILSCALE_OPTIONS). */
export type TailscaleSettings = Flat<Values<typeof TAILSCALE_OPTIONS>>;

/** The Tailscale provider's config (`tailscale:*`) that the program passes on to host commands. */
export interface TailscaleApiSettings {
    /** `tailscale:oauthClientId`, when set (checked like a secret: never shown). */
    oauthClientId?: string;
    /** `tailscale:tailnet`, default `-` (the credentials' own tailnet). */
    tailnet: string;
    /** `tailscale:baseUrl`, default https://api.tailscale.com. */
    baseUrl: string;
}

/** The stack options whose value is a project's default (`defaultMemory`, …): they shape the projects, not the settings. */
type ProjectDefaultKey = {
    [K in keyof typeof PROJECT_OPTIONS]: (typeof PROJECT_OPTIONS)[K] extends { inherits: infer S } ? S : never;
}[keyof typeof PROJECT_OPTIONS];

/** The stack options that are settings as they are: plain values, neither a project's default nor part of another setting. */
type DirectKey = {
    [K in keyof typeof STACK_OPTIONS]: (typeof STACK_OPTIONS)[K] extends { partOf: string }
        ? never
        : K extends ProjectDefaultKey
          ? never
          : K;
}[keyof typeof STACK_OPTIONS];

/** The validated settings of one host stack: the plain options as they are (see STACK_OPTIONS), and the sections shaped. */
export type Settings = Flat<
    Pick<Values<typeof STACK_OPTIONS>, DirectKey & keyof Values<typeof STACK_OPTIONS>> & {
        /** The base image versions, oldest first; the last is the newest (from baseImages, or the one baseImage). */
        baseImages: BaseImage[];
        /** Where NICs attach. */
        network: NetworkSettings;
        /** Tailscale settings. */
        tailscale: TailscaleSettings;
        /** What the host can give the VMs that run, when the stack says. */
        hostCapacity?: Values<typeof CAPACITY_OPTIONS>;
        /** Where project-vm keeps backups of project disks, and how many (see components/backup.ts). */
        backups: BackupSettings;
        /** The Tailscale API's address and the non-secret part of its credentials (validated; secrets stay with the provider's config). */
        tailscaleApi: TailscaleApiSettings;
        /** The projects, in config order. */
        projects: Project[];
    }
>;

/** Defaults of the stack options that have one. */
export const DEFAULTS = defaultsOf(STACK_OPTIONS);
/** Defaults of a project entry's options that have one (the others inherit the stack's, see PROJECT_OPTIONS). */
export const PROJECT_DEFAULTS = defaultsOf(PROJECT_OPTIONS);
/** Defaults of network (the program's own NAT network). */
export const NETWORK_DEFAULTS = defaultsOf(NETWORK_OPTIONS);
/** Defaults of the stack's tailscale settings. */
export const TAILSCALE_DEFAULTS = defaultsOf(TAILSCALE_OPTIONS);
/** Defaults of the Tailscale provider's config. */
export const TAILSCALE_API_DEFAULTS = defaultsOf(TAILSCALE_API_OPTIONS);

/** Limits that validation enforces on the stack options. */
export const LIMITS = limitsOf(STACK_OPTIONS);
/** Limits that validation enforces on a project entry's options. */
export const PROJECT_LIMITS = limitsOf(PROJECT_OPTIONS);

/** The keys a stack may set under `project-vms:`. */
export const CONFIG_KEYS = keysOf(STACK_OPTIONS);
/** The keys of a project entry. */
export const PROJECT_KEYS = keysOf(PROJECT_OPTIONS);
/** The keys of a baseImages entry. */
export const BASE_IMAGE_KEYS = keysOf(BASE_IMAGE_OPTIONS);
/** The keys of hostCapacity. */
export const CAPACITY_KEYS = keysOf(CAPACITY_OPTIONS);
/** The keys of a project's features. */
export const FEATURE_KEYS: readonly FeatureKey[] = FEATURES.map((f) => f.key);
/** The keys of the stack's tailscale settings. */
export const TAILSCALE_KEYS = keysOf(TAILSCALE_OPTIONS);
/** The keys of network. */
export const NETWORK_KEYS = keysOf(NETWORK_OPTIONS);
/** The keys of the Tailscale provider's config this program reads (`tailscale:<key>`). */
export const TAILSCALE_API_KEYS = keysOf(TAILSCALE_API_OPTIONS);

/** Thrown with every problem of a stack's config; `message` lists them one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `The stack's configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}
