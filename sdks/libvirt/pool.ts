import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
import * as outputs from "./types/output";
import { hasPulumiType, propertyBag, requireInputs, withPluginVersion } from "./utilities";

/** Inputs of a storage pool. Every input but `target` replaces the pool. */
export interface PoolArgs {
    /** Computed by libvirt; do not set. */
    allocation?: pulumi.Input<number>;
    /** Computed by libvirt; do not set. */
    available?: pulumi.Input<number>;
    /** Computed by libvirt; do not set. */
    capacity?: pulumi.Input<number>;
    /** Pool name; generated when unset. */
    name?: pulumi.Input<string>;
    /** @deprecated use target.path instead */
    path?: pulumi.Input<string>;
    /** Source of a `logical` pool. */
    source?: pulumi.Input<inputs.PoolSource>;
    /** Where a `dir` pool keeps its volumes. */
    target?: pulumi.Input<inputs.PoolTarget>;
    /** `dir` or `logical` (the only kinds provider v0.8.1 accepts). */
    type: pulumi.Input<string>;
    /** XSLT applied to the pool XML. */
    xml?: pulumi.Input<inputs.PoolXml>;
}

const properties = ["allocation", "available", "capacity", "name", "path", "source", "target", "type", "xml"] as const;

/** A libvirt storage pool (`libvirt:index/pool:Pool`). Creating it builds, starts and autostarts it. */
export class Pool extends pulumi.CustomResource {
    /** @internal */
    public static readonly __pulumiType = "libvirt:index/pool:Pool";
    /** The property names this class passes to the engine. */
    public static readonly propertyNames: readonly string[] = properties;

    /** Reads an existing pool's state by its UUID. */
    public static get(name: string, id: pulumi.Input<pulumi.ID>, state?: Partial<PoolArgs>, opts?: pulumi.CustomResourceOptions): Pool {
        return new Pool(name, state as PoolArgs, { ...opts, id });
    }
    /** Whether `obj` is a Pool, even one from another copy of this package. */
    public static isInstance(obj: unknown): obj is Pool {
        return hasPulumiType(obj, Pool.__pulumiType);
    }

    /** Bytes allocated. */
    declare public readonly allocation: pulumi.Output<number>;
    /** Bytes available. */
    declare public readonly available: pulumi.Output<number>;
    /** Capacity in bytes. */
    declare public readonly capacity: pulumi.Output<number>;
    /** Pool name. */
    declare public readonly name: pulumi.Output<string>;
    /** @deprecated use target.path instead */
    declare public readonly path: pulumi.Output<string | undefined>;
    /** Source of a logical pool. */
    declare public readonly source: pulumi.Output<outputs.PoolSource | undefined>;
    /** Target directory. */
    declare public readonly target: pulumi.Output<outputs.PoolTarget>;
    /** Pool type. */
    declare public readonly type: pulumi.Output<string>;
    /** XSLT applied to the pool XML. */
    declare public readonly xml: pulumi.Output<outputs.PoolXml | undefined>;

    constructor(name: string, args: PoolArgs, opts?: pulumi.CustomResourceOptions) {
        requireInputs(Pool.__pulumiType, ["type"], args, opts);
        super(Pool.__pulumiType, name, propertyBag(properties, args), withPluginVersion(opts));
    }
}
