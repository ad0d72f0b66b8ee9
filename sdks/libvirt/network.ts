import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
import * as outputs from "./types/output";
import { hasPulumiType, propertyBag, withPluginVersion } from "./utilities";

/** Inputs of a libvirt network. */
export interface NetworkArgs {
    /** CIDRs the network serves, e.g. `["10.17.0.0/24"]`. */
    addresses?: pulumi.Input<pulumi.Input<string>[]>;
    /** Start the network when the host boots. */
    autostart?: pulumi.Input<boolean>;
    /** Host bridge name; generated when unset. */
    bridge?: pulumi.Input<string>;
    /** DHCP settings. */
    dhcp?: pulumi.Input<inputs.NetworkDhcp>;
    /** DNS settings. */
    dns?: pulumi.Input<inputs.NetworkDns>;
    /** dnsmasq options. */
    dnsmasqOptions?: pulumi.Input<inputs.NetworkDnsmasqOptions>;
    /** DNS domain of the network. */
    domain?: pulumi.Input<string>;
    /** `nat` (default), `none`, `route`, `open` or `bridge`. */
    mode?: pulumi.Input<string>;
    /** MTU of the bridge. */
    mtu?: pulumi.Input<number>;
    /** Network name; generated when unset. */
    name?: pulumi.Input<string>;
    /** Static routes. */
    routes?: pulumi.Input<pulumi.Input<inputs.NetworkRoute>[]>;
    /** XSLT applied to the network XML. */
    xml?: pulumi.Input<inputs.NetworkXml>;
}

const properties = [
    "addresses",
    "autostart",
    "bridge",
    "dhcp",
    "dns",
    "dnsmasqOptions",
    "domain",
    "mode",
    "mtu",
    "name",
    "routes",
    "xml",
] as const;

/** A libvirt network (`libvirt:index/network:Network`); its ID is the libvirt UUID. */
export class Network extends pulumi.CustomResource {
    /** @internal */
    public static readonly __pulumiType = "libvirt:index/network:Network";
    /** The property names this class passes to the engine. */
    public static readonly propertyNames: readonly string[] = properties;

    /** Reads an existing network's state by its UUID. */
    public static get(name: string, id: pulumi.Input<pulumi.ID>, state?: NetworkArgs, opts?: pulumi.CustomResourceOptions): Network {
        return new Network(name, state, { ...opts, id });
    }
    /** Whether `obj` is a Network, even one from another copy of this package. */
    public static isInstance(obj: unknown): obj is Network {
        return hasPulumiType(obj, Network.__pulumiType);
    }

    /** CIDRs. */
    declare public readonly addresses: pulumi.Output<string[] | undefined>;
    /** Autostart with the host. */
    declare public readonly autostart: pulumi.Output<boolean>;
    /** Host bridge name. */
    declare public readonly bridge: pulumi.Output<string>;
    /** DHCP settings. */
    declare public readonly dhcp: pulumi.Output<outputs.NetworkDhcp>;
    /** DNS settings. */
    declare public readonly dns: pulumi.Output<outputs.NetworkDns>;
    /** dnsmasq options. */
    declare public readonly dnsmasqOptions: pulumi.Output<outputs.NetworkDnsmasqOptions | undefined>;
    /** DNS domain. */
    declare public readonly domain: pulumi.Output<string | undefined>;
    /** Forwarding mode. */
    declare public readonly mode: pulumi.Output<string | undefined>;
    /** MTU. */
    declare public readonly mtu: pulumi.Output<number | undefined>;
    /** Network name. */
    declare public readonly name: pulumi.Output<string>;
    /** Static routes. */
    declare public readonly routes: pulumi.Output<outputs.NetworkRoute[] | undefined>;
    /** XSLT applied to the network XML. */
    declare public readonly xml: pulumi.Output<outputs.NetworkXml | undefined>;

    constructor(name: string, args?: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
        super(Network.__pulumiType, name, propertyBag(properties, args), withPluginVersion(opts));
    }
}
