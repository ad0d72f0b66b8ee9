// power.sh, grow-disk.sh and pool.sh against the stand-in virsh: stopping and starting a VM, growing its project disk, its pool.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { hostScript } from "../components/hostCommands";
import { FakeHost } from "./support/fakeVirsh";

/**
 * A fake host for power.sh, grow-disk.sh and pool.sh: the stand-in virsh with domain project-myapp
 * (state `domstate`, none when left out; its project disk vdb is project-myapp/project.qcow2) whose
 * guest shuts down `acpiPolls` domstate calls after an ACPI shutdown ("never": it ignores it).
 * `sleep` is a no-op, so a timeout costs no time.
 */
function fakeHost(setup: { domstate?: string; acpiPolls?: number | "never" } = {}) {
    const host = new FakeHost("project-myapp").noSleep();
    if (setup.domstate) {
        host.define("project-myapp", {
            state: setup.domstate,
            acpi: setup.acpiPolls ?? "never",
            blkDetails: " file  disk  vda  /pools/project-myapp/disk.qcow2\n file  disk  vdb  /pools/project-myapp/project.qcow2\n",
        });
    }
    return {
        dir: host.dir,
        run(script: string, fn: string, env: Record<string, string>) {
            host.clearCalls();
            return spawnSync("bash", ["-c", hostScript(script, fn)], {
                encoding: "utf8",
                env: { ...host.env(), LIBVIRT_URI: "qemu:///system", ...env },
                timeout: 30_000,
            });
        },
        /** The virsh calls of the last run (reads of the state, domstate and the domain list, left out unless asked). */
        calls: (withPolls = false): string[] =>
            host.calls().filter((l) => withPolls || !(l.startsWith("domstate") || l === "list --all --name")),
        domstate: () => host.stateOf() ?? "",
        /** Writes a volume of `bytes` into pool `pool`. */
        volume: (pool: string, name: string, bytes: number) => host.volume(pool, name, bytes),
        size: (pool: string, name: string) => host.size(pool, name)?.capacity ?? NaN,
        poolExists: (pool: string) => host.poolDefined(pool) || fs.existsSync(path.join(host.dir, "pools", pool)),
    };
}

test("power.sh stops a VM by ACPI shutdown and waits; it does not force it off while the guest shuts down", () => {
    const host = fakeHost({ domstate: "running", acpiPolls: 3 });
    const r = host.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: "stopped", SHUTDOWN_TIMEOUT: "180" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(host.calls(), ["shutdown project-myapp --mode acpi"], "ACPI only: no destroy");
    assert.equal(host.domstate(), "shut off");
    assert.match(r.stderr, /shutting down project-myapp \(ACPI; forced off after 180s\)/);
    assert.match(r.stderr, /project-myapp shut down after \d+s/);
    assert.equal(r.stdout.trim(), "stopped");
});

test("power.sh forces a VM off only after the ACPI timeout, pressing the button again every 20 s", () => {
    const host = fakeHost({ domstate: "running", acpiPolls: "never" });
    const r = host.run("power.sh", "power_stop", { DOMAIN: "project-myapp", SHUTDOWN_TIMEOUT: "60" });
    assert.equal(r.status, 0, r.stderr);
    const calls = host.calls(true);
    assert.deepEqual(
        calls.filter((c) => !c.startsWith("domstate")),
        [
            "shutdown project-myapp --mode acpi",
            "shutdown project-myapp --mode acpi",
            "shutdown project-myapp --mode acpi",
            "destroy project-myapp",
        ],
        "ACPI at 0, 20 and 40 s; destroy last",
    );
    assert.equal(calls.filter((c) => c.startsWith("domstate")).length, 1 + 30, "polled every 2 s for the whole 60 s before forcing it off");
    assert.match(r.stderr, /did not shut down within 60s: forcing it off/);
    assert.equal(host.domstate(), "shut off");
});

