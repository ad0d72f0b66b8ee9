// ProjectVm: one project's VM — its pool, system disk, project disk, cloud-init disk, tailnet key
// and domain. The component only wires resources; what they are is decided by the pure functions
// below and in config.ts / cloudInit.ts.
import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import { Project } from "./config";
import { GuestConfig, projectDiskLayout, renderCloudInit } from "./cloudInit";
import { growCommand, poolCommand, powerCommand, readyCommand, TailscaleApi, tailnetNodeCommand } from "./hostCommands";
import { domainSlotHook } from "./domainSlot";
import { NicAttachment } from "./host";
import { DOMAIN_CPU_MODE, DOMAIN_MACHINE } from "./domainShape";
import { PROJECT_FILES, projectMac, projectPaths, sshCommand, tailnetFqdn } from "./names";

/** The guest CPU (domainShape.ts; re-exported for the modules that took it from here). */
export { DOMAIN_CPU_MODE } from "./domainShape";

/** A single-use auth key is used at first boot; a day is ample and bounds a leaked key's life. */
export const AUTH_KEY_EXPIRY_SECONDS = 24 * 60 * 60;

/** The stack-wide settings a guest's cloud-init depends on. */
export interface GuestSettings {
    /** Public keys that may log in as dev. */
    sshPublicKeys: string[];
    /** Tailscale settings of the stack. */
    tailscale: { tailnet?: string; tags: string[] };
    /** Whether guest apt checks Release files' Valid-Until. */
    aptCheckValidUntil: boolean;
}

/**
 * What the cloud-init renderer is given for a project: its NIC's MAC (projectMac of the stack and
 * name), whether its system disk starts from a prepared layer, and the auth key only when it joins
 * the tailnet.
 */
export function guestConfig(project: Project, settings: GuestSettings, mac: string, prepared: boolean, authKey?: string): GuestConfig {
    return {
        hostname: project.hostname,
        mac,
        sshPublicKeys: settings.sshPublicKeys,
        features: project.features,
        tailscale: project.features.tailscale && authKey !== undefined ? { authKey, tags: settings.tailscale.tags } : undefined,
        aptCheckValidUntil: settings.aptCheckValidUntil,
        prepared,
    };
}

/**
 * When a system disk is rebuilt on another base: only when its entry's `base` changes (a pin, or a
 * move to another version). A new prepared layer (a changed recipe or `prepare` switched) or a new
 * newest version leaves existing system disks where they are; the engine ignores a trigger that was
 * never recorded, so disks made before this rule are not rebuilt by it either.
 */
export function systemDiskTrigger(project: Project): string {
    return project.base === undefined ? "unpinned" : `base:${project.base}`;
}

/** Inputs of a ProjectVm. */
export interface ProjectVmArgs extends GuestSettings {
    /** The validated project entry. */
    project: Project;
    /** The stack (one per host): with the project name, it makes the NIC's MAC address. */
    stack: string;
    /** libvirt connection URI of the host (for the virsh commands). */
    libvirtUri: string;
    /** Seconds of ACPI shutdown before the VM is forced off. */
    shutdownTimeout: number;
    /** Seconds to wait for cloud-init in a new VM. */
    readyTimeout: number;
    /** The Tailscale API, to delete the VM's machine from the tailnet when the VM goes. */
    tailscaleApi: TailscaleApi;
    /** The Tailscale provider that makes the auth keys: set when the project joins the tailnet. */
    tailnetProvider?: tailscale.Provider;
    /** The stack's storage folder; the project's files go to `<storageDir>/<name>/`. */
    storageDir: string;
    /** The libvirt provider of the host. */
    provider: libvirt.Provider;
    /**
     * What a new system disk is an overlay of (the pinned version, else the newest): the ID (path)
     * of its prepared layer or of the base image itself, and which of the two.
     */
    systemDiskBase: { id: pulumi.Input<string>; prepared: boolean };
    /** Size of the system disk in bytes. */
    systemDiskBytes: number;
    /** How the NIC attaches to the network. */
    nic: NicAttachment;
}

/** One project's VM and disks (`project-vms:index:ProjectVm`). */
export class ProjectVm extends pulumi.ComponentResource {
    /** `project-<name>`: domain name, guest hostname, tailnet machine name. */
    public readonly hostname: pulumi.Output<string>;
    /** `project-<name>.<tailnet>`, when the VM joins the tailnet. */
    public readonly fqdn: pulumi.Output<string | undefined>;
    /** The first address the VM's NIC got. */
    public readonly ip: pulumi.Output<string | undefined>;
    /** How to log in, e.g. `ssh dev@project-myapp.bat-boa.ts.net`. */
    public readonly ssh: pulumi.Output<string>;
    /** The libvirt domain name. */
    public readonly domainName: pulumi.Output<string>;
    /** Paths of the system disk, the project disk and the cloud-init ISO on the host. */
    public readonly disks: pulumi.Output<{ system: string; project: string; cloudInit: string }>;
    /** The domain. */
    public readonly domain: libvirt.Domain;
    /** The project disk (kept when the project goes, unless it is marked purge). */
    public readonly projectDisk: libvirt.Volume;

