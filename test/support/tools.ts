// Host tools a test needs: missing under CI is a failure, elsewhere a skip that says why.
import { spawnSync } from "node:child_process";

/** Whether `tool` is on PATH; calls `skip` (or throws under CI=true) when it is not. */
export function requireTool(tool: string, pkg: string, skip: (reason: string) => void): boolean {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0) return true;
    const reason = `${tool} is not installed (Debian package ${pkg})`;
    if (process.env.CI === "true") throw new Error(`${reason}; .ci/run must install it`);
    skip(reason);
    return false;
}

/** Whether libvirt answers at `uri` (after requireTool virsh); fails under CI=true, else skips. */
export function libvirtReachable(uri: string, skip: (reason: string) => void): boolean {
    if (!requireTool("virsh", "libvirt-clients", skip)) return false;
    if (spawnSync("virsh", ["-c", uri, "version"]).status === 0) return true;
    const reason = `libvirt at ${uri} does not answer (start virtlogd and libvirtd, as .ci/run does)`;
    if (process.env.CI === "true") throw new Error(reason);
    skip(reason);
    return false;
}
