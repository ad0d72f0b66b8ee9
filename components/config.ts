// The stack's configuration: the one pure function that turns raw config into validated settings —
// or into every problem at once, each naming its key and its bad value, before any resource is
// registered. What a stack may say is declared in configOptions.ts (each option once: its kind,
// default, limits and description); plain values are read as declared (readOptions), checked by
// validate.ts; object sections are read by configSections.ts.
import { Raw, readOptions, Reader } from "./configReader";
import {
    CAPACITY_KEYS,
    CAPACITY_OPTIONS,
    CONFIG_KEYS,
    ConfigError,
    DEFAULTS,
    FEATURE_KEYS,
    FEATURES,
    Features,
    inheritedFrom,
    inheritedValues,
    NetworkSettings,
    PROJECT_KEYS,
    PROJECT_OPTIONS,
    Project,
    Settings,
    STACK_OPTIONS,
} from "./configSchema";
import { baseProblem, parseBaseImages, parseNetwork, parseTailscale, parseTailscaleApi } from "./configSections";
import { parseBackupSettings } from "./backup";
import { hostnameOf, NAMESPACE, projectNameProblem, publicKeyProblem, show } from "./validate";

export * from "./configSchema";
export {
    BASE_POOL_DIR,
    formatSize,
    hostnameOf,
    memoryMiB,
    NAMESPACE,
    parseSize,
    projectNameProblem,
    publicKeyProblem,
    RESERVED_NAMES,
} from "./validate";
export type { Size } from "./validate";

/**
 * Validates a stack's raw config — the values under `project-vms:` keyed without the namespace,
 * as JSON-parsed values (what `pulumi config` holds) — and the Tailscale provider's config the
 * program passes on (`tailscale:` keys without the namespace, see tailscaleProviderConfig), and
 * returns the settings with every default applied. Throws a ConfigError listing every problem.
 */
export function parseConfig(raw: Raw, tailscaleProvider: Raw = {}): Settings {
    const r = new Reader();
    r.unknownKeys(raw, CONFIG_KEYS, "");

    // The plain options (libvirtUri, defaultMemory, …), each checked as STACK_OPTIONS declares it.
    const v = readOptions(r, { from: raw, table: STACK_OPTIONS, at: "" });
    const baseImages = parseBaseImages(r, raw.baseImage, raw.baseImages, raw.baseImageSha512);
    const sshPublicKeys = parseKeys(r, raw.sshPublicKeys);
    const hostCapacity = parseCapacity(r, raw.hostCapacity);

    const entries = r.array(raw.projects, "projects") ?? [];
    const network = parseNetwork(r, raw.network, entries.length);
    const tailscale = parseTailscale(r, raw.tailscale);
    const tailscaleApi = parseTailscaleApi(r, tailscaleProvider);

    const { projects, sizesKnown } = parseProjects(r, entries, {
        inherited: inheritedValues(PROJECT_OPTIONS, v),
        tailscale: tailscale.settings.enabled,
        tailscaleKnown: tailscale.known,
        network,
        baseImages,
    });
    // Capacity is checked only over values that were read: a bad one has said its problem already.
    if (hostCapacity && sizesKnown) {
        for (const problem of capacityProblems(projects, hostCapacity)) r.problem("hostCapacity", problem);
    }

    // Backups: read by project-vm (the program itself makes none); checked here like every key.
    const backups = parseBackupSettings(r, raw.backups, v.storageDir ?? DEFAULTS.storageDir);

    if (r.problems.length > 0) throw new ConfigError(r.problems);
    // Without problems every plain option has its value; the stack's defaults of project keys went into the projects.
    const plain = Object.fromEntries(Object.entries(v).filter(([k]) => !inheritedFrom(PROJECT_OPTIONS).includes(k))) as Required<typeof v>;
    return {
        ...plain,
        baseImages,
        sshPublicKeys,
        network,
        tailscale: tailscale.settings,
        hostCapacity,
        backups: backups!,
        tailscaleApi,
        projects,
    };
}

/** The SSH public keys: at least one, each one OpenSSH public key line. */
function parseKeys(r: Reader, v: unknown): string[] {
    const keys = r.array(v, "sshPublicKeys");
    if (!keys) {
        if (v === undefined || v === null)
            r.problem(
                "sshPublicKeys",
                "must list at least one SSH public key (e.g. the content of ~/.ssh/id_ed25519.pub): without one nobody can log in as dev",
            );
        return [];
    }
    if (keys.length === 0)
        r.problem(
            "sshPublicKeys",
            "must list at least one SSH public key (e.g. the content of ~/.ssh/id_ed25519.pub): without one nobody can log in as dev",
        );
    const out: string[] = [];
    keys.forEach((k, i) => {
        const problem = typeof k === "string" ? publicKeyProblem(k) : "must be a string";
        const shown = typeof k === "string" && k.length > 40 ? `${k.slice(0, 40)}...` : k;
        if (problem) r.problem(`sshPublicKeys[${i}]`, `${problem}: ${show(shown)}`);
        else out.push((k as string).trim());
    });
    return out;
}

/** `hostCapacity`: both memory and cpus, or undefined (also after a problem: nothing to check against). */
function parseCapacity(r: Reader, v: unknown): Settings["hostCapacity"] {
    const capacity = r.object(v, "hostCapacity");
    if (!capacity) return undefined;
    r.unknownKeys(capacity, CAPACITY_KEYS, "hostCapacity");
    if (capacity.memory === undefined || capacity.cpus === undefined) {
        r.problem("hostCapacity", `needs both memory (MiB) and cpus, got ${show(capacity)}`);
        return undefined;
    }
    const { memory, cpus } = readOptions(r, { from: capacity, table: CAPACITY_OPTIONS, at: "hostCapacity" });
    return memory === undefined || cpus === undefined ? undefined : { memory, cpus };
}

