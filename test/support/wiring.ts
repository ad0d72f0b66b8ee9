// Wiring assertions shared by the per-stack program tests: what the engine receives for a stack,
// checked project by project against the stack's own config.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { parseConfig, rawConfig, Settings, tailscaleProviderConfig } from "../../components/config";
import { builderShapeEnv } from "../../components/domainShape";
import { HOST_INTERPRETER, hostCalls, hostProgram, PROGRAM_VAR, unpackProgram } from "../../components/hostCommands";
import { projectMac } from "../../components/names";
import { layerName, layersOf, PREPARED_BYTES, renderRecipe } from "../../components/prepare";
import { mockKeyTimes, Registered } from "./mocks";
import { ProgramRun } from "./program";
import { stackConfig } from "./stack";

const T = {
    provider: "pulumi:providers:libvirt",
    pool: "libvirt:index/pool:Pool",
    volume: "libvirt:index/volume:Volume",
    cloudInit: "libvirt:index/cloudInitDisk:CloudInitDisk",
    domain: "libvirt:index/domain:Domain",
    network: "libvirt:index/network:Network",
    key: "tailscale:index/tailnetKey:TailnetKey",
    tailnetProvider: "pulumi:providers:tailscale",
    command: "command:local:Command",
    vm: "project-vms:index:ProjectVm",
    host: "project-vms:index:Host",
};

/** The settings the program derived from `stack`'s config. */
export function settingsOf(stack: string, overrides: Record<string, unknown> = {}): Settings {
    const all = stackConfig(stack, overrides);
    return parseConfig(rawConfig(all), tailscaleProviderConfig(all));
}

/**
 * A host-scripts command: bash calling `create` / `update` / `remove` of `script`'s program, which
 * it carries once, packed, in its environment (hostCalls), exactly as hostProgram makes it.
 */
function assertHostScript(
    r: Registered,
    script: string,
    create: string | undefined,
    remove?: string,
    uses: string[] = [],
    update?: string,
): void {
    assert.equal(r.type, T.command);
    assert.deepEqual(r.inputs.interpreter, HOST_INTERPRETER);
    const calls = hostCalls(script, { create: create!, update, delete: remove }, uses);
    assert.equal(r.inputs.create, calls.create);
    assert.equal(r.inputs.update, calls.update);
    assert.equal(r.inputs.delete, calls.delete);
    assert.match(r.inputs.create, new RegExp(`\\n${create}\\n$`));
    assert.equal(unpackProgram(r.inputs.environment[PROGRAM_VAR]), hostProgram(script, uses), "the program it carries is the script's");
    assert.equal(r.inputs.environment.LIBVIRT_URI !== undefined, true);
}

/** A command's environment without the program it carries. */
function settingsIn(r: Registered): Record<string, string> {
    const { [PROGRAM_VAR]: _program, ...env } = r.inputs.environment;
    return env;
}

/**
 * Asserts that `secret` appears in no input of any resource but the inputs `allowed`
 * (`<resource>.<input>`), that each of those is registered as secret, and that no stack output
 * holds it: a secret is secret everywhere it goes, not only where a test looked.
 */
export function assertSecretOnlyIn(run: ProgramRun, secret: string, allowed: string[]): void {
    const holders = run.resources.flatMap((r) =>
        Object.entries(r.inputs)
            .filter(([, v]) => JSON.stringify(v ?? null).includes(secret))
            .map(([k]) => ({ at: `${r.name}.${k}`, secret: r.secretInputs.includes(k) })),
    );
    assert.deepEqual(holders.map((h) => h.at).sort(), [...allowed].sort(), `${secret.slice(0, 12)}… is in exactly these inputs`);
    for (const h of holders) assert.ok(h.secret, `${h.at} holds a secret and must be registered as secret`);
    assert.ok(!JSON.stringify(run.projects).includes(secret), "no stack output holds it");
}

