// The prepared layer of a base image version: the shared part of the provisioning (packages,
// Docker, the guest agent, Nix, Tailscale's package, Claude Code: whatever is not one project's or
// one machine's) done once on the host by a builder VM, sealed, and kept beside the base image as
// `<base>-prepared-<recipe hash>.qcow2`. New system disks are overlays of it, so a project's first
// boot only does what is its own. The recipe is the builder's user-data: a change of it (or of the
// scripts it carries) is a new hash and a new layer; VMs stay on theirs until moved.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { aptConfig, CLOUD_INIT_DIR, installSteps, packagesFor, readYaml, runcmdOf, scriptFiles, toYaml } from "./cloudInit";
import { Features } from "./config";
import { builderShapeEnv } from "./domainShape";
import { hostCommand } from "./hostCommands";
import { FEATURE_KEYS, LIMITS } from "./configSchema";
import { isPreparedOf, preparedVolumeName } from "./names";

/** The prepared layer's virtual size: the smallest system disk, which every system disk can hold. */
export const PREPARED_BYTES = LIMITS.systemDiskSize.min;

/** The guest script that seals a builder (run by the host through the guest agent). */
export const SEAL_SCRIPT = "seal.sh";

/** What a prepared layer holds beyond the base image: the software of the features it is for. */
export interface PrepareRecipe {
    /** Which optional software the layer carries (a project with other features gets another layer). */
    features: Features;
    /** Whether the builder's apt checks Release files' Valid-Until. */
    aptCheckValidUntil: boolean;
}

/** The builder's NoCloud files and the recipe's identity. */
export interface RenderedRecipe {
    /** `#cloud-config` of the builder: nothing secret, nothing of a stack or a project. */
    userData: string;
    /** meta-data: the builder's instance-id and hostname. */
    metaData: string;
    /** The builder's instance-id, `project-vms-builder-<hash>`. */
    instanceId: string;
    /** 12 hex digits of the SHA-256 of the user-data: the layer's name part. */
    hash: string;
}

/** The features that decide a layer's content, as a key (`nix+tailscale+claudeCode`, or `none`). */
export function recipeKey(features: Features): string {
    const on = FEATURE_KEYS.filter((f) => features[f]);
    return on.length === 0 ? "none" : on.join("+");
}

/** Renders the builder's user-data for `recipe` from cloud-init/prepare.yaml. Pure. */
export function renderRecipe(recipe: PrepareRecipe, dir = CLOUD_INIT_DIR): RenderedRecipe {
    const config = readYaml<Record<string, unknown> & { write_files: Array<Record<string, string>>; runcmd: unknown[] }>(
        dir,
        "prepare.yaml",
    );
    const steps = installSteps(recipe.features);
    config.packages = packagesFor(steps, dir);
    config.write_files = [...config.write_files, ...scriptFiles([...steps, { script: SEAL_SCRIPT, args: [], packages: [] }], dir)];
    config.runcmd = [...config.runcmd, ...runcmdOf(steps)];
    const apt = aptConfig(recipe.aptCheckValidUntil);
    if (apt) config.apt = apt;
    const userData = toYaml(config, "cloud-config");
    const hash = createHash("sha256").update(userData).digest("hex").slice(0, 12);
    const instanceId = `project-vms-builder-${hash}`;
    const metaData = toYaml({ "instance-id": instanceId, "local-hostname": "project-vms-builder" });
    return { userData, metaData, instanceId, hash };
}

export { isPreparedOf, preparedVolumeName };

/** Inputs of a prepared-layer command. */
export interface PreparedBaseArgs {
    /** libvirt connection URI. */
    libvirtUri: string;
    /** The pool of the base images. */
    pool: string;
    /** The base image's volume name in that pool. */
    baseVolume: string;
    /** What the layer holds. */
    recipe: PrepareRecipe;
    /** Where the builder's NIC attaches: `network:<name>`, `bridge:<name>` (or `user`). */
    network: string;
    /** Seconds the builder's provisioning may take (the command gets 15 minutes more: boot, seal, flatten). */
    timeout: number;
}

/**
 * The command that builds a prepared layer (host-scripts/prepare-base.sh) unless it is on the host
 * already; its stdout is the layer's volume path, the ID system disks take as their base. The layer
 * is kept when the command goes (like base images: VMs may run on it); `project-vm base prune`
 * deletes layers nothing uses.
 */
export function preparedBaseCommand(name: string, args: PreparedBaseArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    const r = renderRecipe(args.recipe);
    return hostCommand(
        name,
        {
            script: "prepare-base.sh",
            calls: { create: "prepare_base" },
            uses: ["ready.sh"],
            environment: {
                LIBVIRT_URI: args.libvirtUri,
                POOL: args.pool,
                BASE_VOLUME: args.baseVolume,
                PREPARED_VOLUME: preparedVolumeName(args.baseVolume, r.hash),
                USER_DATA: r.userData,
                META_DATA: r.metaData,
                INSTANCE_ID: r.instanceId,
                BUILDER_NETWORK: args.network,
                PREPARED_BYTES: String(PREPARED_BYTES),
                BUILD_TIMEOUT: String(args.timeout),
                ...builderShapeEnv(),
            },
        },
        { ...opts, customTimeouts: { create: `${args.timeout + 900}s` } },
    );
}

/** A prepared layer the stack needs: of a base version, for a recipe. */
export interface LayerUse {
    /** The base image version. */
    version: string;
    /** What the layer holds. */
    recipe: PrepareRecipe;
}

/**
 * The prepared layers a stack's projects start on, once each: a project starts on its pinned
 * version (else the newest) with its own features' recipe. Empty when `prepare` is off.
 */
export function layersOf(
    projects: Array<{ base?: string; features: Features }>,
    newest: string,
    aptCheckValidUntil: boolean,
    prepare: boolean,
): LayerUse[] {
    if (!prepare) return [];
    const seen = new Map<string, LayerUse>();
    for (const p of projects) {
        const version = p.base ?? newest;
        const key = `${version}/${recipeKey(p.features)}`;
        if (!seen.has(key)) seen.set(key, { version, recipe: { features: { ...p.features }, aptCheckValidUntil } });
    }
    return [...seen.values()];
}

/** The resource-name suffix of a layer: `<version>-<recipe key>`, e.g. `2026-11-01-nix+tailscale+claudeCode`. */
export function layerName(use: LayerUse): string {
    return `${use.version}-${recipeKey(use.recipe.features)}`;
}
