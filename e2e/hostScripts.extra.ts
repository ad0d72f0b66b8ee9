// The host scripts (pool, grow, power) against a real libvirtd: what the program's commands do to
// a host, including a graceful ACPI shutdown of a real guest. Needs root and a running libvirtd
// (.ci/run starts one); every pool, volume and domain it makes has a unique name and is removed.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { hostScript } from "../components/hostCommands";
import { libvirtReachable, requireTool } from "../test/support/tools";
import { virshOnPath } from "../cli/libvirt";
import { main } from "../cli/main";
import { World } from "../test/support/cli";
import { baseImage } from "./image";
import { guestDomainXml, seedIso } from "./libvirtGuest";

const URI = process.env.PROJECT_VMS_E2E_LIBVIRT_URI ?? "qemu:///system";
const id = randomBytes(3).toString("hex");
const root = `/var/lib/project-vms-e2e-${id}`;

function virsh(...args: string[]): string {
    return execFileSync("virsh", ["-q", "-c", URI, ...args], { encoding: "utf8" }).trim();
}

/** Runs `fn` of a host script with `env`; returns its exit status, stdout and stderr. */
function host(script: string, fn: string, env: Record<string, string>) {
    const r = spawnSync("bash", ["-c", hostScript(script, fn)], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, LIBVIRT_URI: URI, ...env },
        timeout: 10 * 60_000,
    });
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

const cleanups: Array<() => void> = [];
after(() => {
    if (process.env.PROJECT_VMS_E2E_KEEP) return;
    for (const c of cleanups.reverse()) {
        try {
            c();
        } catch {
            /* best effort */
        }
    }
    fs.rmSync(root, { recursive: true, force: true });
});

describe("pool.sh and grow-disk.sh on a real libvirtd", () => {
    const pool = `pvms-e2e-${id}`;
    const dir = `${root}/myapp`;
    let ok = false;
    before(() => {
        ok = spawnSync("virsh", ["-c", URI, "version"]).status === 0;
    });
    cleanups.push(() => {
        spawnSync("virsh", ["-c", URI, "pool-destroy", pool]);
        spawnSync("virsh", ["-c", URI, "pool-undefine", pool]);
    });

    test("a pool is made once and taken up again; it is kept unless purged, and never deleted while it holds a disk", (t) => {
        if (!libvirtReachable(URI, (r) => t.skip(r)) || !ok) return;
        const env = { POOL: pool, POOL_DIR: dir };
        assert.equal(host("pool.sh", "pool_ensure", env).stdout, pool);
        assert.equal(host("pool.sh", "pool_ensure", env).status, 0, "idempotent");
        assert.match(virsh("pool-info", pool), /State:\s+running/);
        assert.match(virsh("pool-info", pool), /Autostart:\s+yes/);
        assert.ok(fs.statSync(dir).isDirectory());

        const elsewhere = host("pool.sh", "pool_ensure", { POOL: pool, POOL_DIR: `${root}/other` });
        assert.notEqual(elsewhere.status, 0);
        assert.match(elsewhere.stderr, /already exists at .*myapp, not at .*other/);

        virsh("vol-create-as", pool, "project.qcow2", "1G", "--format", "qcow2");
        const kept = host("pool.sh", "pool_remove", { ...env, PURGE: "false" });
        assert.equal(kept.status, 0);
        assert.match(kept.stderr, /keeping pool/);
        assert.ok(fs.existsSync(`${dir}/project.qcow2`));

        const refused = host("pool.sh", "pool_remove", { ...env, PURGE: "true" });
        assert.notEqual(refused.status, 0, "a purge never deletes a disk the program did not delete");
        assert.match(refused.stderr, /still holds: project\.qcow2/);
        assert.ok(fs.existsSync(`${dir}/project.qcow2`));
    });

    test("a disk grows in place, keeps its content, and is never shrunk", (t) => {
        if (!libvirtReachable(URI, (r) => t.skip(r)) || !ok) return;
        const file = `${dir}/project.qcow2`;
        execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 1M", file], { stdio: "ignore" });
        const env = {
            POOL: pool,
            VOLUME: "project.qcow2",
            DOMAIN: `pvms-e2e-none-${id}`,
            TARGET: "vdb",
            CONFIG_KEY: "disk of project myapp (project-vms:projects)",
        };
        const grown = host("grow-disk.sh", "disk_grow", { ...env, SIZE: String(3 * 1024 ** 3) });
        assert.equal(grown.status, 0, grown.stderr);
        assert.match(grown.stderr, /grew the project disk .* from 1G to 3G/);
        assert.match(execFileSync("qemu-img", ["info", file], { encoding: "utf8" }), /virtual size: 3 GiB/);
        assert.match(
            execFileSync("qemu-io", ["-f", "qcow2", "-c", "read -P 0x5a 0 1M", file], { encoding: "utf8" }),
            /read 1048576\/1048576 bytes/,
            "content intact",
        );

        assert.equal(host("grow-disk.sh", "disk_grow", { ...env, SIZE: String(3 * 1024 ** 3) }).status, 0, "unchanged size: nothing to do");
        const shrink = host("grow-disk.sh", "disk_grow", { ...env, SIZE: String(2 * 1024 ** 3) });
        assert.notEqual(shrink.status, 0);
        assert.match(
            shrink.stderr,
            /refusing to shrink the project disk project\.qcow2 .* from 3G to 2G: that would destroy data\. Set disk of project myapp \(project-vms:projects\) to 3G or more/,
        );
        assert.match(execFileSync("qemu-img", ["info", file], { encoding: "utf8" }), /virtual size: 3 GiB/);

        virsh("vol-delete", "--pool", pool, "project.qcow2");
        const purged = host("pool.sh", "pool_remove", { POOL: pool, POOL_DIR: dir, PURGE: "true" });
        assert.equal(purged.status, 0, purged.stderr);
        assert.ok(!fs.existsSync(dir), "a purged pool takes its empty folder along");
        assert.equal(spawnSync("virsh", ["-c", URI, "pool-info", pool]).status, 1);
    });
});

