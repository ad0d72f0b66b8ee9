// project-vms: one isolated development VM per software project on a libvirt/KVM host.
// One stack per host. Reading order: config → host resources → one ProjectVm per project → outputs.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig, rawConfig, Settings, tailscaleProviderConfig } from "./components/config";
import { Host } from "./components/host";
import { macCollisions } from "./components/names";
import { layersOf } from "./components/prepare";
import { ProjectVm } from "./components/projectVm";
import { tailnetProvider } from "./components/tailnetProvider";

// 1. Config: every problem reported at once, naming its key, before anything is registered —
// also of the Tailscale provider's config that host commands are given (secrets never shown).
function loadSettings(): Settings {
    const all = pulumi.runtime.allConfig();
    try {
        return parseConfig(rawConfig(all), tailscaleProviderConfig(all));
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}
const settings = loadSettings();
const stack = pulumi.getStack();
const macProblems = macCollisions(
    stack,
    settings.projects.map((p) => p.name),
);
if (macProblems.length > 0) throw new pulumi.RunError(macProblems.join("\n"));

// ... and the Tailscale provider's own config (validated above), to delete machines from the
// tailnet when VMs go; the secrets as secrets.
const tailscaleConfig = new pulumi.Config("tailscale");
const tailscaleApi = {
    apiKey: tailscaleConfig.getSecret("apiKey"),
    oauthClientId: settings.tailscaleApi.oauthClientId,
    oauthClientSecret: tailscaleConfig.getSecret("oauthClientSecret"),
    tailnet: settings.tailscaleApi.tailnet,
    baseUrl: settings.tailscaleApi.baseUrl,
};
// The Tailscale provider that makes the VMs' auth keys, registered before any VM (see
// tailnetProvider), from the same config the engine's default provider read.
const tailnet = settings.projects.some((p) => p.features.tailscale) ? tailnetProvider("tailnet") : undefined;

// 2. The host: libvirt connection, base images, network, and the prepared layers new VMs start on.
const newest = settings.baseImages[settings.baseImages.length - 1].version;
const host = new Host("host", {
    libvirtUri: settings.libvirtUri,
    storageDir: settings.storageDir,
    baseImages: settings.baseImages,
    network: settings.network,
    layers: layersOf(settings.projects, newest, settings.aptCheckValidUntil, settings.prepare),
    buildTimeout: settings.readyTimeout,
});

// 3. One VM per project entry.
const vms = settings.projects.map(
    (project) =>
        new ProjectVm(project.hostname, {
            project,
            stack,
            libvirtUri: settings.libvirtUri,
            shutdownTimeout: settings.shutdownTimeout,
            readyTimeout: settings.readyTimeout,
            tailscaleApi,
            tailnetProvider: tailnet,
            storageDir: settings.storageDir,
            provider: host.provider,
            systemDiskBase: host.systemDiskBase(project.base ?? newest, project.features),
            systemDiskBytes: settings.systemDiskSize.bytes,
            nic: host.nic,
            sshPublicKeys: settings.sshPublicKeys,
            tailscale: settings.tailscale,
            aptCheckValidUntil: settings.aptCheckValidUntil,
        }),
);

// 4. Outputs, keyed by project name: `pulumi stack output projects`.
export const projects = pulumi.output(
    Object.fromEntries(
        settings.projects.map((p, i) => [
            p.name,
            {
                hostname: vms[i].hostname,
                fqdn: vms[i].fqdn,
                ssh: vms[i].ssh,
                ip: vms[i].ip,
                domainName: vms[i].domainName,
                disks: vms[i].disks,
            },
        ]),
    ),
);
