import * as pulumi from "@pulumi/pulumi";
import { hasPulumiType, withPluginVersion } from "./utilities";

/** Inputs of the libvirt provider. */
export interface ProviderArgs {
    /** libvirt connection URI, e.g. `qemu:///system` or `qemu+ssh://admin@storage/system`. Defaults to `LIBVIRT_DEFAULT_URI`. */
    uri?: pulumi.Input<string>;
}

/** An explicit libvirt provider (`pulumi:providers:libvirt`). */
export class Provider extends pulumi.ProviderResource {
    /** @internal */
    public static readonly __pulumiType = "libvirt";

    /** Whether `obj` is a libvirt Provider, even one from another copy of this package. */
    public static isInstance(obj: unknown): obj is Provider {
        return hasPulumiType(obj, `pulumi:providers:${Provider.__pulumiType}`);
    }

    /** The libvirt connection URI. */
    declare public readonly uri: pulumi.Output<string | undefined>;

    constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions) {
        const uri = args?.uri ?? process.env["LIBVIRT_DEFAULT_URI"];
        super(Provider.__pulumiType, name, { uri }, withPluginVersion(opts));
    }
}
