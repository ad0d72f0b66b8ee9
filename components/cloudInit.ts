// The cloud-init renderer: composes the files under cloud-init/ into one VM's user-data,
// meta-data and network-config with the `yaml` package. Pure: the same input gives byte-identical
// output. Written as YAML 1.1, the dialect cloud-init's PyYAML reads.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { Document, parse } from "yaml";
import { Features } from "./config";

/** The folder holding the cloud-init sources (user-data.yaml, network-config.yaml, scripts/). */
export const CLOUD_INIT_DIR = path.join(__dirname, "..", "cloud-init");

/** Where the provisioning scripts are installed in the guest. */
export const GUEST_SCRIPT_DIR = "/usr/local/lib/project-vms";

/** Where the Tailscale auth key waits for tailscale.sh (tmpfs, mode 0600, deleted after use). */
export const GUEST_AUTH_KEY_FILE = "/run/project-vms/tailscale-authkey";

/** Where cloud-init runs scripts at every boot. */
export const GUEST_PER_BOOT_DIR = "/var/lib/cloud/scripts/per-boot";

/** The project disk's settings for the per-boot grow script. */
export const GUEST_PROJECT_DISK_ENV = "/etc/project-vms/project-disk.env";

/** The developer account. */
export const GUEST_USER = "dev";

/** What the renderer needs to know about one VM. */
export interface GuestConfig {
    /** Guest hostname and tailnet machine name, `project-<name>`. */
    hostname: string;
    /** MAC address of the VM's NIC, matched by the network config. */
    mac: string;
    /** Public keys that may log in as dev. */
    sshPublicKeys: string[];
    /** Optional provisioning steps. */
    features: Features;
    /** Tailscale join settings; required when `features.tailscale`. */
    tailscale?: {
        /** A pre-authorized auth key (secret). */
        authKey: string;
        /** ACL tags to advertise. */
        tags: string[];
    };
    /** Whether guest apt checks Release files' Valid-Until. */
    aptCheckValidUntil: boolean;
    /**
     * Whether the system disk is an overlay of a prepared layer (packages and install steps done)
     * rather than the bare image: then no apt at first boot.
     */
    prepared: boolean;
}

/** The three NoCloud files of one VM, and the instance-id they carry. */
export interface CloudInitFiles {
    /** `user-data` (`#cloud-config`); contains the auth key, so treat it as a secret. */
    userData: string;
    /** `meta-data`: instance-id and local-hostname. */
    metaData: string;
    /** `network-config` (version 2). */
    networkConfig: string;
    /**
     * `<hostname>-<hash of user-data and network-config>`: a changed config is a new instance to
     * cloud-init, which then runs its per-instance steps again (all idempotent) at the next boot.
     */
    instanceId: string;
}

/** The project disk as the base user-data declares it (fs_setup and mounts). */
export interface ProjectDiskLayout {
    /** Guest block device, e.g. /dev/vdb. */
    device: string;
    /** Filesystem label the disk is made with and mounted by. */
    label: string;
    /** Where it is mounted, /home/dev/project. */
    mountPoint: string;
}

type CloudConfig = Record<string, unknown> & {
    users: Array<Record<string, unknown>>;
    packages: string[];
    runcmd: unknown[];
    fs_setup: Array<Record<string, unknown>>;
    mounts: string[][];
};

/** A file under cloud-init/ (`dir`), read as YAML 1.1, the dialect cloud-init's PyYAML reads. */
export function readYaml<T>(dir: string, file: string): T {
    return parse(fs.readFileSync(path.join(dir, file), "utf8"), { version: "1.1" }) as T;
}

/** YAML 1.1 text of `value` (what cloud-init reads), with `header` as its first comment. */
export function toYaml(value: unknown, header?: string): string {
    const doc = new Document(value, { version: "1.1" });
    if (header) doc.commentBefore = header;
    return doc.toString({ lineWidth: 0 });
}

/** The project disk's device, label and mount point, read from the base user-data. */
export function projectDiskLayout(dir = CLOUD_INIT_DIR): ProjectDiskLayout {
    const base = readYaml<CloudConfig>(dir, "user-data.yaml");
    const fsSetup = base.fs_setup[0];
    const mount = base.mounts.find((m) => m[0] === `LABEL=${fsSetup.label}`);
    if (!mount) throw new Error(`cloud-init/user-data.yaml mounts no LABEL=${fsSetup.label}`);
    return { device: String(fsSetup.device), label: String(fsSetup.label), mountPoint: mount[1] };
}

/** One provisioning step: a script from cloud-init/scripts/, its arguments and the packages it needs. */
export interface Step {
    /** File name under cloud-init/scripts/. */
    script: string;
    /** Its arguments. */
    args: string[];
    /** Debian packages it needs installed first. */
    packages: string[];
}

/**
 * The shared part of the provisioning of a feature set: software only, nothing of a stack, a
 * project or a machine. It runs once in a prepared layer's builder, or at first boot on the cold path.
 */
export function installSteps(features: Features): Step[] {
    const list: Step[] = [];
    if (features.nix) list.push({ script: "nix-install.sh", args: [], packages: ["xz-utils"] });
    if (features.tailscale) list.push({ script: "tailscale-install.sh", args: [], packages: [] });
    if (features.claudeCode) list.push({ script: "claude-code.sh", args: [], packages: ["nodejs", "npm"] });
    return list;
}

/**
 * What comes first: the project disk (this VM's own), the base packages (a no-op where cloud-init
 * or the prepared layer installed them), the dev user in the docker group and the guest agent.
 */
