// `status`: one project in full: power, login, sizes, disks on the host, cloud-init.
import { formatSize } from "../../components/config";
import { GUEST_USER } from "../../components/cloudInit";
import { PROJECT_FILES, projectPaths } from "../../components/names";
import { GuestResult, LibvirtUnavailable, VolumeSize } from "../libvirt";
import { PulumiUnavailable } from "../pulumi";
import { Context } from "./context";
import { ProjectRow, stateText, viewProject } from "./view";
import { Command } from "commander";
import { Declare } from "../factory";

/** `status --json`: a project row with its disks and cloud-init's status. */
export interface ProjectStatus extends ProjectRow {
    /** The disks on the host: path, and size and space taken when libvirt answers. */
    disks: Record<"system" | "project" | "cloudInit", { path: string } & Partial<VolumeSize>>;
    /** cloud-init in the guest (`cloud-init status --format json`), null when it cannot be asked. */
    cloudInit: { status: string; detail?: string; errors: string[] } | null;
    /** What could not be seen. */
    warnings: string[];
}

/** Shows one project: power state, addresses, sizes, disks and provisioning. */
export async function status(ctx: Context, host: string, name: string, opts: { json?: boolean }): Promise<void> {
    const { view, row } = await viewProject(ctx, host, name);
    const warnings = [...view.warnings];
    if (!row.purge) {
        try {
            if ((await ctx.pulumi.armedPurges(host)).has(name)) row.purge = true;
        } catch (e) {
            if (!(e instanceof PulumiUnavailable)) throw e;
        }
    }
    const paths = projectPaths(view.settings.storageDir, name);
    const out = view.outputs[name]?.disks;
    const disks: ProjectStatus["disks"] = {
        system: { path: out?.system ?? paths.systemDisk },
        project: { path: out?.project ?? paths.projectDisk },
        cloudInit: { path: out?.cloudInit ?? paths.cloudInit },
    };
    let cloudInit: ProjectStatus["cloudInit"] = null;
    if (view.libvirt && row.state !== null) {
        for (const [key, file] of [
            ["system", PROJECT_FILES.systemDisk],
            ["project", PROJECT_FILES.projectDisk],
        ] as const) {
            Object.assign(disks[key], await view.libvirt.volume(row.hostname, file));
        }
        if (row.state === "running") {
            try {
                cloudInit = parseCloudInitStatus(await view.libvirt.guestExec(row.hostname, "cloud-init", ["status", "--format", "json"]));
            } catch (e) {
                if (!(e instanceof LibvirtUnavailable)) throw e;
                warnings.push(`cloud-init status unknown: ${e.message}`);
            }
        }
    }
    const status: ProjectStatus = { ...row, disks, cloudInit, warnings };
    if (opts.json) {
        ctx.io.out(JSON.stringify(status, null, 2));
        return;
    }
    ctx.io.err(`project-vm: Pulumi.${host}.yaml in ${ctx.dir}`);
    for (const w of warnings) ctx.io.err(`project-vm: warning: ${w}`);
    const size = (d: { capacity?: number; allocation?: number }) =>
        d.capacity === undefined ? "" : `${formatSize(d.capacity)} (${(d.allocation! / 1024 ** 3).toFixed(1)}G used)  `;
    ctx.io.out(`${row.hostname} on ${host}`);
    for (const [k, v] of [
        ["state", `${stateText(row)}; wanted: ${row.desired}`],
        ["login", row.ssh ?? "unknown (no tailnet name and no address yet)"],
        ["ip", row.ip ?? "-"],
        ["size", `${row.memory} MiB memory, ${row.cpus} vCPUs`],
        [
            "purge",
            row.purge
                ? `PENDING: removing this project deletes its project disk ('${ctx.command(host, "start", name)}' clears it)`
                : "no: the project disk is kept when the project goes",
        ],
        ["project", `${size(disks.project)}${disks.project.path} → /home/${GUEST_USER}/project (entry says ${row.disk})`],
        ["system", `${size(disks.system)}${disks.system.path}${row.base ? ` (base ${row.base})` : ""}`],
        [
            "cloud-init",
            cloudInit
                ? `${cloudInit.status}${cloudInit.errors.length ? `: ${cloudInit.errors.join("; ")}` : ""}`
                : row.state !== null && row.state !== "running"
                  ? "- (asked of the guest while it runs)"
                  : "unknown",
        ],
    ])
        ctx.io.out(`  ${`${k}:`.padEnd(12)}${v}`);
}

/** cloud-init's JSON status (it exits 1 on error and 2 on warnings, with the same JSON). */
export function parseCloudInitStatus(r: GuestResult): NonNullable<ProjectStatus["cloudInit"]> {
    try {
        const s = JSON.parse(r.stdout);
        const errors = [...(Array.isArray(s.errors) ? s.errors : [])].map(String);
        return { status: String(s.extended_status ?? s.status ?? "unknown"), detail: s.detail ? String(s.detail) : undefined, errors };
    } catch {
        throw new LibvirtUnavailable(
            `cloud-init status said: ${(r.stderr || r.stdout).trim().split("\n")[0] || `nothing (exit ${r.code})`}`,
        );
    }
}

/** `project-vm status <name> [--json]`. */
export const declareStatus: Declare = (program, f) => {
    program
        .command("status")
        .description("one project: power state, addresses, disks, cloud-init status")
        .argument("<name>", "project name")
        .option("--json", "JSON")
        .action(async (name: string, o, c: Command) => {
            const w = f.where(c);
            await status(w.ctx, w.host(), name, o);
        });
};
