// The per-host resources every project VM builds on: the libvirt connection, the base image and
// the network. One `Host` per stack.
import * as command from "@pulumi/command";
import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import { BaseImage, Features, NetworkSettings } from "./config";
import { imageCacheDir, imageFetchCommand } from "./baseImage";
import { poolCommand } from "./hostCommands";
import { LayerUse, layerName, preparedBaseCommand, recipeKey } from "./prepare";
import { BASE_POOL_DIR, NAMESPACE } from "./validate";

/** Name of the pool (and folder under storageDir) holding the base images (declared with the names projects may not take). */
export { BASE_POOL_DIR };

/** How a domain's NIC attaches: the libvirt network or host bridge, as DomainNetworkInterface fields. */
export type NicAttachment = { networkId: pulumi.Output<string> } | { networkName: string } | { bridge: string };

/** The libvirt pool name of a folder under storageDir: `project-vms-base` for the base images. */
export function basePoolName(): string {
    return `${NAMESPACE}-${BASE_POOL_DIR}`;
}

/** Inputs of a Host. */
export interface HostArgs {
    /** libvirt connection URI, e.g. `qemu:///system` or `qemu+ssh://admin@storage/system`. */
    libvirtUri: string;
    /** Folder on the host holding every pool. */
    storageDir: string;
    /** The base image versions, oldest first. */
    baseImages: BaseImage[];
    /** Where the VMs' NICs attach. */
    network: NetworkSettings;
    /** Where verified base images are cached on the machine running Pulumi (default: imageCacheDir()). */
    imageCacheDir?: string;
    /** The prepared layers to have on the host (components/prepare.ts layersOf; empty: the cold path). */
    layers: LayerUse[];
    /** Seconds a layer's builder may take to provision. */
    buildTimeout: number;
}

/** The builder's network, as prepare-base.sh takes it. */
export function builderNetwork(n: NetworkSettings): string {
    return n.kind === "bridge" ? `bridge:${n.bridge}` : `network:${n.name}`;
}

/** The libvirt host of a stack: explicit provider, base image pool and volume, network. */
export class Host extends pulumi.ComponentResource {
    /** The explicit libvirt provider every libvirt resource of the stack uses. */
    public readonly provider: libvirt.Provider;
    /** The pool holding base images, at `<storageDir>/base` (made idempotently, never deleted). */
    public readonly basePool: command.local.Command;
    /** One volume per base image version, by version: what system disks are overlays of. */
    public readonly baseImages: Record<string, libvirt.Volume>;
    /** The NAT network the program owns, when the config asks for one. */
    public readonly network?: libvirt.Network;
    /** How a VM's NIC attaches. */
    public readonly nic: NicAttachment;
    /** The prepared layers, by `<version>/<recipe key>`: commands whose stdout is the layer's volume path. */
    public readonly layers: Record<string, command.local.Command>;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("project-vms:index:Host", name, {}, opts);
        this.provider = new libvirt.Provider(`${name}-libvirt`, { uri: args.libvirtUri }, { parent: this });
        const child = { parent: this, provider: this.provider };

        this.basePool = poolCommand(
            `${name}-base-pool`,
            {
                libvirtUri: args.libvirtUri,
                pool: basePoolName(),
                dir: `${args.storageDir}/${BASE_POOL_DIR}`,
                purge: false,
            },
            { parent: this },
        );

        // A version's volume never changes (its source is ignored after creation: re-uploading it
        // would corrupt every overlay) and stays on the host when the version leaves the config,
        // since unpinned VMs may still run on it.
        // It is made from the verified download (see baseImage.ts), never from the URL itself.
        this.baseImages = Object.fromEntries(
            args.baseImages.map((b) => {
                const fetched = imageFetchCommand(
                    `${name}-base-fetch-${b.version}`,
                    {
                        libvirtUri: args.libvirtUri,
                        image: b,
                        cacheDir: args.imageCacheDir ?? imageCacheDir(),
                    },
                    { parent: this },
                );
                return [
                    b.version,
                    new libvirt.Volume(
                        `${name}-base-image-${b.version}`,
                        {
                            name: b.volume,
                            pool: basePoolName(),
                            source: fetched.stdout,
                            format: "qcow2",
                        },
                        { ...child, dependsOn: [this.basePool, fetched], retainOnDelete: true, ignoreChanges: ["source"] },
                    ),
                ];
            }),
        );

        const n = args.network;
        if (n.kind === "nat") {
            this.network = new libvirt.Network(
                `${name}-network`,
                {
                    name: n.name,
                    // The bridge is named as the network, so that a host's firewall can trust it by name.
                    bridge: n.name,
                    mode: "nat",
                    addresses: [n.cidr],
                    autostart: true,
                    dhcp: { enabled: true },
                    dns: { enabled: true },
                },
                child,
            );
            this.nic = { networkId: this.network.id };
        } else if (n.kind === "network") {
            this.nic = { networkName: n.name };
        } else {
            this.nic = { bridge: n.bridge };
        }

        // Prepared layers: built once per base version and recipe, on the stack's network, one
        // after the other (each builder is a VM of its own on the host).
        this.layers = {};
        let previous: command.local.Command | undefined;
        for (const use of args.layers) {
            const layer: command.local.Command = preparedBaseCommand(
                `${name}-prepared-${layerName(use)}`,
                {
                    libvirtUri: args.libvirtUri,
                    pool: basePoolName(),
                    baseVolume: args.baseImages.find((b) => b.version === use.version)!.volume,
                    recipe: use.recipe,
                    network: builderNetwork(n),
                    timeout: args.buildTimeout,
                },
                {
                    parent: this,
                    dependsOn: [this.baseImages[use.version], ...(this.network ? [this.network] : []), ...(previous ? [previous] : [])],
                },
            );
            this.layers[`${use.version}/${recipeKey(use.recipe.features)}`] = layer;
            previous = layer;
        }

        this.registerOutputs({ baseImages: Object.fromEntries(Object.entries(this.baseImages).map(([v, vol]) => [v, vol.id])) });
    }

    /**
     * What a new system disk of a project on `version` with `features` is an overlay of: its
     * prepared layer when the stack prepares, else the base image itself.
     */
    systemDiskBase(version: string, features: Features): { id: pulumi.Output<string>; prepared: boolean } {
        const layer = this.layers[`${version}/${recipeKey(features)}`];
        return layer ? { id: layer.stdout, prepared: true } : { id: this.baseImages[version].id, prepared: false };
    }
}