    constructor(name: string, args: ProjectVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("project-vms:index:ProjectVm", name, {}, opts);
        // The MAC is per host and project: the same project on two hosts must not share one.
        const p = args.project;
        const mac = projectMac(args.stack, p.name);
        const paths = projectPaths(args.storageDir, p.name);
        const child = { parent: this, provider: args.provider };

        // The project's folder as a pool, made idempotently; deleted only when purged.
        const pool = poolCommand(
            `${name}-pool`,
            {
                libvirtUri: args.libvirtUri,
                pool: p.hostname,
                dir: paths.dir,
                purge: p.purge,
            },
            { parent: this },
        );
        const inPool = { ...child, dependsOn: [pool] };

        // The system disk: an overlay of the pinned base version, else of the newest when it is
        // created (its prepared layer, when the stack prepares), and of that one thereafter: it is
        // rebuilt on another only when the entry's base changes (systemDiskTrigger).
        const systemDisk = new libvirt.Volume(
            `${name}-system-disk`,
            {
                name: PROJECT_FILES.systemDisk,
                pool: p.hostname,
                baseVolumeId: args.systemDiskBase.id,
                size: args.systemDiskBytes,
                format: "qcow2",
            },
            {
                ...inPool,
                // The tailnet key is replaced with this disk: its provider must be loaded by then.
                dependsOn: [pool, ...(args.tailnetProvider ? [args.tailnetProvider] : [])],
                // Neither a new base (layer, newest version) nor a new systemDiskSize replaces a disk:
                // the provider can only replace a volume whose size changes, and a replacement takes
                // the newest base too. Both reach new system disks (and a moved one).
                ignoreChanges: ["baseVolumeId", "size"],
                replacementTrigger: systemDiskTrigger(p),
                // The old disk goes first: the new one has its name, which libvirt refuses twice (a
                // replacement the trigger asks for skips the provider's diff, which would ask for this).
                deleteBeforeReplace: true,
            },
        );

        // The developer's work. Removing the project or `pulumi destroy` leaves it in the
        // project's folder (a project of the same name takes it up again), unless the entry was
        // marked purge: true first. Its size is grown in place by `grow` below: a size change
        // through the provider would recreate it empty.
        this.projectDisk = new libvirt.Volume(
            `${name}-project-disk`,
            {
                name: PROJECT_FILES.projectDisk,
                pool: p.hostname,
                size: p.disk.bytes,
                format: "qcow2",
            },
            { ...inPool, retainOnDelete: !p.purge, ignoreChanges: ["size"] },
        );

        // On the tailnet: a single-use key for the first boot of each system disk (a fresh disk is
        // a new machine, with a new key).
        let authKey: pulumi.Output<string | undefined> = pulumi.output(undefined);
        let tailnetKey: tailscale.TailnetKey | undefined;
        if (p.features.tailscale) {
            if (!args.tailnetProvider) throw new Error(`project ${p.name} joins the tailnet but has no Tailscale provider`);
            tailnetKey = new tailscale.TailnetKey(
                `${name}-tailnet-key`,
                {
                    reusable: false,
                    ephemeral: false,
                    preauthorized: true,
                    expiry: AUTH_KEY_EXPIRY_SECONDS,
                    tags: args.tailscale.tags,
                    description: `project-vms ${p.hostname}`,
                    recreateIfInvalid: "never",
                },
                { parent: this, provider: args.tailnetProvider, replaceWith: [systemDisk] },
            );
            authKey = pulumi.secret(tailnetKey.key);
        }

        const files = authKey.apply((key) => renderCloudInit(guestConfig(p, args, mac, args.systemDiskBase.prepared, key)));

        const cloudInit = new libvirt.CloudInitDisk(
            `${name}-cloud-init`,
            {
                name: PROJECT_FILES.cloudInit,
                pool: p.hostname,
                userData: pulumi.secret(files.userData),
                // Derived from the secret user-data (through its hash) but holding nothing secret.
                metaData: pulumi.unsecret(files.metaData),
                networkConfig: pulumi.unsecret(files.networkConfig),
            },
            inPool,
        );

        this.domain = new libvirt.Domain(
            name,
            {
                name: p.hostname,
                memory: p.memory,
                vcpu: p.cpus,
                cpu: { mode: DOMAIN_CPU_MODE },
                machine: DOMAIN_MACHINE,
                disks: [{ volumeId: systemDisk.id }, { volumeId: this.projectDisk.id }],
                cloudinit: cloudInit.id,
                networkInterfaces: [
                    {
                        ...args.nic,
                        mac,
                        hostname: p.hostname,
                        waitForLease: true,
                    },
                ],
                // The guest agent channel is always attached and the guest installs the agent. Asking
                // the provider to read addresses through it only pays off on a bridge, where libvirt
                // sees no DHCP lease; elsewhere leases answer at once, before the agent is installed.
                qemuAgent: "bridge" in args.nic,
                consoles: [{ type: "pty", targetPort: "0", targetType: "serial" }],
                graphics: { type: "vnc", listenType: "address", listenAddress: "127.0.0.1", autoport: true },
                // A stopped project stays stopped across a host reboot: only running ones start with it.
                autostart: p.autostart && p.running,
                // The provider can only start a domain; power.sh below owns the power state.
                running: true,
            },
            {
                ...child,
                customTimeouts: { create: "20m" },
                // cpu: domains made before `maximum` keep their host-passthrough (a CPU change replaces
                // the domain: an upgrade would restart every VM); they take it when replaced anyway.
                ignoreChanges: ["running", "cpu"],
                // Its name is fixed: the old domain goes before the new one is defined. (A fresh system
                // disk replaces it too: the disk is deleted before it is replaced, and the engine then
                // replaces what uses it, in dependency order, so the power command's graceful shutdown
                // runs first. A replaceWith here would not keep that order.)
                deleteBeforeReplace: true,
                // A domain left defined by a create that failed or was stopped is cleared first.
                hooks: {
                    beforeCreate: [
                        domainSlotHook({
                            libvirtUri: args.libvirtUri,
                            domain: p.hostname,
                            mac,
                            projectDir: paths.dir,
                            shutdownTimeout: args.shutdownTimeout,
                        }),
                    ],
                },
            },
        );

        // A new VM is done when cloud-init is: `pulumi up` waits for it, or fails saying why.
        const ready = readyCommand(
            `${name}-ready`,
            {
                libvirtUri: args.libvirtUri,
                domain: p.hostname,
                domainId: this.domain.id,
                timeout: args.readyTimeout,
                instanceId: pulumi.unsecret(files.instanceId),
            },
            { parent: this, dependsOn: [this.domain] },
        );

        // The VM's tailnet machine, recorded by its node ID once it has joined (and only when the
        // API says that node was added while this VM's auth key was valid), and deleted by that ID
        // (never by name: another host's VM may have the same name) when the VM goes or gets a
        // fresh system disk.
        const tailnetMachine: pulumi.Resource[] = [];
        if (tailnetKey) {
            tailnetMachine.push(
                tailnetNodeCommand(
                    `${name}-tailnet-machine`,
                    {
                        libvirtUri: args.libvirtUri,
                        domain: p.hostname,
                        hostname: p.hostname,
                        tags: args.tailscale.tags,
                        authKey: { createdAt: tailnetKey.createdAt, expiresAt: tailnetKey.expiresAt },
                        api: args.tailscaleApi,
                    },
                    { parent: this, dependsOn: [this.domain, ready], replaceWith: [systemDisk] },
                ),
            );
        }

        // Power state, and a graceful shutdown before the domain is replaced or deleted.
        const power = powerCommand(
            `${name}-power`,
            {
                libvirtUri: args.libvirtUri,
                domain: p.hostname,
                domainId: this.domain.id,
                running: p.running,
                shutdownTimeout: args.shutdownTimeout,
                domainUpdates: [cloudInit.id, String(p.autostart && p.running)],
            },
            { parent: this, dependsOn: [this.domain, ready, ...tailnetMachine] },
        );

        // Project disk grow: in place, live when the VM runs; the guest grows the filesystem at boot.
        growCommand(
            `${name}-grow-project-disk`,
            {
                libvirtUri: args.libvirtUri,
                pool: p.hostname,
                volume: PROJECT_FILES.projectDisk,
                sizeBytes: p.disk.bytes,
                domain: p.hostname,
                target: projectDiskLayout().device.replace("/dev/", ""),
                configKey: `disk of project ${p.name} (project-vms:projects)`,
            },
            { parent: this, dependsOn: [this.projectDisk, power] },
        );

        this.hostname = pulumi.output(p.hostname);
        this.domainName = this.domain.name;
        this.fqdn = pulumi.output(tailnetFqdn(p, args.tailscale.tailnet));
        this.ip = this.domain.networkInterfaces.apply((nics) => nics?.[0]?.addresses?.[0]);
        this.ssh = pulumi.all([this.fqdn, this.ip]).apply(([fqdn, ip]) => sshCommand(fqdn ?? ip ?? p.hostname));
        this.disks = pulumi.all([systemDisk.id, this.projectDisk.id, cloudInit.id]).apply(([system, project, iso]) => ({
            system,
            project,
            // A CloudInitDisk's ID is `<volume key>;<uuid>`.
            cloudInit: iso.split(";")[0],
        }));

        this.registerOutputs({
            hostname: this.hostname,
            fqdn: this.fqdn,
            ip: this.ip,
            ssh: this.ssh,
            domainName: this.domainName,
            disks: this.disks,
        });
    }
}
