import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
import * as outputs from "./types/output";
import { hasPulumiType, propertyBag, withPluginVersion } from "./utilities";

/** Inputs of a storage volume. Every input replaces the volume: there is no in-place update. */
export interface VolumeArgs {
    /** Key (path) of the volume this one is a copy-on-write overlay of. */
    baseVolumeId?: pulumi.Input<string>;
    /** Name of the backing volume (instead of `baseVolumeId`). */
    baseVolumeName?: pulumi.Input<string>;
    /** Pool of `baseVolumeName` (default: `pool`). */
    baseVolumePool?: pulumi.Input<string>;
    /** `qcow2` (default) or `raw`. */
    format?: pulumi.Input<string>;
    /** Volume (file) name in the pool; generated when unset. */
    name?: pulumi.Input<string>;
    /** Pool the volume lives in (default `default`). */
    pool?: pulumi.Input<string>;
    /** Capacity in bytes; with a base volume at least the base's capacity. */
    size?: pulumi.Input<number>;
    /** Image to upload: an http(s) URL or a path on the machine running Pulumi. No checksum is verified. */
    source?: pulumi.Input<string>;
    /** XSLT applied to the volume XML. */
    xml?: pulumi.Input<inputs.VolumeXml>;
}

const properties = ["baseVolumeId", "baseVolumeName", "baseVolumePool", "format", "name", "pool", "size", "source", "xml"] as const;

/** A libvirt storage volume (`libvirt:index/volume:Volume`); its ID is its key, the file path in a dir pool. */
export class Volume extends pulumi.CustomResource {
    /** @internal */
    public static readonly __pulumiType = "libvirt:index/volume:Volume";
    /** The property names this class passes to the engine. */
    public static readonly propertyNames: readonly string[] = properties;

    /** Reads an existing volume's state by its key. */
    public static get(name: string, id: pulumi.Input<pulumi.ID>, state?: VolumeArgs, opts?: pulumi.CustomResourceOptions): Volume {
        return new Volume(name, state, { ...opts, id });
    }
    /** Whether `obj` is a Volume, even one from another copy of this package. */
    public static isInstance(obj: unknown): obj is Volume {
        return hasPulumiType(obj, Volume.__pulumiType);
    }

    /** Key of the backing volume. */
    declare public readonly baseVolumeId: pulumi.Output<string | undefined>;
    /** Name of the backing volume. */
    declare public readonly baseVolumeName: pulumi.Output<string | undefined>;
    /** Pool of the backing volume. */
    declare public readonly baseVolumePool: pulumi.Output<string | undefined>;
    /** Image format. */
    declare public readonly format: pulumi.Output<string>;
    /** Volume name. */
    declare public readonly name: pulumi.Output<string>;
    /** Pool name. */
    declare public readonly pool: pulumi.Output<string | undefined>;
    /** Capacity in bytes. */
    declare public readonly size: pulumi.Output<number>;
    /** Image the volume was uploaded from. */
    declare public readonly source: pulumi.Output<string | undefined>;
    /** XSLT applied to the volume XML. */
    declare public readonly xml: pulumi.Output<outputs.VolumeXml | undefined>;

    constructor(name: string, args?: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
        super(Volume.__pulumiType, name, propertyBag(properties, args), withPluginVersion(opts));
    }
}
