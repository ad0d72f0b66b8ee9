// The cloud-init renderer: composes the files under cloud-init/ into one VM's user-data,
// meta-data and network-config with the `yaml` package. Pure: the same input gives byte-identical
// output. Written as YAML 1.1, the dialect cloud-init's PyYAML reads.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
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

function readYaml<T>(dir: string, file: string): T {
    return parse(fs.readFileSync(path.join(dir, file), "utf8"), { version: "1.1" }) as T;
}

function toYaml(value: unknown, header?: string): string {
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

/** One provisioning step: a script from cloud-init/scripts/ and its arguments. */
interface Step {
    script: string;
    args: string[];
    packages: string[];
}

function steps(g: GuestConfig, disk: ProjectDiskLayout): Step[] {
    const list: Step[] = [
        { script: "project-disk.sh", args: [disk.mountPoint, disk.label, GUEST_USER], packages: [] },
        { script: "services.sh", args: [GUEST_USER], packages: [] },
    ];
    if (g.features.nix) list.push({ script: "nix.sh", args: [GUEST_USER], packages: ["xz-utils"] });
    if (g.features.tailscale) {
        list.push({
            script: "tailscale.sh",
            args: [g.hostname, g.tailscale!.tags.join(","), GUEST_AUTH_KEY_FILE],
            packages: [],
        });
    }
    if (g.features.claudeCode) list.push({ script: "claude-code.sh", args: [], packages: ["nodejs", "npm"] });
    return list;
}

/** Renders the NoCloud files of one VM. */
export function renderCloudInit(g: GuestConfig, dir = CLOUD_INIT_DIR): CloudInitFiles {
    if (g.features.tailscale && !g.tailscale) throw new Error("renderCloudInit: features.tailscale needs tailscale settings");
    const config = readYaml<CloudConfig>(dir, "user-data.yaml");
    const disk = projectDiskLayout(dir);
    const plan = steps(g, disk);

    config.users = config.users.map((u) => (u.name === GUEST_USER ? { ...u, ssh_authorized_keys: [...g.sshPublicKeys] } : u));
    config.packages = [...new Set([...config.packages, ...plan.flatMap((s) => s.packages)])];

    const files = ["lib.sh", ...plan.map((s) => s.script)].map((script) => ({
        path: `${GUEST_SCRIPT_DIR}/${script}`,
        owner: "root:root",
        permissions: script === "lib.sh" ? "0644" : "0755",
        content: fs.readFileSync(path.join(dir, "scripts", script), "utf8"),
    }));
    // At every boot, grow the project filesystem to its disk (the host grows disks in place).
    files.push(
        { path: GUEST_PROJECT_DISK_ENV, owner: "root:root", permissions: "0644", content: `LABEL=${disk.label}\nMOUNT_POINT=${disk.mountPoint}\n` },
        {
            path: `${GUEST_PER_BOOT_DIR}/project-vms-grow-project-disk.sh`,
            owner: "root:root",
            permissions: "0755",
            content: fs.readFileSync(path.join(dir, "scripts", "grow-project-disk.sh"), "utf8"),
        },
    );
    if (g.features.tailscale) {
        files.push({ path: GUEST_AUTH_KEY_FILE, owner: "root:root", permissions: "0600", content: g.tailscale!.authKey });
    }
    config.write_files = files;
    config.runcmd = plan.map((s) => [`${GUEST_SCRIPT_DIR}/${s.script}`, ...s.args]);

    if (!g.aptCheckValidUntil) {
        config.apt = { conf: 'Acquire::Check-Valid-Until "false";\n' };
    }

    const network = readYaml<{ ethernets: { primary: { match: { macaddress: string } } } }>(dir, "network-config.yaml");
    network.ethernets.primary.match.macaddress = g.mac;

    const userData = toYaml(config, "cloud-config");
    const networkConfig = toYaml(network);
    const digest = createHash("sha256").update(userData).update("\0").update(networkConfig).digest("hex");
    const instanceId = `${g.hostname}-${digest.slice(0, 12)}`;
    const metaData = toYaml({ "instance-id": instanceId, "local-hostname": g.hostname });
    return { userData, metaData, networkConfig, instanceId };
}
