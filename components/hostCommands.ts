// What the libvirt provider cannot do, done with virsh through @pulumi/command on the machine
// running Pulumi: pools that survive a kept project disk, power state, graceful shutdown, growing
// a disk in place, waiting for cloud-init, and recording a VM's tailnet machine by its node ID to
// delete that machine (and no other) when the VM goes. The shell lives in host-scripts/
// (shellcheck-clean); this module only says which function of which script runs when, with what
// settings.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HOST_INTERPRETER, hostCalls } from "./hostScripts";
import { xmlSafe } from "./validate";

// The host scripts' text, as commands carry it and runHostScript runs it (no Pulumi in it: the CLI loads it).
export * from "./hostScripts";

/** Inputs of a host-scripts command (see hostCommand). */
export interface HostCommandArgs {
    /** The script under host-scripts/ whose functions the command calls, e.g. power.sh. */
    script: string;
    /** Its functions called on create, on update (default: create's) and on delete (default: none). */
    calls: { create: string; update?: string; delete?: string };
    /** Other scripts whose functions `script` calls (their text comes along). */
    uses?: string[];
    /** The settings the functions read, as environment variables (the packed program is added). */
    environment: Record<string, pulumi.Input<string>>;
    /** Register the whole environment as secret (it holds credentials). */
    secret?: boolean;
    /** Values whose change replaces the command. */
    triggers?: pulumi.Input<unknown>[];
}

/**
 * The one factory of host-scripts commands: a command calling functions of `script` (hostCalls),
 * run by HOST_INTERPRETER, with its settings and its packed program in the environment.
 */
export function hostCommand(name: string, args: HostCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    const { program, ...calls } = hostCalls(args.script, args.calls, args.uses);
    const environment = { ...args.environment, ...program };
    return new command.local.Command(
        name,
        {
            interpreter: HOST_INTERPRETER,
            ...calls,
            environment: args.secret ? pulumi.secret(environment) : environment,
            ...(args.triggers ? { triggers: args.triggers } : {}),
        },
        opts,
    );
}

/** Inputs of a pool command. */
export interface PoolCommandArgs {
    /** libvirt connection URI. */
    libvirtUri: string;
    /** Pool name. */
    pool: string;
    /** Folder of the pool. */
    dir: string;
    /** Delete the pool (and its then-empty folder) when the resource is deleted. */
    purge: boolean;
}

/**
 * A dir pool made idempotently (a pool kept with a project disk is taken up again), and deleted
 * only when purged. libvirt.Pool would fail to create an existing pool and to delete a non-empty one.
 */
export function poolCommand(name: string, args: PoolCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    // virsh pool-define-as writes both into the pool's XML without escaping them.
    for (const [what, value] of [
        ["pool name", args.pool],
        ["pool folder", args.dir],
    ]) {
        if (!xmlSafe(value)) throw new Error(`${what} ${JSON.stringify(value)} is not safe in libvirt XML (letters, digits, . _ - / only)`);
    }
    return hostCommand(
        name,
        {
            script: "pool.sh",
            calls: { create: "pool_ensure", delete: "pool_remove" },
            environment: { LIBVIRT_URI: args.libvirtUri, POOL: args.pool, POOL_DIR: args.dir, PURGE: String(args.purge) },
        },
        opts,
    );
}

/** Inputs of a power command. */
export interface PowerCommandArgs {
    /** libvirt connection URI. */
    libvirtUri: string;
    /** Domain name. */
    domain: string;
    /** The domain's ID: a new domain (a replacement) replaces this command too. */
    domainId: pulumi.Input<string>;
    /** Desired power state. */
    running: boolean;
    /** Seconds of ACPI shutdown before forcing the domain off. */
    shutdownTimeout: number;
    /** Values whose change makes the provider start the domain (an in-place update): power is applied again after them. */
    domainUpdates: pulumi.Input<string>[];
}

/**
 * The VM's power state: applied after every create or in-place update of the domain (which the
 * provider ends by starting it), and a graceful ACPI shutdown when the domain is about to be
 * replaced or deleted (this command is deleted first: it depends on the domain, and a new domain
 * ID replaces it, old one first).
 */
export function powerCommand(name: string, args: PowerCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    return hostCommand(
        name,
        {
            script: "power.sh",
            calls: { create: "power_apply", delete: "power_stop" },
            environment: {
                LIBVIRT_URI: args.libvirtUri,
                DOMAIN: args.domain,
                DESIRED: args.running ? "running" : "stopped",
                SHUTDOWN_TIMEOUT: String(args.shutdownTimeout),
                DOMAIN_UPDATES: pulumi.all(args.domainUpdates).apply((v) => v.join(" ")),
            },
            triggers: [args.domainId],
        },
        { ...opts, deleteBeforeReplace: true },
    );
}

/** Inputs of a disk grow command. */
export interface GrowCommandArgs {
    /** libvirt connection URI. */
    libvirtUri: string;
    /** Pool of the volume. */
    pool: string;
    /** Volume name. */
    volume: string;
    /** Desired size in bytes. */
    sizeBytes: number;
    /** Domain using the disk (grown live while it runs). */
    domain: string;
    /** The disk's target in the domain, e.g. vdb. */
    target: string;
    /** The config key of the size, for the message refusing to shrink. */
    configKey: string;
}

