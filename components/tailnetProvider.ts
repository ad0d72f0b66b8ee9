// The Tailscale provider, explicit and registered before any VM. With the engine's default
// provider, a system disk's replacement failed (real engine 3.274, base move): the replaceWith
// cascade deleted the old tailnet key before the program had registered any tailscale resource, so
// the default provider was not loaded yet ("unknown provider …default_0_27_1"). An explicit one,
// which the system disks depend on, is loaded before any cascade.
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import { version as sdkVersion } from "@pulumi/tailscale/package.json";

/**
 * The name the engine gives the default provider of a package at a version (`default_0_27_1`):
 * `default`, then major, minor, patch, pre-release and build parts, each after an underscore.
 */
export function defaultProviderName(version: string): string {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
    if (!m) throw new Error(`not a semantic version: ${JSON.stringify(version)}`);
    const pre = m[4] ? m[4].split(".") : [];
    const build = m[5] ? m[5].split(".") : [];
    return ["default", m[1], m[2], m[3], ...pre, ...build].join("_");
}

/**
 * The stack's Tailscale provider, given exactly the `tailscale:*` config the engine's default
 * provider read (credentials as secrets; keys not set stay unset, so its inputs are the same). It
 * takes over the state of the default provider that stacks made before it used (an alias), so no
 * tailnet key is touched by the change.
 */
export function tailnetProvider(name: string): tailscale.Provider {
    const config = new pulumi.Config("tailscale");
    return new tailscale.Provider(
        name,
        {
            apiKey: config.getSecret("apiKey"),
            oauthClientId: config.get("oauthClientId"),
            oauthClientSecret: config.getSecret("oauthClientSecret"),
            identityToken: config.getSecret("identityToken"),
            scopes: config.getObject<string[]>("scopes"),
            tailnet: config.get("tailnet"),
            baseUrl: config.get("baseUrl"),
            userAgent: config.get("userAgent"),
        },
        {
            aliases: [pulumi.createUrn(defaultProviderName(sdkVersion), "pulumi:providers:tailscale")],
        },
    );
}
