// Runs the Pulumi program under `pulumi.runtime.setMocks` and records what the engine would
// receive for every resource: type, name, parent, provider, protect, plugin version, inputs and
// which inputs are secret. Mocks switch on the type token; every libvirt resource's inputs are
// checked against the provider's published schema, and a mismatch fails its registration.
import * as pulumi from "@pulumi/pulumi";
import { inputProblems } from "./schemas";

/** What the engine received for one resource. */
export interface Registered {
    type: string;
    name: string;
    urn: string;
    parent: string;
    provider: string;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    dependencies: string[];
    replaceWith: string[];
    /** The URNs of its aliases. */
    aliases: string[];
    /** The replacementTrigger option's value (undefined when unset). */
    replacementTrigger: unknown;
    /** Names of the resource hooks run before it is created. */
    beforeCreate: string[];
    version: string;
    inputs: Record<string, any>;
    secretInputs: string[];
    id: string;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The life of a mock auth key as the provider reports it: its createdAt and expiresAt, per key. */
export function mockKeyTimes(name: string): { createdAt: string; expiresAt: string } {
    const seconds = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 86400, 0);
    const created = new Date(Date.UTC(2025, 2, 2) + seconds * 1000);
    const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
    return { createdAt: iso(created), expiresAt: iso(new Date(created.getTime() + 86400 * 1000)) };
}

/** The plain value of a deserialized property, with secret wrappers removed at any depth. */
export function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SECRET_SIG]) return unwrapSecrets(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** The value of an Output, once known. */
export function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) =>
        pulumi.output(o).apply((v) => {
            resolve(v as T);
            return v;
        }),
    );
}

/** Installs the mocks, sets the stack's config and returns the list every registration is added to. */
export async function installMocks(stack: string, config: Record<string, string>, libvirtSchema: any): Promise<Registered[]> {
    const registered: Registered[] = [];
    const poolPaths = new Map<string, string>();
    let n = 0;

    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
                const i = unwrapSecrets(args.inputs) as Record<string, any>;
                if (!args.custom) return { id: undefined, state: i }; // component resources
                if (args.type.startsWith("libvirt:") || args.type === "pulumi:providers:libvirt") {
                    const problems = inputProblems(libvirtSchema, args.type, i);
                    if (problems.length) throw new Error(`inputs of ${args.name} break the libvirt schema:\n${problems.join("\n")}`);
                }
                switch (args.type) {
                    case "pulumi:providers:libvirt":
                        return { id: "provider-id", state: i };
                    case "libvirt:index/pool:Pool":
                        return { id: `pool-uuid-${++n}`, state: { ...i, capacity: 1e12, allocation: 0, available: 1e12 } };
                    case "libvirt:index/volume:Volume": {
                        const dir = poolPaths.get(i.pool);
                        if (!dir) throw new Error(`volume ${args.name}: pool ${i.pool} was not created first`);
                        return { id: `${dir}/${i.name}`, state: { ...i, size: i.size ?? 3 * 1024 ** 3, format: i.format ?? "qcow2" } };
                    }
                    case "libvirt:index/cloudInitDisk:CloudInitDisk":
                        return { id: `${poolPaths.get(i.pool)}/${i.name};uuid-${++n}`, state: i };
                    case "libvirt:index/network:Network":
                        return { id: `network-uuid-${++n}`, state: { ...i, bridge: "virbr7" } };
                    case "libvirt:index/domain:Domain": {
                        const nics = (i.networkInterfaces ?? []).map((nic: any, k: number) => ({
                            ...nic,
                            addresses: [`10.17.0.${10 + n + k}`],
                        }));
                        return { id: `domain-uuid-${++n}`, state: { ...i, networkInterfaces: nics } };
                    }
                    case "command:local:Command":
                        if (i.environment?.POOL && i.environment?.POOL_DIR) poolPaths.set(i.environment.POOL, i.environment.POOL_DIR);
                        // fetch-image.sh prints the verified file it made in the cache.
                        if (i.environment?.IMAGE_URL)
                            return {
                                id: `command-${++n}`,
                                state: { ...i, stdout: `${i.environment.IMAGE_CACHE}/verified-${n}.qcow2`, stderr: "" },
                            };
                        // prepare-base.sh prints the prepared layer's volume path, in the base pool.
                        if (i.environment?.PREPARED_VOLUME) {
                            return {
                                id: `command-${++n}`,
                                state: {
                                    ...i,
                                    stdout: `${poolPaths.get(i.environment.POOL)}/${i.environment.PREPARED_VOLUME}`,
                                    stderr: "",
                                },
                            };
                        }
                        return { id: `command-${++n}`, state: { ...i, stdout: "", stderr: "" } };
                    case "pulumi:providers:tailscale":
                        return { id: "tailnet-provider-id", state: i };
                    case "tailscale:index/tailnetKey:TailnetKey":
                        return { id: `key-id-${++n}`, state: { ...i, key: `tskey-auth-mock-${args.name}`, ...mockKeyTimes(args.name) } };
                    default:
                        throw new Error(`the program registered a resource type the tests do not know: ${args.type}`);
                }
            },
            call(args: pulumi.runtime.MockCallArgs) {
                throw new Error(`unexpected provider function call ${args.token}`);
            },
        },
        "project-vms",
        stack,
        false,
    );

    // Record the raw requests: parent, provider, protect, version and secrecy are not in MockResourceArgs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor();
    // The mock monitor has no hook registry: the engine's is real (test:engine runs the hooks).
    monitor.registerResourceHook = (_req: unknown, callback: (err: unknown, resp: unknown) => void) => callback(null, {});
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
        original(req, (err: any, resp: any) => {
            if (!err) {
                const raw = req.getObject().toJavaScript() as Record<string, any>;
                registered.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: resp.getUrn(),
                    parent: req.getParent(),
                    provider: req.getProvider(),
                    protect: req.getProtect(),
                    retainOnDelete: req.getRetainondelete(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    ignoreChanges: req.getIgnorechangesList(),
                    dependencies: req.getDependenciesList(),
                    replaceWith: req.getReplaceWithList(),
                    aliases: [
                        ...req.getAliasurnsList(),
                        ...req
                            .getAliasesList()
                            .map((a: any) => a.getUrn())
                            .filter(Boolean),
                    ],
                    replacementTrigger: req.hasReplacementTrigger() ? req.getReplacementTrigger().toJavaScript() : undefined,
                    beforeCreate: req.getHooks()?.getBeforeCreateList() ?? [],
                    version: req.getVersion(),
                    inputs: unwrapSecrets(raw) as Record<string, any>,
                    secretInputs: Object.entries(raw)
                        .filter(([, v]) => v?.[SECRET_SIG])
                        .map(([k]) => k),
                    id: resp.getId(),
                });
            }
            callback(err, resp);
        });
    };

    pulumi.runtime.setAllConfig(config);
    return registered;
}
