// The sections of a stack's config that are objects or lists of their own: base images, the
// network, the stack's Tailscale settings and the Tailscale provider's config that the program
// passes on to host commands. Each reads through a Reader and reports one problem per bad value.
import { createHash } from "node:crypto";
import { Raw, Reader } from "./configReader";
import {
    BASE_IMAGE_KEYS,
    BaseImage,
    DEFAULTS,
    NETWORK_DEFAULTS,
    NETWORK_KEYS,
    NetworkSettings,
    TAILSCALE_API_DEFAULTS,
    TAILSCALE_API_KEYS,
    TAILSCALE_API_OPTIONS,
    TAILSCALE_DEFAULTS,
    TAILSCALE_KEYS,
    TailscaleApiSettings,
    TailscaleSettings,
} from "./configSchema";
import type { OptionDecl } from "./configOptions";
import {
    apiBaseUrlProblem,
    apiTailnetProblem,
    cidrProblem,
    credentialProblem,
    debianSumsUrl,
    imageLocationProblem,
    interfaceNameProblem,
    sha512Problem,
    show,
    tailnetProblem,
} from "./validate";

const VERSION = /^[a-z0-9][a-z0-9.-]{0,31}$/;
const TAG = /^tag:[a-z][a-z0-9-]*$/;

/** The base image versions: `baseImages`, or the one `baseImage` (which names its version by a hash of its URL). */
export function parseBaseImages(r: Reader, single: unknown, list: unknown, singleSha512?: unknown): BaseImage[] {
    const image = (version: string, url: string, sha512?: string): BaseImage => {
        const sumsUrl = sha512 ? undefined : debianSumsUrl(url);
        return {
            version,
            url,
            volume: `debian-testing-${version}.qcow2`,
            ...(sha512 ? { sha512: sha512.toLowerCase() } : {}),
            ...(sumsUrl ? { sumsUrl } : {}),
        };
    };
    const checksum = (v: unknown, key: string): string | undefined => {
        const sha512 = r.string(v, key);
        const problem = sha512 === undefined ? undefined : sha512Problem(sha512);
        if (problem) r.problem(key, `${problem}, got ${show(sha512)}`);
        return problem ? undefined : sha512;
    };
    const location = (v: unknown, key: string, fallback: string | undefined, sha512: string | undefined): string | undefined => {
        const url = r.string(v, key, fallback);
        const problem = url === undefined ? undefined : imageLocationProblem(url, sha512);
        if (problem) r.problem(key, `${problem}, got ${show(url)}`);
        return problem ? undefined : url;
    };
    if (list === undefined || list === null) {
        const sha512 = checksum(singleSha512, "baseImageSha512");
        const url = location(single, "baseImage", DEFAULTS.baseImage, sha512);
        return url === undefined ? [] : [image(`url-${createHash("sha256").update(url).digest("hex").slice(0, 8)}`, url, sha512)];
    }
    if (single !== undefined && single !== null)
        r.problem("baseImage", "is set together with baseImages; list every image in baseImages instead");
    if (singleSha512 !== undefined && singleSha512 !== null)
        r.problem("baseImageSha512", "goes with baseImage; give each of baseImages its own sha512");
    const entries = r.array(list, "baseImages");
    if (entries?.length === 0) r.problem("baseImages", "must list at least one {version, url}");
    const images: BaseImage[] = [];
    entries?.forEach((e, i) => {
        const at = `baseImages[${i}]`;
        const o = r.object(e, at);
        if (!o) return;
        r.unknownKeys(o, BASE_IMAGE_KEYS, at);
        let version = r.string(o.version, `${at}.version`, undefined, "2026-11");
        if (version === undefined) {
            if (o.version === undefined || o.version === null) r.problem(`${at}.version`, 'is required, e.g. "2026-11"');
        } else if (!VERSION.test(version)) {
            r.problem(`${at}.version`, `must be lowercase letters, digits, dots and hyphens (at most 32), got ${show(version)}`);
            version = undefined;
        } else if (/-prepared-[0-9a-f]{12}$/.test(version)) {
            // Its image would be named like a prepared layer of another version, which base prune
            // and base list would take it for.
            r.problem(`${at}.version`, `must not end like a prepared layer's name (-prepared-<12 hex digits>), got ${show(version)}`);
            version = undefined;
        } else if (images.some((b) => b.version === version)) {
            r.problem(`${at}.version`, `${show(version)} is listed twice`);
            version = undefined;
        }
        const sha512 = checksum(o.sha512, `${at}.sha512`);
        const url = location(o.url, `${at}.url`, undefined, sha512);
        if (o.url === undefined || o.url === null) r.problem(`${at}.url`, "is required");
        if (version && url) images.push(image(version, url, sha512));
    });
    return images;
}

/** Reports a project's `base` (read as a string) that is not one of the base image versions. */
export function baseProblem(r: Reader, base: string | undefined, key: string, images: BaseImage[]): void {
    if (base !== undefined && images.length > 0 && !images.some((b) => b.version === base)) {
        r.problem(key, `${show(base)} is not a base image version; known: ${images.map((b) => b.version).join(", ")}`);
    }
}

