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
