// Where a project is found: its files on the host, its name on the tailnet and how to log in.
// Pure, and free of Pulumi, so that the CLI can use it without loading the program.
import { createHash } from "node:crypto";
import { GUEST_USER } from "./cloudInit";
import { Project } from "./config";

/** File names inside a project's folder `<storageDir>/<name>/`. */
export const PROJECT_FILES = {
    /** The system disk: a qcow2 overlay over the base image. */
    systemDisk: "disk.qcow2",
    /** The project disk: the developer's work, mounted at /home/dev/project. */
    projectDisk: "project.qcow2",
    /** The cloud-init NoCloud ISO. */
    cloudInit: "cloud-init.iso",
} as const;

/** Where a project's files live on the host. */
export function projectPaths(
    storageDir: string,
    name: string,
): { dir: string; systemDisk: string; projectDisk: string; cloudInit: string } {
    const dir = `${storageDir}/${name}`;
    return {
        dir,
        systemDisk: `${dir}/${PROJECT_FILES.systemDisk}`,
        projectDisk: `${dir}/${PROJECT_FILES.projectDisk}`,
        cloudInit: `${dir}/${PROJECT_FILES.cloudInit}`,
    };
}

/** The tailnet name of a VM, or undefined when it does not join a tailnet. */
export function tailnetFqdn(project: Project, tailnet: string | undefined): string | undefined {
    return project.features.tailscale && tailnet ? `${project.hostname}.${tailnet}` : undefined;
}

/** The command that logs in to the VM: over the tailnet when it is on one, else to its IP. */
export function sshCommand(fqdnOrIp: string): string {
    return `ssh ${GUEST_USER}@${fqdnOrIp}`;
}

/**
 * The MAC address of project `name`'s NIC on the host of stack `stack` (one stack per host):
 * QEMU's locally administered prefix `52:54` and four bytes of SHA-256 of both. Stable across a
 * domain replacement (the guest keeps its DHCP lease and IP), and different on each host, so two
 * hosts' VMs of the same project on one bridged LAN do not share a MAC. Not guaranteed unique:
 * `macCollisions` checks the projects of one stack; across hosts, 32 bits leave about one chance
 * in ten million for a pair.
 */
export function projectMac(stack: string, name: string): string {
    if (!stack || !name) throw new Error(`projectMac needs a stack and a project name, got ${JSON.stringify([stack, name])}`);
    const h = createHash("sha256").update(`project-vms/mac\0${stack}\0${name}`).digest();
    return ["52", "54", ...[0, 1, 2, 3].map((i) => h[i].toString(16).padStart(2, "0"))].join(":");
}

/** Why the projects `names` of stack `stack` cannot all have their MACs: pairs that derive the same one. */
export function macCollisions(stack: string, names: string[]): string[] {
    const seen = new Map<string, string>();
    const problems: string[] = [];
    for (const name of names) {
        const mac = projectMac(stack, name);
        const other = seen.get(mac);
        if (other !== undefined && other !== name)
            problems.push(`projects ${other} and ${name} derive the same MAC address (${mac}) on stack ${stack}; rename one of them`);
        else seen.set(mac, name);
    }
    return problems;
}

/** `debian-testing-2026-11.qcow2` + recipe hash → `debian-testing-2026-11-prepared-<hash>.qcow2` (components/prepare.ts). */
export function preparedVolumeName(baseVolume: string, hash: string): string {
    return `${preparedPrefixOf(baseVolume)}${hash}.qcow2`;
}

/** Whether `volume` is a prepared layer of `baseVolume` (of any recipe). */
export function isPreparedOf(volume: string, baseVolume: string): boolean {
    const prefix = preparedPrefixOf(baseVolume);
    return volume.startsWith(prefix) && /^[0-9a-f]{12}\.qcow2$/.test(volume.slice(prefix.length));
}

/** How the names of a base volume's prepared layers begin (then 12 hex digits and .qcow2). */
export function preparedPrefixOf(baseVolume: string): string {
    return `${baseVolume.replace(/\.qcow2$/, "")}-prepared-`;
}

/** The small volume that marks a prepared layer complete (made once its copy has finished). */
export function preparedMarkerName(layer: string): string {
    return layer.replace(/\.qcow2$/, ".done");
}