/** Where NICs attach: the program's NAT network (room for `guests` VMs), an existing network or a host bridge. */
export function parseNetwork(r: Reader, v: unknown, guests: number): NetworkSettings {
    const n = r.object(v, "network") ?? {};
    r.unknownKeys(n, NETWORK_KEYS, "network");
    const bridge = r.string(n.bridge, "network.bridge");
    const cidr = r.string(n.cidr, "network.cidr");
    const name = r.string(n.name, "network.name");
    if (bridge !== undefined && (cidr !== undefined || name !== undefined)) {
        r.problem("network", "sets bridge together with name or cidr; a bridge is used as it is, so give only one");
    }
    const bridgeProblem = bridge === undefined ? undefined : interfaceNameProblem(bridge);
    if (bridgeProblem) r.problem("network.bridge", `${show(bridge)} ${bridgeProblem}`);
    const cidrText = cidr === undefined ? undefined : cidrProblem(cidr, guests);
    if (cidrText) r.problem("network.cidr", `${show(cidr)} ${cidrText}`);
    if (name !== undefined && cidr !== undefined) {
        const problem = interfaceNameProblem(name);
        if (problem)
            r.problem(
                "network.name",
                `names the program's own NAT network and its bridge, so it must be a Linux interface name (at most 15 characters): ${show(name)} ${problem}`,
            );
    } else if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
        r.problem("network.name", `is not a libvirt network name: ${show(name)}`);
    }
    if (bridge !== undefined) return { kind: "bridge", bridge };
    if (name !== undefined && cidr === undefined) return { kind: "network", name };
    if (cidr === undefined && n.cidr === undefined) {
        const problem = cidrProblem(NETWORK_DEFAULTS.cidr, guests);
        if (problem) r.problem("network.cidr", `is unset, and the default ${show(NETWORK_DEFAULTS.cidr)} ${problem}`);
    }
    return { kind: "nat", name: name ?? NETWORK_DEFAULTS.name, cidr: cidr ?? NETWORK_DEFAULTS.cidr };
}

/** The stack's Tailscale settings; `known` is false when `enabled` could not be read (checks that depend on it are skipped). */
export function parseTailscale(r: Reader, v: unknown): { settings: TailscaleSettings; known: boolean } {
    const t = r.object(v, "tailscale");
    if (!t && v !== undefined && v !== null) return { settings: { enabled: false, tags: [] }, known: false };
    const o = t ?? {};
    r.unknownKeys(o, TAILSCALE_KEYS, "tailscale");
    const enabled = r.boolean(o.enabled, "tailscale.enabled", true);
    let tailnet = r.string(o.tailnet, "tailscale.tailnet");
    const problem = tailnet === undefined ? undefined : tailnetProblem(tailnet);
    if (problem) {
        r.problem("tailscale.tailnet", `${problem}, got ${show(tailnet)}`);
        tailnet = undefined;
    }
    if (enabled === true && o.tailnet === undefined) {
        r.problem(
            "tailscale.tailnet",
            "is required while tailscale.enabled is true (the MagicDNS suffix, e.g. bat-boa.ts.net); or set tailscale.enabled: false",
        );
    }
    const tags: string[] = [];
    const list = o.tags === undefined ? [...TAILSCALE_DEFAULTS.tags] : r.array(o.tags, "tailscale.tags");
    list?.forEach((tag, i) => {
        if (typeof tag === "string" && TAG.test(tag)) tags.push(tag);
        else r.problem(`tailscale.tags[${i}]`, `must be a tag like tag:project-vm (lowercase letters, digits, hyphens), got ${show(tag)}`);
    });
    if (enabled === true && list && list.length === 0) {
        r.problem(
            "tailscale.tags",
            "must name at least one tag: the VMs' auth keys are tagged so they belong to the tailnet, not to a person",
        );
    }
    return { settings: { enabled: enabled ?? false, tailnet, tags }, known: enabled !== undefined };
}

/**
 * The Tailscale provider's config (`tailscale:<key>`, without the namespace) that host commands
 * are given: credentials must be plain tokens (they go into curl's config syntax and a form
 * body) and are never shown; the tailnet and the API URL are allow-listed.
 */
export function parseTailscaleApi(r: Reader, provider: Raw): TailscaleApiSettings {
    const key = (k: string) => `tailscale:${k}`;
    let oauthClientId: string | undefined;
    for (const k of TAILSCALE_API_KEYS.filter((k) => (TAILSCALE_API_OPTIONS[k] as OptionDecl).secret)) {
        const v = provider[k];
        if (v === undefined || v === null) continue;
        const problem = typeof v === "string" ? credentialProblem(v) : credentialProblem("");
        if (problem) r.problemAt(key(k), problem);
        else if (k === "oauthClientId") oauthClientId = v as string;
    }
    const plain = (k: "tailnet" | "baseUrl", fallback: string, check: (s: string) => string | undefined): string => {
        const v = provider[k];
        if (v === undefined || v === null) return fallback;
        const problem = typeof v === "string" ? check(v) : "must be a string";
        if (problem) r.problemAt(key(k), `${problem}, got ${show(v)}`);
        return problem ? fallback : (v as string);
    };
    const tailnet = plain("tailnet", TAILSCALE_API_DEFAULTS.tailnet, apiTailnetProblem);
    const baseUrl = plain("baseUrl", TAILSCALE_API_DEFAULTS.baseUrl, apiBaseUrlProblem);
    return oauthClientId === undefined ? { tailnet, baseUrl } : { oauthClientId, tailnet, baseUrl };
}
