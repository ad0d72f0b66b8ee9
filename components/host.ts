// The per-host resources every project VM builds on: the libvirt connection, the base image and
// the network. One `Host` per stack.
import * as command from "@pulumi/command";
import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import { NetworkSettings } from "./config";
import { poolCommand } from "./hostCommands";

/** Name of the pool (and folder under storageDir) holding the base images. */
export const BASE_POOL_DIR = "base";

/** File name of the Debian testing base image in the base pool. */
export const BASE_IMAGE_VOLUME = "debian-testing.qcow2";

/** How a domain's NIC attaches: the libvirt network or host bridge, as DomainNetworkInterface fields. */
export type NicAttachment = { networkId: pulumi.Output<string> } | { networkName: string } | { bridge: string };

/** The libvirt pool name of a folder under storageDir: `project-vms-base` for the base images. */
export function basePoolName(): string {
    return `project-vms-${BASE_POOL_DIR}`;
}

/** Inputs of a Host. */
export interface HostArgs {
    /** libvirt connection URI, e.g. `qemu:///system` or `qemu+ssh://admin@storage/system`. */
    libvirtUri: string;
    /** Folder on the host holding every pool. */
    storageDir: string;
    /** URL or host-local path of the Debian testing cloud image. */
    baseImage: string;
    /** Where the VMs' NICs attach. */
    network: NetworkSettings;
}

/** The libvirt host of a stack: explicit provider, base image pool and volume, network. */
export class Host extends pulumi.ComponentResource {
    /** The explicit libvirt provider every libvirt resource of the stack uses. */
    public readonly provider: libvirt.Provider;
    /** The pool holding base images, at `<storageDir>/base` (made idempotently, never deleted). */
    public readonly basePool: command.local.Command;
    /** The Debian testing cloud image every system disk is an overlay of. */
    public readonly baseImage: libvirt.Volume;
    /** The NAT network the program owns, when the config asks for one. */
    public readonly network?: libvirt.Network;
    /** How a VM's NIC attaches. */
    public readonly nic: NicAttachment;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("project-vms:index:Host", name, {}, opts);
        this.provider = new libvirt.Provider(`${name}-libvirt`, { uri: args.libvirtUri }, { parent: this });
        const child = { parent: this, provider: this.provider };

        this.basePool = poolCommand(`${name}-base-pool`, {
            libvirtUri: args.libvirtUri,
            pool: basePoolName(),
            dir: `${args.storageDir}/${BASE_POOL_DIR}`,
            purge: false,
        }, { parent: this });

        this.baseImage = new libvirt.Volume(`${name}-base-image`, {
            name: BASE_IMAGE_VOLUME,
            pool: basePoolName(),
            source: args.baseImage,
            format: "qcow2",
        }, { ...child, dependsOn: [this.basePool] });

        const n = args.network;
        if (n.kind === "nat") {
            this.network = new libvirt.Network(`${name}-network`, {
                name: n.name,
                mode: "nat",
                addresses: [n.cidr],
                autostart: true,
                dhcp: { enabled: true },
                dns: { enabled: true },
            }, child);
            this.nic = { networkId: this.network.id };
        } else if (n.kind === "network") {
            this.nic = { networkName: n.name };
        } else {
            this.nic = { bridge: n.bridge };
        }

        this.registerOutputs({ baseImage: this.baseImage.id });
    }
}
