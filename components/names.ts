// Where a project is found: its files on the host, its name on the tailnet and how to log in.
// Pure, and free of Pulumi, so that the CLI can use it without loading the program.
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
export function projectPaths(storageDir: string, name: string): { dir: string; systemDisk: string; projectDisk: string; cloudInit: string } {
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
