import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
import * as outputs from "./types/output";
import { hasPulumiType, propertyBag, withPluginVersion } from "./utilities";

/**
 * Inputs of a domain (VM). Provider v0.8.1 replaces the domain, with a hard power-off, when any of
 * name, description, memory, vcpu, cpu, disks, firmware, type, nvram, graphics, consoles,
 * filesystems, cmdlines, tpm, xml, coreosIgnition or fwCfgName changes. `running: false` never
 * stops a running domain, and any update starts a stopped one.
 */
export interface DomainArgs {
    /** CPU architecture; computed. */
    arch?: pulumi.Input<string>;
    /** Start the domain when the host boots. */
    autostart?: pulumi.Input<boolean>;
    /** Boot device order. */
    bootDevices?: pulumi.Input<pulumi.Input<inputs.DomainBootDevice>[]>;
    /** ID of a CloudInitDisk; swapped live on change (the domain is not replaced). */
    cloudinit?: pulumi.Input<string>;
    /** Kernel command line entries for direct kernel boot. */
    cmdlines?: pulumi.Input<pulumi.Input<{ [key: string]: pulumi.Input<string> }>[]>;
    /** Consoles. */
    consoles?: pulumi.Input<pulumi.Input<inputs.DomainConsole>[]>;
    /** Ignition volume ID (CoreOS). */
    coreosIgnition?: pulumi.Input<string>;
    /** CPU model. */
    cpu?: pulumi.Input<inputs.DomainCpu>;
    /** Free-text description. */
    description?: pulumi.Input<string>;
    /** Disks, attached as vda, vdb, … in this order. */
    disks?: pulumi.Input<pulumi.Input<inputs.DomainDisk>[]>;
    /** Emulator binary; computed. */
    emulator?: pulumi.Input<string>;
    /** Shared host directories. */
    filesystems?: pulumi.Input<pulumi.Input<inputs.DomainFilesystem>[]>;
    /** UEFI firmware (OVMF code) path. */
    firmware?: pulumi.Input<string>;
    /** fw_cfg name for Ignition. */
    fwCfgName?: pulumi.Input<string>;
    /** Graphical console (default spice, listening nowhere). */
    graphics?: pulumi.Input<inputs.DomainGraphics>;
    /** initrd for direct kernel boot. */
    initrd?: pulumi.Input<string>;
    /** Kernel for direct kernel boot. */
    kernel?: pulumi.Input<string>;
    /** Machine type; computed (`pc` on x86_64). q35 has no IDE bus for the cloud-init CD. */
    machine?: pulumi.Input<string>;
    /** Memory in MiB (default 512). */
    memory?: pulumi.Input<number>;
    /** Metadata XML. */
    metadata?: pulumi.Input<string>;
    /** Domain name; generated when unset. */
    name?: pulumi.Input<string>;
    /** Network interfaces (virtio). */
    networkInterfaces?: pulumi.Input<pulumi.Input<inputs.DomainNetworkInterface>[]>;
    /** UEFI variable store. */
    nvram?: pulumi.Input<inputs.DomainNvram>;
    /** Look addresses up through the QEMU guest agent. */
    qemuAgent?: pulumi.Input<boolean>;
    /** Desired power state (default true); see the caveat above. */
    running?: pulumi.Input<boolean>;
    /** Emulated TPM. */
    tpm?: pulumi.Input<inputs.DomainTpm>;
    /** Domain type: `kvm` (default) or `qemu`. */
    type?: pulumi.Input<string>;
    /** Virtual CPUs (default 1). */
    vcpu?: pulumi.Input<number>;
    /** Video device. */
    video?: pulumi.Input<inputs.DomainVideo>;
    /** XSLT applied to the domain XML at create time. */
    xml?: pulumi.Input<inputs.DomainXml>;
}

const properties = [
    "arch",
    "autostart",
    "bootDevices",
    "cloudinit",
    "cmdlines",
    "consoles",
    "coreosIgnition",
    "cpu",
    "description",
    "disks",
    "emulator",
    "filesystems",
    "firmware",
    "fwCfgName",
    "graphics",
    "initrd",
    "kernel",
    "machine",
    "memory",
    "metadata",
    "name",
    "networkInterfaces",
    "nvram",
    "qemuAgent",
    "running",
    "tpm",
    "type",
    "vcpu",
    "video",
    "xml",
] as const;