describe("ready.sh and power.sh on a real guest", () => {
    // Named as the program names a project's VM, so that project-vm reads it as one.
    const project = `pvmse2e${id}`;
    const domain = `project-${project}`;
    cleanups.push(() => {
        spawnSync("virsh", ["-c", URI, "destroy", domain]);
        spawnSync("virsh", ["-c", URI, "undefine", domain]);
    });

    test(
        "ready fails with the failing step, reboots the VM into a fixed config and says ready; stop shuts it down through ACPI; start starts it",
        { timeout: 30 * 60_000 },
        async (t) => {
            if (!libvirtReachable(URI, (r) => t.skip(r))) return;
            for (const [tool, pkg] of [
                ["mmdebstrap", "mmdebstrap"],
                ["qemu-img", "qemu-utils"],
                ["genisoimage", "genisoimage"],
                ["jq", "jq"],
            ]) {
                if (!requireTool(tool, pkg, (r) => t.skip(r))) return;
            }
            const base = baseImage((line) => console.log(`e2e image: ${line}`));
            // libvirt runs QEMU as its own user: give it copies it can read.
            const dir = `${root}/guest`;
            fs.mkdirSync(dir, { recursive: true });
            fs.copyFileSync(base.kernel, path.join(dir, "kernel"));
            fs.copyFileSync(base.initrd, path.join(dir, "initrd"));
            fs.copyFileSync(base.disk, path.join(dir, "base.qcow2"));
            execFileSync("qemu-img", [
                "create",
                "-q",
                "-f",
                "qcow2",
                "-b",
                path.join(dir, "base.qcow2"),
                "-F",
                "qcow2",
                path.join(dir, "disk.qcow2"),
                "4G",
            ]);
            const serial = path.join(dir, "serial.log");
            const apt = { conf: 'Acquire::Check-Valid-Until "false";\n' };
            // A provisioning step that fails, after the guest agent is installed (as ours are).
            // As the renderer writes runcmd: `set -e` first, so that a failing step that is not the
            // last still fails cloud-init (runcmd is one sh script: only its last status would count).
            const failing = seedIso(
                dir,
                "failing",
                {
                    apt,
                    packages: ["qemu-guest-agent"],
                    runcmd: [
                        "set -e",
                        ["sh", "-c", "echo 'project-vms[demo]: FAILED (exit 3) at line 1: false'; exit 3"],
                        ["sh", "-c", "echo 'project-vms[demo]: a later step that succeeds'"],
                    ],
                },
                "i-failing",
            );
            fs.writeFileSync(
                path.join(dir, "domain.xml"),
                guestDomainXml({ name: domain, dir, iso: failing, serial, mac: "52:54:00:0e:2e:01" }),
            );
            virsh("define", path.join(dir, "domain.xml"));
            const power = { DOMAIN: domain, SHUTDOWN_TIMEOUT: "300" };
            const ready = { DOMAIN: domain, READY_TIMEOUT: "1200" };

            let started = Date.now();
            const start = host("power.sh", "power_apply", { ...power, DESIRED: "running" });
            assert.equal(start.status, 0, start.stderr);
            assert.equal(start.stdout, "running");
            assert.equal(virsh("domstate", domain), "running");

            const failed = host("ready.sh", "ready_wait", { ...ready, INSTANCE_ID: "i-failing" });
            console.log(`e2e timing: ready.sh on a failing guest: ${((Date.now() - started) / 1000).toFixed(1)}s`);
            assert.notEqual(failed.status, 0, "a failed provisioning fails pulumi up");
            assert.match(failed.stderr, /provisioning FAILED/);
            assert.match(failed.stderr, /status: error/, "cloud-init's own account");
            assert.match(failed.stderr, /project-vms\[demo\]: FAILED \(exit 3\) at line 1: false/, "the tail of cloud-init-output.log");
            assert.doesNotMatch(failed.stderr, /a later step that succeeds/, "set -e: the failing step ended the script");

            // The fix: new user-data swapped in live, as the provider swaps the cloud-init CD; the next
            // pulumi up runs ready.sh with the new instance-id, which reboots the failed VM to apply it.
            const fixed = seedIso(dir, "fixed", { apt, runcmd: [["sh", "-c", "echo provisioning ok"]] }, "i-fixed");
            virsh("change-media", domain, "hdd", fixed, "--live", "--config");
            started = Date.now();
            const ok = host("ready.sh", "ready_wait", { ...ready, INSTANCE_ID: "i-fixed" });
            console.log(
                `e2e timing: ready.sh rebooting a failed guest into its fixed config: ${((Date.now() - started) / 1000).toFixed(1)}s`,
            );
            assert.equal(ok.status, 0, ok.stderr);
            assert.match(ok.stderr, /failed provisioning as i-failing; rebooting it to provision as i-fixed/);
            assert.equal(ok.stdout, "ready");

            // What project-vm status and logs read from this guest, with the real virsh.
            const w = new World(["storage"]);
            cleanups.push(() => w.cleanup());
            w.writeStack(
                "storage",
                w
                    .stackText("storage")
                    .replace("qemu+ssh://admin@storage/system", URI)
                    .replace(
                        "    - name: webapp",
                        `    - name: webapp\n    - name: ${project}\n      memory: 1536\n      features:\n        tailscale: false`,
                    ),
            );
            const deps = { ...w.deps(), virsh: virshOnPath };
            assert.equal(await main(["status", project, "--json"], deps), 0, w.errText());
            const status = JSON.parse(w.out.join("\n"));
            assert.equal(status.state, "running");
            assert.match(status.cloudInit.status, /^done/, JSON.stringify(status.cloudInit));
            assert.deepEqual(status.cloudInit.errors, []);
            assert.match(status.ip, /^10\.0\.2\.\d+$/, "the user-mode NIC's address, from the guest agent");
            assert.equal(status.ssh, `ssh dev@${status.ip}`);
            w.out.length = 0;
            // (sshd's host key messages land in the log after cloud-init's own last lines.)
            assert.equal(await main(["logs", project, "-n", "200"], deps), 0, w.errText());
            assert.match(w.out.join("\n"), /provisioning ok[\s\S]*Cloud-init v\. .* finished at/, "the end of cloud-init-output.log");

            started = Date.now();
            const stop = host("power.sh", "power_apply", { ...power, DESIRED: "stopped" });
            assert.equal(stop.status, 0, stop.stderr);
            assert.match(stop.stderr, /shut down after \d+s/, "gracefully, not forced");
            assert.doesNotMatch(stop.stderr, /forcing it off/);
            assert.equal(virsh("domstate", domain), "shut off");
            assert.match(fs.readFileSync(serial, "utf8"), /reboot: Power down/, "the guest powered itself off");
            console.log(`e2e timing: graceful shutdown: ${((Date.now() - started) / 1000).toFixed(1)}s`);

            const again = host("power.sh", "power_apply", { ...power, DESIRED: "stopped" });
            assert.equal(again.status, 0);
            assert.match(again.stderr, /is not running/);
            assert.equal(virsh("domstate", domain), "shut off", "a stopped guest stays stopped");

            assert.equal(host("power.sh", "power_apply", { ...power, DESIRED: "running" }).status, 0);
            assert.equal(virsh("domstate", domain), "running", "start starts it");
            assert.equal(host("power.sh", "power_stop", power).status, 0);
            assert.equal(virsh("domstate", domain), "shut off");
            const gone = host("power.sh", "power_stop", { DOMAIN: `pvms-e2e-missing-${id}` });
            assert.equal(gone.status, 0, "stopping a domain that no longer exists is done");
        },
    );
});