/** What project entries inherit from the stack. */
interface ProjectDefaults {
    /** The stack's values of the project options that inherit one (`memory` → defaultMemory's), undefined where it was bad. */
    inherited: Record<string, unknown>;
    /** Whether the stack's VMs join the tailnet (the default of features.tailscale). */
    tailscale: boolean;
    /** False when tailscale.enabled could not be read: features.tailscale is then not checked against it. */
    tailscaleKnown: boolean;
    network: NetworkSettings;
    baseImages: Settings["baseImages"];
}

/** The project entries, in config order; `sizesKnown` is false when a memory or cpus could not be read. */
function parseProjects(r: Reader, list: unknown[], d: ProjectDefaults): { projects: Project[]; sizesKnown: boolean } {
    const projects: Project[] = [];
    let sizesKnown = true;
    const seen = new Map<string, number>();
    const hostNames = d.network.kind === "bridge" ? [d.network.bridge] : [d.network.name];
    list.forEach((entry, i) => {
        const at = `projects[${i}]`;
        const p = r.object(entry, at);
        if (!p) {
            if (entry === undefined || entry === null) r.problem(at, "is empty; give at least {name: <project>}");
            return;
        }
        r.unknownKeys(p, PROJECT_KEYS, at);
        // The plain options (memory, purge, …), each checked as PROJECT_OPTIONS declares it.
        const v = readOptions(r, { from: p, table: PROJECT_OPTIONS, at, inherited: d.inherited });
        const name = v.name;
        if (name === undefined) {
            if (p.name === undefined || p.name === null) r.problem(`${at}.name`, "is required (the project name, e.g. myapp)");
            return;
        }
        let nameProblem = projectNameProblem(name);
        if (!nameProblem && hostNames.includes(hostnameOf(name))) {
            nameProblem = `makes '${hostnameOf(name)}', the name of the network or bridge the VMs attach to (network); rename the project or the network`;
        }
        if (nameProblem) r.problem(`${at}.name`, `${show(name)} ${nameProblem}`);
        else if (seen.has(name)) r.problem(`${at}.name`, `${show(name)} is already used by projects[${seen.get(name)}]`);
        else seen.set(name, i);

        const f = r.object(p.features, `${at}.features`) ?? {};
        r.unknownKeys(f, FEATURE_KEYS, `${at}.features`);
        const features = Object.fromEntries(
            FEATURES.map(({ key, followsTailscale }) => {
                const fallback = followsTailscale ? d.tailscale : true;
                return [key, r.boolean(f[key], `${at}.features.${key}`, fallback) ?? fallback];
            }),
        ) as Features;
        if (features.tailscale && !d.tailscale && d.tailscaleKnown) {
            r.problem(`${at}.features.tailscale`, "is true but tailscale.enabled is false for this stack");
        }
        baseProblem(r, v.base, `${at}.base`, d.baseImages);

        if (v.memory === undefined || v.cpus === undefined) sizesKnown = false;
        // (After a problem a value may be undefined: the projects are then only read on, never used.)
        projects.push({ ...(v as Required<typeof v>), base: v.base, hostname: hostnameOf(name), features });
    });
    return { projects, sizesKnown };
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
    if (memory > capacity.memory)
        problems.push(
            `is ${capacity.memory} MiB of memory, but the running projects need ${memory} MiB (${who}); stop a project (running: false) or give less memory`,
        );
    if (cpus > capacity.cpus)
        problems.push(
            `is ${capacity.cpus} vCPUs, but the running projects need ${cpus} (${who}); stop a project (running: false) or give fewer cpus`,
        );
    return problems;
}

/** `value` JSON-parsed where it parses (so `4096` is a number and `qemu:///system` stays a string). */
function parseValue(v: string): unknown {
    try {
        return JSON.parse(v);
    } catch {
        return v; // a plain string
    }
}

/** Sets `key` as an own property, also when it is `__proto__` (which plain assignment would take as the object's prototype). */
function put(o: Raw, key: string, value: unknown): void {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The raw config of this project from the engine's flat map (`pulumi.runtime.allConfig()`: keys
 * `project-vms:<key>`, values as strings, objects and lists as JSON): keys without the namespace,
 * values JSON-parsed where they parse.
 */
export function rawConfig(all: Record<string, string>): Raw {
    const raw: Raw = {};
    for (const [k, v] of Object.entries(all)) {
        if (k.startsWith(`${NAMESPACE}:`)) put(raw, k.slice(NAMESPACE.length + 1), parseValue(v));
    }
    return raw;
}

/**
 * The Tailscale provider's config from the same flat map (`tailscale:<key>`), keys without the
 * namespace, values as the strings they are. A value still encrypted (`{"secure": …}`, as the CLI
 * reads a stack file) is left out: only the program, which sees it decrypted, can check it.
 */
export function tailscaleProviderConfig(all: Record<string, string>): Raw {
    const raw: Raw = {};
    for (const [k, v] of Object.entries(all)) {
        if (!k.startsWith("tailscale:")) continue;
        const parsed = parseValue(v);
        if (parsed && typeof parsed === "object" && "secure" in parsed) continue;
        put(raw, k.slice("tailscale:".length), v);
    }
    return raw;
}
