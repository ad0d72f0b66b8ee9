// Runs commands in a libvirt guest through its QEMU guest agent (no network to the guest needed):
// what the engine suite checks inside the program's VMs, and how the fake Tailscale API learns
// which node joined.
import { execFile } from "node:child_process";

/** The outcome of a command in the guest. */
export interface GuestResult {
    code: number;
    stdout: string;
    stderr: string;
}

function virsh(uri: string, args: string[], timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("virsh", ["-q", "-c", uri, ...args], { encoding: "utf8", timeout: timeoutMs }, (err, stdout, stderr) => {
            if (err) reject(new Error(`virsh ${args.slice(0, 2).join(" ")}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
        });
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `sh -c script` as root in `domain`'s guest; rejects when the agent cannot run it. */
export async function guestSh(uri: string, domain: string, script: string, timeoutMs = 120_000): Promise<GuestResult> {
    const request = { execute: "guest-exec", arguments: { path: "/bin/sh", arg: ["-c", script], "capture-output": true } };
    const started = JSON.parse(await virsh(uri, ["qemu-agent-command", domain, JSON.stringify(request)]));
    const pid = started?.return?.pid;
    if (typeof pid !== "number") throw new Error(`the guest agent of ${domain} did not start the command`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const status = JSON.parse(
            await virsh(uri, ["qemu-agent-command", domain, JSON.stringify({ execute: "guest-exec-status", arguments: { pid } })]),
        );
        const r = status?.return;
        if (r?.exited) {
            const text = (b64?: string) => (b64 ? Buffer.from(b64, "base64").toString("utf8") : "");
            return { code: r.exitcode ?? -1, stdout: text(r["out-data"]), stderr: text(r["err-data"]) };
        }
        if (Date.now() > deadline) throw new Error(`${domain}: '${script}' did not end within ${timeoutMs / 1000} s`);
        await sleep(500);
    }
}

/** Like guestSh, but rejects with its output unless the command succeeds; resolves to its stdout. */
export async function guestOk(uri: string, domain: string, script: string, timeoutMs?: number): Promise<string> {
    const r = await guestSh(uri, domain, script, timeoutMs);
    if (r.code !== 0) throw new Error(`${domain}: '${script}' exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
}

/** Whether the guest agent of `domain` answers a ping now. */
export async function agentAnswers(uri: string, domain: string): Promise<boolean> {
    try {
        await virsh(uri, ["qemu-agent-command", domain, '{"execute":"guest-ping"}'], 10_000);
        return true;
    } catch {
        return false;
    }
}
