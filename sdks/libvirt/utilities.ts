// Shared plumbing of the hand-written libvirt binding: what every generated Pulumi SDK class does
// before calling `super`, written once.
import * as pulumi from "@pulumi/pulumi";

/** The provider plugin version this binding speaks to: pulumi-libvirt v0.5.4 (the final release). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the generated SDKs' own line: this file stays swappable
export const pluginVersion: string = (require("./package.json").version as string).replace(/^v/, "");

/**
 * Resource options every libvirt resource gets: the plugin version, so that a real `pulumi up`
 * installs `pulumi-resource-libvirt` v0.5.4 by itself. The caller's options win.
 */
export function withPluginVersion<T extends pulumi.ResourceOptions>(opts: T | undefined): T {
    return pulumi.mergeOptions({ version: pluginVersion } as T, opts) as T;
}

/**
 * The property bag handed to the engine. Every property the class exposes as an output must be a
 * key here (the Node runtime only creates outputs for keys it is given), so absent inputs are
 * passed as `undefined`. When `opts.id` is set (a `get`), `state` is used instead of `args`.
 */
export function propertyBag(names: readonly string[], values: object | undefined): Record<string, unknown> {
    const given = (values ?? {}) as Record<string, unknown>;
    const bag: Record<string, unknown> = {};
    for (const n of names) bag[n] = given[n];
    return bag;
}

/** Throws the generated SDKs' error for a missing required input (not when reading by id). */
export function requireInputs(
    token: string,
    names: readonly string[],
    args: object | undefined,
    opts: pulumi.CustomResourceOptions | undefined,
): void {
    if (opts?.id || opts?.urn) return;
    const given = (args ?? {}) as Record<string, unknown>;
    for (const n of names) {
        if (given[n] === undefined) throw new Error(`Missing required property '${n}' of ${token}`);
    }
}

/** Whether `obj` is a resource of type `token` (also across copies of this package). */
export function hasPulumiType(obj: unknown, token: string): boolean {
    return (obj as { __pulumiType?: string } | null | undefined)?.__pulumiType === token;
}