/** Grows a volume in place when its configured size rises; refuses to shrink it. */
export function growCommand(name: string, args: GrowCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    return hostCommand(
        name,
        {
            script: "grow-disk.sh",
            calls: { create: "disk_grow" },
            environment: {
                LIBVIRT_URI: args.libvirtUri,
                POOL: args.pool,
                VOLUME: args.volume,
                SIZE: String(args.sizeBytes),
                DOMAIN: args.domain,
                TARGET: args.target,
                CONFIG_KEY: args.configKey,
            },
        },
        opts,
    );
}

/** Inputs of a readiness command. */
export interface ReadyCommandArgs {
    /** libvirt connection URI. */
    libvirtUri: string;
    /** Domain name. */
    domain: string;
    /** The domain's ID: a new domain is waited for again. */
    domainId: pulumi.Input<string>;
    /** Seconds to wait for cloud-init. */
    timeout: number;
    /** The instance-id of the attached cloud-init disk: a VM that failed with an older one is rebooted to provision again. */
    instanceId: pulumi.Input<string>;
}

/**
 * Makes `pulumi up` finish only once cloud-init has finished in a new VM (asked through the guest
 * agent), or fail with the failing step and the tail of cloud-init's output log. It runs again for
 * every new config (instance-id): a VM that failed provisioning is then rebooted to try the fix.
 */
export function readyCommand(name: string, args: ReadyCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    // An update (new config, or only a new program) of a stopped VM has nothing to wait for.
    return hostCommand(
        name,
        {
            script: "ready.sh",
            calls: { create: "ready_wait", update: "ready_recheck" },
            environment: {
                LIBVIRT_URI: args.libvirtUri,
                DOMAIN: args.domain,
                READY_TIMEOUT: String(args.timeout),
                INSTANCE_ID: args.instanceId,
            },
            triggers: [args.domainId],
        },
        { ...opts, customTimeouts: { create: `${args.timeout + 300}s` } },
    );
}

/** Credentials and address of the Tailscale API, from the Tailscale provider's own config. */
export interface TailscaleApi {
    /** `tailscale:apiKey` (secret). */
    apiKey?: pulumi.Output<string>;
    /** `tailscale:oauthClientId`. */
    oauthClientId?: string;
    /** `tailscale:oauthClientSecret` (secret). */
    oauthClientSecret?: pulumi.Output<string>;
    /** `tailscale:tailnet`, default `-` (the credentials' own tailnet). */
    tailnet: string;
    /** `tailscale:baseUrl`, default https://api.tailscale.com. */
    baseUrl: string;
}

/** Inputs of a tailnet machine command. */
export interface TailnetNodeCommandArgs {
    /** libvirt connection URI (to ask the guest agent for the node's identity). */
    libvirtUri: string;
    /** The domain, whose guest is asked for its node ID. */
    domain: string;
    /** The machine's hostname, project-<name>. */
    hostname: string;
    /** The tags of the VM's auth key: a machine without them is not this VM's. */
    tags: string[];
    /**
     * The life of the VM's single-use auth key, as the API reported it (the TailnetKey's createdAt and
     * expiresAt, RFC 3339): a node the API says was added to the tailnet outside it is not this VM's,
     * whatever node ID and node key the guest reports (it sees its peers' in its netmap).
     */
    authKey: { createdAt: pulumi.Input<string>; expiresAt: pulumi.Input<string> };
    /** The Tailscale API. */
    api: TailscaleApi;
}

/**
 * The VM's machine on the tailnet, by identity: once the VM has joined, its node ID is read from
 * the guest (and checked against the API, which must say the node was added to the tailnet while
 * the VM's auth key was valid) and kept as this command's stdout; a node that cannot be proven is
 * not recorded (a warning names it) and so never deleted. Deleting the command
 * deletes that node, and only it — never a machine found by name, which on a tailnet shared by
 * several hosts may be another host's VM of the same name. Replaced with the system disk only
 * (a fresh disk is a new node), the old node deleted first: a new domain on the same system disk
 * (a memory or vCPU change) is the same node with the same Tailscale state, and stays recorded —
 * deleting it would throw the VM off the tailnet.
 */
export function tailnetNodeCommand(name: string, args: TailnetNodeCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    const env: Record<string, pulumi.Input<string>> = {
        LIBVIRT_URI: args.libvirtUri,
        DOMAIN: args.domain,
        NODE_HOSTNAME: args.hostname,
        TS_TAGS: args.tags.join(","),
        TS_KEY_CREATED: args.authKey.createdAt,
        TS_KEY_EXPIRES: args.authKey.expiresAt,
        TS_BASE_URL: args.api.baseUrl,
        TS_TAILNET: args.api.tailnet,
    };
    if (args.api.apiKey) env.TS_API_KEY = args.api.apiKey;
    if (args.api.oauthClientId) env.TS_OAUTH_CLIENT_ID = args.api.oauthClientId;
    if (args.api.oauthClientSecret) env.TS_OAUTH_CLIENT_SECRET = args.api.oauthClientSecret;
    // A changed script, credential or input (the key's times, added to stacks with records) is the
    // same machine: the update keeps the record (a stopped VM's too), unchecked.
    return hostCommand(
        name,
        {
            script: "tailnet.sh",
            calls: { create: "tailnet_node_record", update: "tailnet_node_keep", delete: "tailnet_node_delete" },
            environment: env,
            secret: true,
        },
        {
            ...opts,
            deleteBeforeReplace: true,
            // Stacks applied before this recorded the domain's ID as a trigger: ignored, so that the
            // upgrade (and any later domain replacement) keeps the recorded machine.
            ignoreChanges: ["triggers"],
        },
    );
}