function diskSteps(disk: ProjectDiskLayout, basePackages: string[]): Step[] {
    return [
        { script: "project-disk.sh", args: [disk.mountPoint, disk.label, GUEST_USER], packages: [] },
        { script: "packages.sh", args: basePackages, packages: [] },
        { script: "services.sh", args: [GUEST_USER], packages: [] },
    ];
}

/** What is this VM's own once the software is there: Nix for its user, joining the tailnet. */
function joinSteps(g: GuestConfig): Step[] {
    const list: Step[] = [];
    if (g.features.nix) list.push({ script: "nix.sh", args: [GUEST_USER], packages: [] });
    if (g.features.tailscale) {
        list.push({ script: "tailscale.sh", args: [g.hostname, g.tailscale!.tags.join(","), GUEST_AUTH_KEY_FILE], packages: [] });
    }
    return list;
}

/** The packages every VM gets (user-data.yaml's list) and those of `steps`, in order, once each. */
export function packagesFor(steps: Step[], dir = CLOUD_INIT_DIR): string[] {
    const base = readYaml<CloudConfig>(dir, "user-data.yaml");
    return [...new Set([...base.packages, ...steps.flatMap((s) => s.packages)])];
}

/**
 * A write_files entry for a script from cloud-init/scripts/, its content packed (gzip, base64:
 * cloud-init's `gz+b64` encoding). The VM gets the script as it is, comments and all; user-data
 * (and each VM's Pulumi state, which holds it) carries less than half its size.
 */
export function scriptFile(script: string, target: string, permissions: string, dir = CLOUD_INIT_DIR): Record<string, string> {
    const text = fs.readFileSync(path.join(dir, "scripts", script), "utf8");
    return {
        path: target,
        owner: "root:root",
        permissions,
        encoding: "gz+b64",
        content: zlib.gzipSync(text, { level: 9 }).toString("base64"),
    };
}

/** write_files entries installing `steps`' scripts (and lib.sh) under GUEST_SCRIPT_DIR. */
export function scriptFiles(steps: Step[], dir = CLOUD_INIT_DIR): Array<Record<string, string>> {
    return ["lib.sh", ...steps.map((s) => s.script)].map((script) =>
        scriptFile(script, `${GUEST_SCRIPT_DIR}/${script}`, script === "lib.sh" ? "0644" : "0755", dir),
    );
}

/** The runcmd lines that run `steps` in order. */
export function runcmdOf(steps: Step[]): string[][] {
    return steps.map((s) => [`${GUEST_SCRIPT_DIR}/${s.script}`, ...s.args]);
}

/** apt's setting for mirrors whose Release files are past Valid-Until, when asked for. */
export function aptConfig(checkValidUntil: boolean): Record<string, string> | undefined {
    return checkValidUntil ? undefined : { conf: 'Acquire::Check-Valid-Until "false";\n' };
}

/** Renders the NoCloud files of one VM. */
export function renderCloudInit(g: GuestConfig, dir = CLOUD_INIT_DIR): CloudInitFiles {
    if (g.features.tailscale && !g.tailscale) throw new Error("renderCloudInit: features.tailscale needs tailscale settings");
    const config = readYaml<CloudConfig>(dir, "user-data.yaml");
    const disk = projectDiskLayout(dir);
    // The install steps run on both paths and are idempotent: on a prepared layer they find their
    // software installed and return at once (a feature turned on later, after the system disk was
    // made, still gets installed). Only the cold path needs apt here.
    // The project disk first: it is what the developer needs, whatever else fails.
    const plan = [...diskSteps(disk, config.packages), ...installSteps(g.features), ...joinSteps(g)];

    config.users = config.users.map((u) => (u.name === GUEST_USER ? { ...u, ssh_authorized_keys: [...g.sshPublicKeys] } : u));
    if (g.prepared) {
        // No apt here: the layer has the packages (packages.sh makes sure). cloud-init's schema
        // refuses an empty list, so there is none.
        config.package_update = false;
        delete (config as Partial<CloudConfig>).packages;
    } else {
        config.packages = packagesFor(plan, dir);
    }

    const files = scriptFiles(plan, dir);
    // At every boot, grow the project filesystem to its disk (the host grows disks in place).
    files.push(
        {
            path: GUEST_PROJECT_DISK_ENV,
            owner: "root:root",
            permissions: "0644",
            content: `LABEL=${disk.label}\nMOUNT_POINT=${disk.mountPoint}\n`,
        },
        scriptFile("grow-project-disk.sh", `${GUEST_PER_BOOT_DIR}/project-vms-grow-project-disk.sh`, "0755", dir),
    );
    if (g.features.tailscale) {
        files.push({ path: GUEST_AUTH_KEY_FILE, owner: "root:root", permissions: "0600", content: g.tailscale!.authKey });
    }
    config.write_files = files;
    // After user-data.yaml's own first line (`set -e`: every step must succeed).
    config.runcmd = [...config.runcmd, ...runcmdOf(plan)];

    const apt = aptConfig(g.aptCheckValidUntil);
    if (apt) config.apt = apt;

    const network = readYaml<{ ethernets: { primary: { match: { macaddress: string } } } }>(dir, "network-config.yaml");
    network.ethernets.primary.match.macaddress = g.mac;

    const userData = toYaml(config, "cloud-config");
    const networkConfig = toYaml(network);
    const digest = createHash("sha256").update(userData).update("\0").update(networkConfig).digest("hex");
    const instanceId = `${g.hostname}-${digest.slice(0, 12)}`;
    const metaData = toYaml({ "instance-id": instanceId, "local-hostname": g.hostname });
    return { userData, metaData, networkConfig, instanceId };
}