/** A libvirt domain (`libvirt:index/domain:Domain`); its ID is the libvirt UUID. */
export class Domain extends pulumi.CustomResource {
    /** @internal */
    public static readonly __pulumiType = "libvirt:index/domain:Domain";
    /** The property names this class passes to the engine. */
    public static readonly propertyNames: readonly string[] = properties;

    /** Reads an existing domain's state by its UUID. */
    public static get(name: string, id: pulumi.Input<pulumi.ID>, state?: DomainArgs, opts?: pulumi.CustomResourceOptions): Domain {
        return new Domain(name, state, { ...opts, id });
    }
    /** Whether `obj` is a Domain, even one from another copy of this package. */
    public static isInstance(obj: unknown): obj is Domain {
        return hasPulumiType(obj, Domain.__pulumiType);
    }

    /** CPU architecture. */
    declare public readonly arch: pulumi.Output<string>;
    /** Autostart with the host. */
    declare public readonly autostart: pulumi.Output<boolean>;
    /** Boot device order. */
    declare public readonly bootDevices: pulumi.Output<outputs.DomainBootDevice[] | undefined>;
    /** Attached CloudInitDisk ID. */
    declare public readonly cloudinit: pulumi.Output<string | undefined>;
    /** Kernel command line entries. */
    declare public readonly cmdlines: pulumi.Output<{ [key: string]: string }[] | undefined>;
    /** Consoles. */
    declare public readonly consoles: pulumi.Output<outputs.DomainConsole[] | undefined>;
    /** Ignition volume ID. */
    declare public readonly coreosIgnition: pulumi.Output<string | undefined>;
    /** CPU model. */
    declare public readonly cpu: pulumi.Output<outputs.DomainCpu>;
    /** Description. */
    declare public readonly description: pulumi.Output<string | undefined>;
    /** Disks in target order. */
    declare public readonly disks: pulumi.Output<outputs.DomainDisk[] | undefined>;
    /** Emulator binary. */
    declare public readonly emulator: pulumi.Output<string>;
    /** Shared host directories. */
    declare public readonly filesystems: pulumi.Output<outputs.DomainFilesystem[] | undefined>;
    /** UEFI firmware path. */
    declare public readonly firmware: pulumi.Output<string | undefined>;
    /** fw_cfg name. */
    declare public readonly fwCfgName: pulumi.Output<string | undefined>;
    /** Graphical console. */
    declare public readonly graphics: pulumi.Output<outputs.DomainGraphics | undefined>;
    /** initrd path. */
    declare public readonly initrd: pulumi.Output<string | undefined>;
    /** Kernel path. */
    declare public readonly kernel: pulumi.Output<string | undefined>;
    /** Machine type. */
    declare public readonly machine: pulumi.Output<string>;
    /** Memory in MiB. */
    declare public readonly memory: pulumi.Output<number | undefined>;
    /** Metadata XML. */
    declare public readonly metadata: pulumi.Output<string | undefined>;
    /** Domain name. */
    declare public readonly name: pulumi.Output<string>;
    /** Network interfaces, with the addresses the provider found. */
    declare public readonly networkInterfaces: pulumi.Output<outputs.DomainNetworkInterface[] | undefined>;
    /** UEFI variable store. */
    declare public readonly nvram: pulumi.Output<outputs.DomainNvram>;
    /** Guest-agent address lookup. */
    declare public readonly qemuAgent: pulumi.Output<boolean | undefined>;
    /** Power state as last read. */
    declare public readonly running: pulumi.Output<boolean | undefined>;
    /** Emulated TPM. */
    declare public readonly tpm: pulumi.Output<outputs.DomainTpm | undefined>;
    /** Domain type. */
    declare public readonly type: pulumi.Output<string | undefined>;
    /** Virtual CPUs. */
    declare public readonly vcpu: pulumi.Output<number | undefined>;
    /** Video device. */
    declare public readonly video: pulumi.Output<outputs.DomainVideo | undefined>;
    /** XSLT applied at create time. */
    declare public readonly xml: pulumi.Output<outputs.DomainXml | undefined>;

    constructor(name: string, args?: DomainArgs, opts?: pulumi.CustomResourceOptions) {
        super(Domain.__pulumiType, name, propertyBag(properties, args), withPluginVersion(opts));
    }
}
