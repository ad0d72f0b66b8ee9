import * as pulumi from "@pulumi/pulumi";
import { hasPulumiType, propertyBag, withPluginVersion } from "./utilities";

/**
 * Inputs of a cloud-init NoCloud disk. Every input replaces the disk. The ISO (label `cidata`) is
 * built with `mkisofs` on the machine running Pulumi, then uploaded raw into the pool.
 */
export interface CloudInitDiskArgs {
    /** Content of the `meta-data` file (instance-id, local-hostname). */
    metaData?: pulumi.Input<string>;
    /** Volume name in the pool; generated when unset. */
    name?: pulumi.Input<string>;
    /** Content of the `network-config` file. */
    networkConfig?: pulumi.Input<string>;
    /** Pool the ISO is uploaded to (default `default`). */
    pool?: pulumi.Input<string>;
    /** Content of the `user-data` file. The provider does not mark it secret: wrap it in `pulumi.secret`. */
    userData?: pulumi.Input<string>;
}

const properties = ["metaData", "name", "networkConfig", "pool", "userData"] as const;

/** A cloud-init ISO volume (`libvirt:index/cloudInitDisk:CloudInitDisk`); its ID is `<volume key>;<uuid>`. */
export class CloudInitDisk extends pulumi.CustomResource {
    /** @internal */
    public static readonly __pulumiType = "libvirt:index/cloudInitDisk:CloudInitDisk";
    /** The property names this class passes to the engine. */
    public static readonly propertyNames: readonly string[] = properties;

    /** Reads an existing cloud-init disk's state by its ID. */
    public static get(
        name: string,
        id: pulumi.Input<pulumi.ID>,
        state?: CloudInitDiskArgs,
        opts?: pulumi.CustomResourceOptions,
    ): CloudInitDisk {
        return new CloudInitDisk(name, state, { ...opts, id });
    }
    /** Whether `obj` is a CloudInitDisk, even one from another copy of this package. */
    public static isInstance(obj: unknown): obj is CloudInitDisk {
        return hasPulumiType(obj, CloudInitDisk.__pulumiType);
    }

    /** meta-data content. */
    declare public readonly metaData: pulumi.Output<string | undefined>;
    /** Volume name. */
    declare public readonly name: pulumi.Output<string>;
    /** network-config content. */
    declare public readonly networkConfig: pulumi.Output<string | undefined>;
    /** Pool name. */
    declare public readonly pool: pulumi.Output<string | undefined>;
    /** user-data content. */
    declare public readonly userData: pulumi.Output<string | undefined>;

    constructor(name: string, args?: CloudInitDiskArgs, opts?: pulumi.CustomResourceOptions) {
        super(CloudInitDisk.__pulumiType, name, propertyBag(properties, args), withPluginVersion(opts));
    }
}
