// Nested input types of the libvirt provider, written from its published schema
// (`types` in schema.json). Property names are the schema's camelCase names.
import * as pulumi from "@pulumi/pulumi";

/** A boot device list, e.g. `{ devs: ["hd", "network"] }`. */
export interface DomainBootDevice {
    /** Devices in boot order: `hd`, `cdrom`, `network`, `fd`. */
    devs?: pulumi.Input<pulumi.Input<string>[]>;
}

/** A serial or virtio console of a domain. */
export interface DomainConsole {
    /** Host address for a `tcp` console (default `127.0.0.1`). */
    sourceHost?: pulumi.Input<string>;
    /** Host device path for a `pty` console. */
    sourcePath?: pulumi.Input<string>;
    /** Host port for a `tcp` console (default `0`). */
    sourceService?: pulumi.Input<string>;
    /** Guest port number, as a string (`"0"` for the first). */
    targetPort: pulumi.Input<string>;
    /** `serial` or `virtio`. */
    targetType?: pulumi.Input<string>;
    /** `pty` or `tcp`. */
    type: pulumi.Input<string>;
}

/** The CPU model of a domain. */
export interface DomainCpu {
    /** e.g. `host-passthrough`, `host-model`. */
    mode?: pulumi.Input<string>;
}

/** A disk of a domain. Disks get targets vda, vdb, … in list order. */
export interface DomainDisk {
    /** Host block device to attach. */
    blockDevice?: pulumi.Input<string>;
    /** Host file to attach (raw, or a cdrom when it ends in `.iso`). */
    file?: pulumi.Input<string>;
    /** Attach on a SCSI bus instead of virtio. */
    scsi?: pulumi.Input<boolean>;
    /** URL of an image to attach (http/https). */
    url?: pulumi.Input<string>;
    /** ID (key) of a libvirt volume to attach. */
    volumeId?: pulumi.Input<string>;
    /** SCSI WWN; computed when unset. */
    wwn?: pulumi.Input<string>;
}

/** A host directory shared into the guest (9p). */
export interface DomainFilesystem {
    /** `mapped` (default), `passthrough` or `squash`. */
    accessmode?: pulumi.Input<string>;
    /** Read-only in the guest (default true). */
    readonly?: pulumi.Input<boolean>;
    /** Host directory. */
    source: pulumi.Input<string>;
    /** Mount tag in the guest. */
    target: pulumi.Input<string>;
}

/** The graphical console of a domain. */
export interface DomainGraphics {
    /** Pick a port automatically (default true). */
    autoport?: pulumi.Input<boolean>;
    /** Listen address (default `127.0.0.1`). */
    listenAddress?: pulumi.Input<string>;
    /** `none` (default), `address`. */
    listenType?: pulumi.Input<string>;
    /** `spice` (default) or `vnc`. */
    type?: pulumi.Input<string>;
    /** Websocket port for VNC. */
    websocket?: pulumi.Input<number>;
}

/** A network interface of a domain (always virtio). */
export interface DomainNetworkInterface {
    /** Addresses for the libvirt network's DHCP host entry; computed from leases. */
    addresses?: pulumi.Input<pulumi.Input<string>[]>;
    /** Host bridge to attach to. */
    bridge?: pulumi.Input<string>;
    /** Host name for the libvirt network's DHCP host entry (not the guest's hostname). */
    hostname?: pulumi.Input<string>;
    /** MAC address; random when unset. */
    mac?: pulumi.Input<string>;
    /** Host device for a macvtap interface. */
    macvtap?: pulumi.Input<string>;
    /** ID of a libvirt network to attach to. */
    networkId?: pulumi.Input<string>;
    /** Name of a libvirt network to attach to. */
    networkName?: pulumi.Input<string>;
    /** Host device for a passthrough interface. */
    passthrough?: pulumi.Input<string>;
    /** Host device for a VEPA interface. */
    vepa?: pulumi.Input<string>;
    /** Wait until the interface has an address before the create finishes. */
    waitForLease?: pulumi.Input<boolean>;
}

/** UEFI variable store of a domain. */
export interface DomainNvram {
    /** Path of the domain's NVRAM file. */
    file?: pulumi.Input<string>;
    /** Template the NVRAM file is copied from. */
    template?: pulumi.Input<string>;
}