/** Checks every wiring rule of a program run against the stack's settings. */
export function assertWiring(run: ProgramRun, s: Settings): void {
    const [provider] = run.ofType(T.provider);
    assert.equal(run.ofType(T.provider).length, 1, "one explicit libvirt provider");
    assert.equal(provider.inputs.uri, s.libvirtUri);
    const providerRef = `${provider.urn}::${provider.id}`;

    assert.equal(run.ofType(T.pool).length, 0, "pools are made by pool.sh, not libvirt.Pool");
    for (const r of run.resources.filter((x) => x.type.startsWith("libvirt:"))) {
        assert.equal(r.provider, providerRef, `${r.name} uses the explicit provider, not a default one`);
        assert.equal(r.version, "0.5.4", `${r.name} asks for plugin v0.5.4`);
    }

    const [host] = run.ofType(T.host);
    const bases = new Map(s.baseImages.map((b) => [b.version, run.named(`host-base-image-${b.version}`)]));
    for (const b of s.baseImages) {
        const vol = bases.get(b.version)!;
        assert.equal(vol.parent, host.urn);
        // Made from the download fetch-image.sh verified, never from the URL itself.
        const fetch = run.named(`host-base-fetch-${b.version}`);
        assert.equal(fetch.parent, host.urn, "the download is the host's: its URN, which the state keys it by, stays");
        assertHostScript(fetch, "fetch-image.sh", "image_fetch", undefined, [], "image_refetch");
        assert.deepEqual(settingsIn(fetch), {
            LIBVIRT_URI: s.libvirtUri,
            IMAGE_VERSION: b.version,
            IMAGE_URL: b.url,
            IMAGE_SHA512: b.sha512 ?? "",
            IMAGE_SUMS_URL: b.sumsUrl ?? "",
            IMAGE_CACHE: fetch.inputs.environment.IMAGE_CACHE,
        });
        assert.ok(b.sha512 || b.sumsUrl || !/^https?:/.test(b.url), `${b.url}: a downloaded image is verified against a sha512`);
        assert.match(fetch.inputs.environment.IMAGE_CACHE, /\/project-vms\/images$/);
        assert.match(
            vol.inputs.source,
            new RegExp(`^${fetch.inputs.environment.IMAGE_CACHE}/verified-\\d+\\.qcow2$`),
            "the fetch's output",
        );
        assert.ok(vol.dependencies.includes(fetch.urn), "the volume waits for the verified download");
        assert.equal(vol.id, `${s.storageDir}/base/${b.volume}`);
        assert.equal(vol.retainOnDelete, true, "a base stays on the host while overlays may use it");
        assert.deepEqual(vol.ignoreChanges, ["source"], "a version's image is never re-uploaded under its overlays");
    }
    const base = bases.get(s.baseImages[s.baseImages.length - 1].version)!;
    const basePool = run.named("host-base-pool");
    assertHostScript(basePool, "pool.sh", "pool_ensure", "pool_remove");
    assert.deepEqual(settingsIn(basePool), {
        LIBVIRT_URI: s.libvirtUri,
        POOL: "project-vms-base",
        POOL_DIR: `${s.storageDir}/base`,
        PURGE: "false",
    });
    assert.equal(base.inputs.pool, "project-vms-base");
    for (const vol of bases.values()) assert.ok(vol.dependencies.includes(basePool.urn), "the base images wait for their pool");

    // Prepared layers: one per base version and recipe the projects start on, none when prepare is off.
    const newest = s.baseImages[s.baseImages.length - 1].version;
    const layers = run.resources.filter((r) => r.name.startsWith("host-prepared-"));
    const uses = layersOf(s.projects, newest, s.aptCheckValidUntil, s.prepare);
    assert.deepEqual(layers.map((l) => l.name).sort(), uses.map((u) => `host-prepared-${layerName(u)}`).sort());
    for (const use of uses) {
        const layer = run.named(`host-prepared-${layerName(use)}`);
        const recipe = renderRecipe(use.recipe);
        assert.equal(layer.parent, host.urn);
        assertHostScript(layer, "prepare-base.sh", "prepare_base", undefined, ["ready.sh"]);
        assert.equal(layer.inputs.delete, undefined, "a layer stays while VMs may run on it (project-vm base prune deletes it)");
        assert.deepEqual(settingsIn(layer), {
            LIBVIRT_URI: s.libvirtUri,
            POOL: "project-vms-base",
            BASE_VOLUME: bases.get(use.version)!.inputs.name,
            PREPARED_VOLUME: `${bases.get(use.version)!.inputs.name.replace(/\.qcow2$/, "")}-prepared-${recipe.hash}.qcow2`,
            USER_DATA: recipe.userData,
            META_DATA: recipe.metaData,
            INSTANCE_ID: recipe.instanceId,
            BUILDER_NETWORK: s.network.kind === "bridge" ? `bridge:${s.network.bridge}` : `network:${s.network.name}`,
            PREPARED_BYTES: String(PREPARED_BYTES),
            BUILD_TIMEOUT: String(s.readyTimeout),
            ...builderShapeEnv(),
        });
        assert.deepEqual(layer.secretInputs, [], "a recipe holds nothing secret");
        if (s.network.kind === "nat")
            assert.ok(layer.dependencies.includes(run.named("host-network").urn), "the builder needs the network");
    }
    for (let i = 1; i < uses.length; i++) {
        const [before, layer] = [uses[i - 1], uses[i]].map((u) => run.named(`host-prepared-${layerName(u)}`));
        assert.ok(layer.dependencies.includes(before.urn), "layers are built one after the other");
    }

    // The Tailscale provider: explicit, so that it is loaded before a system disk's replacement
    // deletes its tailnet key (the engine's default provider was not: "unknown provider"), and
    // taking over the default provider's state that earlier stacks hold.
    const tailnetProviders = run.ofType(T.tailnetProvider);
    const onTailnet = s.projects.some((p) => p.features.tailscale);
    assert.equal(tailnetProviders.length, onTailnet ? 1 : 0, "one Tailscale provider, when a project joins the tailnet");
    const [tailnet] = tailnetProviders;
    if (tailnet) {
        assert.deepEqual(tailnet.aliases, [`urn:pulumi:${run.stack}::project-vms::pulumi:providers:tailscale::default_0_27_1`]);
        for (const k of ["apiKey", "oauthClientSecret", "identityToken"]) {
            if (k in tailnet.inputs) assert.ok(tailnet.secretInputs.includes(k), `tailscale:${k} stays secret`);
        }
        assert.equal(
            tailnet.inputs.tailnet ?? "-",
            s.tailscaleApi.tailnet,
            "the stack's tailscale:tailnet, unset when the stack leaves it unset",
        );
        assert.equal(tailnet.inputs.baseUrl ?? "https://api.tailscale.com", s.tailscaleApi.baseUrl);
    }

    const vms = run.ofType(T.vm);
    assert.deepEqual(
        vms.map((v) => v.name),
        s.projects.map((p) => p.hostname),
        "one ProjectVm per project, in config order",
    );
    assert.deepEqual(
        Object.keys(run.projects),
        s.projects.map((p) => p.name),
        "outputs keyed by project name",
    );

    for (const p of s.projects) {
        const vm = vms.find((v) => v.name === p.hostname)!;
        const dir = `${s.storageDir}/${p.name}`;
        const pool = run.named(`${p.hostname}-pool`);
        const system = run.named(`${p.hostname}-system-disk`);
        const project = run.named(`${p.hostname}-project-disk`);
        const ci = run.named(`${p.hostname}-cloud-init`);
        const domain = run.named(p.hostname);

        const power = run.named(`${p.hostname}-power`);
        const grow = run.named(`${p.hostname}-grow-project-disk`);
        const ready = run.named(`${p.hostname}-ready`);
        for (const child of [pool, system, project, ci, domain, power, grow, ready])
            assert.equal(child.parent, vm.urn, `${child.name} is a child of its ProjectVm`);

        // The project's folder as a pool, deleted only when the project is purged.
        assertHostScript(pool, "pool.sh", "pool_ensure", "pool_remove");
        assert.deepEqual(settingsIn(pool), { LIBVIRT_URI: s.libvirtUri, POOL: p.hostname, POOL_DIR: dir, PURGE: String(p.purge) });
        for (const v of [system, project, ci]) {
            assert.equal(v.inputs.pool, p.hostname);
            assert.ok(v.dependencies.includes(pool.urn), `${v.name} waits for the pool`);
        }

        // System disk: a qcow2 overlay over the pinned base version, else the newest, of
        // systemDiskSize: over that version's prepared layer for the project's features when the
        // stack prepares, else over the image itself. It is rebuilt only when the entry's base changes.
        const version = p.base ?? s.baseImages[s.baseImages.length - 1].version;
        const onVersion = bases.get(version)!;
        if (s.prepare) {
            const layer = run.named(
                `host-prepared-${layerName({ version, recipe: { features: p.features, aptCheckValidUntil: s.aptCheckValidUntil } })}`,
            );
            assert.equal(
                system.inputs.baseVolumeId,
                `${s.storageDir}/base/${layer.inputs.environment.PREPARED_VOLUME}`,
                "overlay → prepared layer of the version",
            );
            assert.equal(layer.inputs.environment.BASE_VOLUME, onVersion.inputs.name);
            assert.ok(layer.dependencies.includes(onVersion.urn), "the layer waits for its base image");
            assert.equal(parse(ci.inputs.userData, { version: "1.1" }).package_update, false, "no apt at first boot on a layer");
        } else {
            assert.equal(system.inputs.baseVolumeId, onVersion.id, "overlay → base");
            assert.equal(parse(ci.inputs.userData, { version: "1.1" }).package_update, true, "the cold path installs at first boot");
        }
        assert.ok(base.id, "the newest version has a volume");
        assert.deepEqual(
            system.ignoreChanges,
            ["baseVolumeId", "size"],
            "a new layer, newest version or systemDiskSize leaves the disk as it is",
        );
        assert.equal(
            system.replacementTrigger,
            p.base === undefined ? "unpinned" : `base:${p.base}`,
            "rebuilt when the entry's base changes",
        );
        assert.equal(system.deleteBeforeReplace, true, "the old disk goes first: libvirt refuses a second volume of its name");
        assert.equal(system.inputs.size, s.systemDiskSize.bytes);
        assert.equal(system.inputs.format, "qcow2");
        assert.equal(system.id, `${dir}/disk.qcow2`);
        assert.equal(system.protect, false);

        // Project disk: its own qcow2 of the project's size, not an overlay, kept unless purged,
        // never replaced for a size change (grown in place by the grow command instead).
        assert.equal(project.inputs.size, p.disk.bytes);
        assert.equal(project.inputs.baseVolumeId, undefined);
        assert.equal(project.inputs.source, undefined, "never uploaded over");
        assert.equal(project.id, `${dir}/project.qcow2`);
        assert.equal(project.retainOnDelete, !p.purge, "the developer's work stays when the project goes, unless purged");
        assert.deepEqual(project.ignoreChanges, ["size"]);
        assertHostScript(grow, "grow-disk.sh", "disk_grow");
        assert.equal(grow.inputs.delete, undefined, "nothing to undo when the resource goes");
        assert.equal(grow.inputs.environment.SIZE, String(p.disk.bytes));
        assert.equal(grow.inputs.environment.VOLUME, "project.qcow2");
        assert.equal(grow.inputs.environment.TARGET, "vdb");
        assert.ok(grow.dependencies.includes(project.urn));

        // Cloud-init: user-data secret, meta-data with the hostname and instance-id.
        assert.deepEqual(ci.secretInputs, ["userData"], "user-data (and only it) is secret");
        const meta = parse(ci.inputs.metaData, { version: "1.1" });
        assert.equal(meta["local-hostname"], p.hostname);
        assert.match(meta["instance-id"], new RegExp(`^${p.hostname}-[0-9a-f]{12}$`));
        const userData = parse(ci.inputs.userData, { version: "1.1" });
        assert.deepEqual(userData.users[0].ssh_authorized_keys, s.sshPublicKeys);
        const mac = projectMac(run.stack, p.name);
        assert.equal(parse(ci.inputs.networkConfig, { version: "1.1" }).ethernets.primary.match.macaddress, mac);

        // Domain.
        assert.equal(domain.inputs.name, p.hostname);
        assert.equal(domain.inputs.memory, p.memory);
        assert.equal(domain.inputs.vcpu, p.cpus);
        assert.deepEqual(domain.inputs.cpu, { mode: "maximum" }, "a mode libvirt accepts under KVM and TCG alike");
        assert.ok(domain.deleteBeforeReplace, "the old domain goes before one of the same name is defined");
        assert.deepEqual(
            domain.replaceWith,
            [],
            "replaced through its disks (in dependency order, the graceful shutdown first), not by a replaceWith cascade",
        );
        assert.deepEqual(domain.beforeCreate, [`${domain.inputs.name}-slot`], "a leftover of a failed create is cleared first");
        assert.equal(domain.inputs.machine, "pc", "i440fx: the cloud-init CD is on IDE");
        assert.deepEqual(domain.inputs.disks, [{ volumeId: system.id }, { volumeId: project.id }], "vda system, vdb project");
        assert.equal(domain.inputs.cloudinit, ci.id);
        assert.equal(domain.inputs.autostart, p.autostart && p.running, "only a running project starts with the host");
        assert.equal(domain.inputs.running, true, "the provider never hard-stops it");
        assert.deepEqual(
            domain.ignoreChanges,
            ["running", "cpu"],
            "power.sh owns the power state; an upgrade does not restart VMs for the CPU mode",
        );

        // Power: applied after the domain, graceful shutdown first when it is replaced or deleted.
        assertHostScript(power, "power.sh", "power_apply", "power_stop");
        assert.equal(power.inputs.environment.DESIRED, p.running ? "running" : "stopped");
        assert.equal(power.inputs.environment.DOMAIN, p.hostname);
        assert.equal(power.inputs.environment.SHUTDOWN_TIMEOUT, String(s.shutdownTimeout));
        assert.ok(power.inputs.environment.DOMAIN_UPDATES.includes(ci.id), "re-applied after the cloud-init disk is swapped");
        assert.deepEqual(power.inputs.triggers, [domain.id], "a new domain gets a new power command");
        assert.equal(power.deleteBeforeReplace, true, "the old domain is shut down before anything else");
        assert.ok(power.dependencies.includes(domain.urn));
        assert.ok(power.dependencies.includes(ready.urn), "a new VM is provisioned before it is stopped");

        // Readiness: pulumi up waits for cloud-init in every new domain.
        assertHostScript(ready, "ready.sh", "ready_wait", undefined, [], "ready_recheck");
        assert.deepEqual(
            settingsIn(ready),
            {
                LIBVIRT_URI: s.libvirtUri,
                DOMAIN: p.hostname,
                READY_TIMEOUT: String(s.readyTimeout),
                INSTANCE_ID: meta["instance-id"],
            },
            "it runs again for each new config",
        );
        assert.deepEqual(ready.secretInputs, [], "nothing secret in it");
        assert.deepEqual(ready.inputs.triggers, [domain.id]);
        assert.ok(ready.dependencies.includes(domain.urn));
        assert.deepEqual(domain.inputs.consoles, [{ type: "pty", targetPort: "0", targetType: "serial" }]);
        const [nic] = domain.inputs.networkInterfaces;
        assert.equal(nic.mac, mac, "MAC derived from the stack (host) and the name");
        assert.equal(nic.hostname, p.hostname);
        if (s.network.kind === "nat") assert.equal(nic.networkId, run.named("host-network").id);
        if (s.network.kind === "network") assert.equal(nic.networkName, s.network.name);
        if (s.network.kind === "bridge") assert.equal(nic.bridge, s.network.bridge);

        // Tailscale key, only for projects on the tailnet.
        const keys = run.ofType(T.key).filter((k) => k.name === `${p.hostname}-tailnet-key`);
        const out = run.projects[p.name];
        const machines = run.resources.filter((r) => r.name === `${p.hostname}-tailnet-machine`);
        if (p.features.tailscale) {
            const [key] = keys;
            assert.equal(key.parent, vm.urn);
            assert.deepEqual(key.replaceWith, [system.urn], "a fresh system disk is a new machine: it needs a new key");
            assert.equal(key.provider, `${tailnet.urn}::${tailnet.id}`, "made by the stack's Tailscale provider");
            assert.ok(system.dependencies.includes(tailnet.urn), "the provider is loaded before the disk's replacement replaces the key");
            const [machine] = machines;
            assert.equal(machine.parent, vm.urn);
            assertHostScript(machine, "tailnet.sh", "tailnet_node_record", "tailnet_node_delete", [], "tailnet_node_keep");
            assert.match(machine.inputs.update, /\ntailnet_node_keep\n$/, "an update keeps the recorded node");
            assert.deepEqual(machine.secretInputs, ["environment"], "API credentials stay secret");
            const env = machine.inputs.environment;
            assert.deepEqual(
                { host: env.NODE_HOSTNAME, domain: env.DOMAIN, tags: env.TS_TAGS },
                { host: p.hostname, domain: p.hostname, tags: s.tailscale.tags.join(",") },
                "the node is recorded from this VM's guest and checked against its hostname and tags",
            );
            const times = mockKeyTimes(key.name);
            assert.deepEqual(
                { created: env.TS_KEY_CREATED, expires: env.TS_KEY_EXPIRES },
                { created: times.createdAt, expires: times.expiresAt },
                "only a node the API says was added while this VM's own auth key was valid is recorded",
            );
            assert.ok(machine.dependencies.includes(key.urn), "the key's times come from its own key");
            assert.equal(env.TS_TAILNET, s.tailscaleApi.tailnet, "its tailnet's machines are listed to rule out another of the same name");
            assert.deepEqual(machine.replaceWith, [system.urn], "a fresh system disk is a new node");
            assert.equal(
                machine.inputs.triggers,
                undefined,
                "a new domain on the same system disk is the same node (a memory change once deleted the VM's machine)",
            );
            assert.deepEqual(
                machine.ignoreChanges,
                ["triggers"],
                "the domain trigger stacks applied before recorded does not replace it either",
            );
            assert.equal(machine.deleteBeforeReplace, true, "the old node goes before the new one is recorded");
            assert.ok(machine.dependencies.includes(ready.urn), "recorded once the VM has joined (cloud-init finished)");
            assert.ok(power.dependencies.includes(machine.urn), "recorded before a stopped project is shut down");
            assert.ok(!domain.dependencies.includes(machine.urn));
            assert.deepEqual(
                {
                    reusable: key.inputs.reusable,
                    preauthorized: key.inputs.preauthorized,
                    recreateIfInvalid: key.inputs.recreateIfInvalid,
                    tags: key.inputs.tags,
                },
                { reusable: false, preauthorized: true, recreateIfInvalid: "never", tags: s.tailscale.tags },
            );
            assert.ok(key.inputs.expiry > 0 && key.inputs.expiry <= 24 * 3600, "expires within a day");
            assert.ok(ci.inputs.userData.includes(`tskey-auth-mock-${p.hostname}-tailnet-key`), "the key reaches user-data");
            // User-data secrecy for a VM on the tailnet (with whatever features it has): the auth key
            // is in its user-data, which is secret, and nowhere else (meta-data, network-config,
            // the instance-id the ready and power commands see, any command, any output).
            assertSecretOnlyIn(run, `tskey-auth-mock-${p.hostname}-tailnet-key`, [`${ci.name}.userData`]);
            assert.equal(out.fqdn, `${p.hostname}.${s.tailscale.tailnet}`);
            assert.equal(out.ssh, `ssh dev@${p.hostname}.${s.tailscale.tailnet}`);
        } else {
            assert.equal(keys.length, 0, "no key for a project off the tailnet");
            assert.equal(machines.length, 0);
            assert.ok(!ci.inputs.userData.includes("tailscale.sh"));
            assert.equal(out.fqdn, undefined);
            assert.equal(out.ssh, `ssh dev@${out.ip}`);
        }
        assert.equal(out.hostname, p.hostname);
        assert.equal(out.domainName, p.hostname);
        assert.match(out.ip, /^10\.17\.0\.\d+$/);
        assert.deepEqual(out.disks, { system: system.id, project: project.id, cloudInit: `${dir}/cloud-init.iso` });
    }
}