test("power.sh leaves a VM already in the desired state alone, and starts a stopped one", () => {
    for (const [domstate, desired] of [
        ["shut off", "stopped"],
        ["running", "running"],
    ]) {
        const host = fakeHost({ domstate, acpiPolls: 0 });
        const r = host.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: desired });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(host.calls(), [], `${domstate} → ${desired}: nothing done`);
        assert.equal(host.domstate(), domstate);
    }
    const gone = fakeHost();
    const r = gone.run("power.sh", "power_stop", { DOMAIN: "project-myapp" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(gone.calls(), [], "no domain: nothing to stop");

    const off = fakeHost({ domstate: "shut off" });
    const start = off.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: "running" });
    assert.equal(start.status, 0, start.stderr);
    assert.deepEqual(off.calls(), ["start project-myapp"]);
    assert.equal(off.domstate(), "running");
});

test("power.sh never takes a VM whose state libvirt cannot give for one that is off: stopping it fails, nothing done", () => {
    const host = fakeHost({ domstate: "running", acpiPolls: 0 });
    fs.writeFileSync(path.join(host.dir, "fails", "domstate"), "error: Cannot recv data: Connection reset by peer\n");
    for (const desired of ["stopped", "running"]) {
        const r = host.run("power.sh", "power_apply", { DOMAIN: "project-myapp", DESIRED: desired });
        assert.equal(r.status, 1, desired);
        assert.match(r.stderr, /could not read the state of project-myapp from libvirt/);
        assert.deepEqual(host.calls(), [], `${desired}: nothing done`);
    }
});

const G = 1024 ** 3;
const growEnv = (size: number) => ({
    POOL: "project-myapp",
    VOLUME: "project.qcow2",
    SIZE: String(size),
    DOMAIN: "project-myapp",
    TARGET: "vdb",
    CONFIG_KEY: "disk of project myapp (project-vms:projects)",
});

test("grow-disk.sh refuses to shrink a project disk, naming the project, and changes nothing", () => {
    for (const domstate of ["running", "shut off"]) {
        const host = fakeHost({ domstate });
        host.volume("project-myapp", "project.qcow2", 100 * G);
        const r = host.run("grow-disk.sh", "disk_grow", growEnv(50 * G));
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /refusing to shrink the project disk project\.qcow2 of project-myapp from 100G to 50G/);
        assert.match(r.stderr, /Set disk of project myapp \(project-vms:projects\) to 100G or more/);
        assert.deepEqual(
            host.calls().filter((c) => !c.startsWith("vol-info")),
            [],
            `${domstate}: no resize`,
        );
        assert.equal(host.size("project-myapp", "project.qcow2"), 100 * G);
        assert.equal(r.stdout, "");
    }
});

test("grow-disk.sh says so when the project disk is missing", () => {
    const host = fakeHost({ domstate: "running" });
    const r = host.run("grow-disk.sh", "disk_grow", growEnv(50 * G));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no volume project\.qcow2 in pool project-myapp/);
});

test("grow-disk.sh grows with blockresize while the VM runs and vol-resize while it is off; an equal size is left alone", () => {
    const live = fakeHost({ domstate: "running" });
    live.volume("project-myapp", "project.qcow2", 100 * G);
    const r = live.run("grow-disk.sh", "disk_grow", growEnv(200 * G));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
        live.calls().filter((c) => !c.startsWith("vol-info")),
        [`blockresize project-myapp vdb --size ${200 * G}B`],
    );
    assert.equal(live.size("project-myapp", "project.qcow2"), 200 * G);
    assert.match(r.stderr, /grew the project disk of project-myapp from 100G to 200G \(live\)/);
    assert.equal(r.stdout.trim(), String(200 * G));

    const off = fakeHost({ domstate: "shut off" });
    off.volume("project-myapp", "project.qcow2", 100 * G);
    const o = off.run("grow-disk.sh", "disk_grow", growEnv(150 * G));
    assert.equal(o.status, 0, o.stderr);
    assert.deepEqual(
        off.calls().filter((c) => !c.startsWith("vol-info")),
        [`vol-resize --pool project-myapp project.qcow2 ${150 * G}B`],
    );
    assert.equal(off.size("project-myapp", "project.qcow2"), 150 * G);

    const same = off.run("grow-disk.sh", "disk_grow", growEnv(150 * G));
    assert.equal(same.status, 0, same.stderr);
    assert.deepEqual(
        off.calls().filter((c) => !c.startsWith("vol-info")),
        [],
    );
});