/** An emulated TPM. */
export interface DomainTpm {
    /** Host TPM device for a passthrough backend. */
    backendDevicePath?: pulumi.Input<string>;
    /** Secret UUID encrypting an emulated TPM's state. */
    backendEncryptionSecret?: pulumi.Input<string>;
    /** Keep the emulated TPM's state when the domain is undefined. */
    backendPersistentState?: pulumi.Input<boolean>;
    /** `passthrough` or `emulator`. */
    backendType?: pulumi.Input<string>;
    /** TPM version of an emulated TPM, e.g. `2.0`. */
    backendVersion?: pulumi.Input<string>;
    /** e.g. `tpm-tis`, `tpm-crb`. */
    model?: pulumi.Input<string>;
}

/** The video device of a domain. */
export interface DomainVideo {
    /** e.g. `cirrus`, `virtio`. */
    type?: pulumi.Input<string>;
}

/** An XSLT applied to a generated XML definition. */
export interface Xslt {
    /** The XSLT stylesheet text. */
    xslt?: pulumi.Input<string>;
}
/** An XSLT applied to the domain XML at create time. */
export type DomainXml = Xslt;
/** An XSLT applied to the network XML. */
export type NetworkXml = Xslt;
/** An XSLT applied to the pool XML. */
export type PoolXml = Xslt;
/** An XSLT applied to the volume XML. */
export type VolumeXml = Xslt;

/** DHCP of a libvirt network. */
export interface NetworkDhcp {
    /** Serve DHCP (default true). */
    enabled?: pulumi.Input<boolean>;
}

/** DNS of a libvirt network. */
export interface NetworkDns {
    /** Serve DNS. */
    enabled?: pulumi.Input<boolean>;
    /** Upstream servers, optionally per domain. */
    forwarders?: pulumi.Input<pulumi.Input<NetworkDnsForwarder>[]>;
    /** Static host entries. */
    hosts?: pulumi.Input<pulumi.Input<NetworkDnsHost>[]>;
    /** Answer the network's own domain only locally. */
    localOnly?: pulumi.Input<boolean>;
    /** SRV records. */
    srvs?: pulumi.Input<pulumi.Input<NetworkDnsSrv>[]>;
}

/** An upstream DNS server. */
export interface NetworkDnsForwarder {
    /** Server address. */
    address?: pulumi.Input<string>;
    /** Only for this domain. */
    domain?: pulumi.Input<string>;
}

/** A static DNS host entry. */
export interface NetworkDnsHost {
    /** Host name. */
    hostname?: pulumi.Input<string>;
    /** Its address. */
    ip?: pulumi.Input<string>;
}

/** A DNS SRV record. */
export interface NetworkDnsSrv {
    /** Record domain. */
    domain?: pulumi.Input<string>;
    /** Port. */
    port?: pulumi.Input<string>;
    /** Priority. */
    priority?: pulumi.Input<string>;
    /** `tcp` or `udp`. */
    protocol?: pulumi.Input<string>;
    /** Service name. */
    service?: pulumi.Input<string>;
    /** Target host. */
    target?: pulumi.Input<string>;
    /** Weight. */
    weight?: pulumi.Input<string>;
}

/** dnsmasq options of a libvirt network. */
export interface NetworkDnsmasqOptions {
    /** The options. */
    options?: pulumi.Input<pulumi.Input<NetworkDnsmasqOptionsOption>[]>;
}

/** One dnsmasq option. */
export interface NetworkDnsmasqOptionsOption {
    /** Option name. */
    optionName?: pulumi.Input<string>;
    /** Option value. */
    optionValue?: pulumi.Input<string>;
}

/** A static route of a libvirt network. */
export interface NetworkRoute {
    /** Destination CIDR. */
    cidr: pulumi.Input<string>;
    /** Gateway address. */
    gateway: pulumi.Input<string>;
}

/** Source of a logical pool. */
export interface PoolSource {
    /** Physical devices of the volume group. */
    devices?: pulumi.Input<pulumi.Input<PoolSourceDevice>[]>;
    /** Volume group name. */
    name?: pulumi.Input<string>;
}

/** A device of a logical pool's source. */
export interface PoolSourceDevice {
    /** Device path. */
    path?: pulumi.Input<string>;
}

/** Target of a pool. */
export interface PoolTarget {
    /** Directory of a `dir` pool. */
    path?: pulumi.Input<string>;
}
