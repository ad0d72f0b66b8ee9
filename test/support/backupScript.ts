// backup.sh and restore.sh run as a command runs them, against the stand-in virsh: one project's
// settings in the environment (the project's name, its pool and the backups pool), a call's own on top.
import { spawnSync } from "node:child_process";
import { hostScript } from "../../components/hostCommands";
import { FakeHost } from "./fakeVirsh";

/** The backups pool of the tests, and its folder. */
export const BPOOL = "project-vms-backups";

/** The environment backup.sh and restore.sh read for project `project` (domain project-<project>, pool project-<project>). */
export function backupScriptEnv(host: FakeHost, project: string, env: Record<string, string> = {}): Record<string, string> {
    return {
        ...host.env(),
        LIBVIRT_URI: "qemu:///system",
        PROJECT: project,
        DOMAIN: `project-${project}`,
        PROJECT_POOL: `project-${project}`,
        VOLUME: "project.qcow2",
        TARGET: "vdb",
        BACKUP_POOL: BPOOL,
        BACKUP_DIR: "/mnt/nas/backups",
        KIND: "full",
        ...env,
    };
}

/** The program of a backup.sh or restore.sh function (restore_*: restore.sh, which uses backup.sh). */
export function backupProgram(fn: string): string {
    return fn.startsWith("restore_") ? hostScript("restore.sh", fn, ["backup.sh"]) : hostScript("backup.sh", fn);
}

/** Runs a backup.sh or restore.sh function to its end: its exit status, stdout (trimmed) and stderr. */
export function runBackupScript(host: FakeHost, project: string, fn: string, env: Record<string, string> = {}) {
    const r = spawnSync("bash", ["-c", backupProgram(fn)], { encoding: "utf8", env: backupScriptEnv(host, project, env), timeout: 30_000 });
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}