const poolEnv = (purge: boolean) => ({ POOL: "project-myapp", POOL_DIR: "/var/lib/project-vms/myapp", PURGE: String(purge) });

test("pool.sh makes a pool idempotently, and refuses one found at another folder", () => {
    const host = fakeHost();
    const first = host.run("pool.sh", "pool_ensure", poolEnv(false));
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(
        host
            .calls()
            .map((c) => c.split(" ")[0])
            .filter((c) => c !== "pool-info" && c !== "pool-dumpxml"),
        ["pool-define-as", "pool-build", "pool-start", "pool-autostart", "pool-refresh"],
    );
    assert.equal(first.stdout.trim(), "project-myapp");
    const again = host.run("pool.sh", "pool_ensure", poolEnv(false));
    assert.equal(again.status, 0, again.stderr);
    assert.ok(!host.calls().some((c) => /^pool-(define|build|start)/.test(c)), "an existing running pool is taken up as it is");

    const elsewhere = host.run("pool.sh", "pool_ensure", { ...poolEnv(false), POOL_DIR: "/srv/other" });
    assert.notEqual(elsewhere.status, 0);
    assert.match(elsewhere.stderr, /pool project-myapp already exists at \/var\/lib\/project-vms\/myapp, not at \/srv\/other/);
});

test("pool.sh keeps a pool that was not purged, with its volumes; deletes a purged empty one, once", () => {
    const host = fakeHost();
    assert.equal(host.run("pool.sh", "pool_ensure", poolEnv(false)).status, 0);
    host.volume("project-myapp", "project.qcow2", 100 * G);

    const kept = host.run("pool.sh", "pool_remove", poolEnv(false));
    assert.equal(kept.status, 0, kept.stderr);
    assert.deepEqual(host.calls(), [], "not purged: virsh is not even asked");
    assert.ok(host.poolExists("project-myapp"));
    assert.equal(host.size("project-myapp", "project.qcow2"), 100 * G);
    assert.match(kept.stderr, /keeping pool project-myapp/);

    const full = host.run("pool.sh", "pool_remove", poolEnv(true));
    assert.notEqual(full.status, 0, "purged, but a volume is still in it");
    assert.match(full.stderr, /pool project-myapp still holds: project\.qcow2/);
    assert.ok(!host.calls().some((c) => /^pool-(destroy|delete|undefine)/.test(c)));
    assert.equal(host.size("project-myapp", "project.qcow2"), 100 * G);

    fs.rmSync(path.join(host.dir, "pools", "project-myapp", "project.qcow2"));
    const purged = host.run("pool.sh", "pool_remove", poolEnv(true));
    assert.equal(purged.status, 0, purged.stderr);
    assert.deepEqual(
        host
            .calls()
            .map((c) => c.split(" ")[0])
            .filter((c) => /^pool-(destroy|delete|undefine)$/.test(c)),
        ["pool-destroy", "pool-delete", "pool-undefine"],
    );
    assert.ok(!host.poolExists("project-myapp"));
    const twice = host.run("pool.sh", "pool_remove", poolEnv(true));
    assert.equal(twice.status, 0, twice.stderr);
    assert.deepEqual(host.calls(), ["pool-info project-myapp"], "already gone: nothing to do");
});
