// host-scripts/prepare-base.sh against a stand-in virsh: a layer on the host is taken as it is; a
// new one is built, sealed, flattened; a failing builder fails with cloud-init's failing step and
// leaves neither the builder nor a layer behind. (the engine suite runs it through the program on a real libvirtd; e2e/prepare.bench.ts on its own.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { builderShapeEnv, cpuXml, DOMAIN_MACHINE } from "../components/domainShape";
import { hostScript } from "../components/hostCommands";
import { renderRecipe, PREPARED_BYTES } from "../components/prepare";
import { FakeDomain, FakeHost } from "./support/fakeVirsh";
import { requireTool } from "./support/tools";

const recipe = renderRecipe({ features: { nix: true, tailscale: false, claudeCode: false }, aptCheckValidUntil: true });
const layer = `debian-testing-2026-11-prepared-${recipe.hash}.qcow2`;
const marker = layer.replace(/\.qcow2$/, ".done");
/** The builder is named after the layer (base and recipe). */
const builder = `project-vms-builder-${createHash("sha256").update(layer).digest("hex").slice(0, 12)}`;

const POOL = "project-vms-base";
const BASE = "debian-testing-2026-11.qcow2";
/** Where the stand-in virsh says a volume of the pool is. */
const at = (volume: string) => `/pools/${POOL}/${volume}`;

/**
 * Runs prepare_base against the stand-in virsh: pool project-vms-base holding the base, `setup`
 * adding to it; `guest` is what the builder's guest answers (by default cloud-init finishes).
 */
function run(setup: (host: FakeHost) => void, env: Record<string, string> = {}, guest: FakeDomain = {}) {
    const host = new FakeHost(builder).noSleep();
    host.pool(POOL, "/var/lib/project-vms/base");
    host.volume(POOL, BASE, 3 * 1024 ** 3);
    host.newDomains({ cloudInitText: "status: done\n", cloudInitCode: 0, instanceId: recipe.instanceId, ...guest });
    setup(host);
    try {
        const r = spawnSync("bash", ["-c", hostScript("prepare-base.sh", "prepare_base", ["ready.sh"])], {
            encoding: "utf8",
            env: {
                ...host.env(),
                LIBVIRT_URI: "qemu:///system",
                POOL,
                BASE_VOLUME: BASE,
                PREPARED_VOLUME: layer,
                USER_DATA: recipe.userData,
                META_DATA: recipe.metaData,
                INSTANCE_ID: recipe.instanceId,
                BUILDER_NETWORK: "network:project-vms",
                PREPARED_BYTES: String(PREPARED_BYTES),
                BUILD_TIMEOUT: "60",
                ...builderShapeEnv(),
                ...env,
            },
            timeout: 60_000,
        });
        return {
            status: r.status,
            stdout: r.stdout.trim(),
            stderr: r.stderr,
            vols: host.volumes(POOL),
            calls: host.calls().join("\n"),
            xml: host.domainFile(builder, "xml") ?? "",
            running: host.stateOf(builder) === "running",
        };
    } finally {
        host.cleanup();
    }
}

/** A volume of the pool, as a finished build leaves it. */
const made = (host: FakeHost, volume: string) => host.volume(POOL, volume, 1024);

const tools = (t: { skip(r: string): void }) =>
    requireTool("jq", "jq", (r) => t.skip(r)) && requireTool("genisoimage", "genisoimage", (r) => t.skip(r));

test("a layer already on the host is taken as it is: no builder", (t) => {
    if (!tools(t)) return;
    const r = run((host) => {
        made(host, layer);
        made(host, marker);
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, at(layer));
    assert.match(r.stderr, /is there already/);
    assert.doesNotMatch(r.calls, /^create /m);
});

test("a new layer: builder on an overlay of the base with the recipe's seed, ready, sealed, flattened, builder gone", (t) => {
    if (!tools(t)) return;
    const r = run(() => undefined);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, at(layer), "the layer's path: what system disks take as their base");
    assert.deepEqual(r.vols, [layer, marker, BASE].sort(), "only the base, the new layer and its completion marker remain");
    assert.match(
        r.calls,
        new RegExp(
            `vol-create-as project-vms-base ${builder}\\.qcow2 ${PREPARED_BYTES} --format qcow2 --backing-vol debian-testing-2026-11\\.qcow2 --backing-vol-format qcow2`,
        ),
    );
    assert.match(r.calls, /guest-exec.*seal\.sh[\s\S]*\nshutdown /, "sealed through the guest agent, then shut down by the host");
    assert.match(
        r.calls,
        new RegExp(`vol-create-from project-vms-base \\S+ ${builder}\\.qcow2 --inputpool project-vms-base`),
        "flattened from the builder's disk",
    );
    assert.match(r.xml, new RegExp(`<name>${builder}</name>`));
    assert.match(r.xml, /<domain type='qemu'>/, "emulation where libvirt offers no KVM");
    assert.ok(
        r.xml.includes(`machine='${DOMAIN_MACHINE}'`) && r.xml.includes(cpuXml("qemu")),
        "the program's machine type and emulated CPU",
    );
    assert.match(r.xml, /<source network='project-vms'\/>/);
    assert.match(r.xml, /org\.qemu\.guest_agent\.0/);
    assert.match(r.xml, /discard='unmap'/);
    assert.match(r.stderr, /prepared layer .* built in \d+s/);
});

test("a failing builder fails with cloud-init's failing step, and leaves neither builder nor layer", (t) => {
    if (!tools(t)) return;
    const r = run(
        () => undefined,
        {},
        {
            cloudInitCode: 1,
            cloudInitText: "status: error\nerrors:\n\t- Failed to run module scripts-user\n",
            log: ["project-vms[nix-install]: FAILED (exit 7) at line 14: curl"],
        },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /provisioning FAILED/);
    assert.match(r.stderr, /project-vms\[nix-install\]: FAILED \(exit 7\) at line 14: curl/, "the failing step, named");
    assert.deepEqual(r.vols, [BASE], "the builder's volumes are gone, and no layer was made");
    assert.equal(r.running, false, "the builder is destroyed");
});

test("a builder that could not be sealed makes no layer: its identities would be every VM's", (t) => {
    if (!tools(t)) return;
    const r = run(() => undefined, {}, { sealCode: 1 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /sealing failed/);
    assert.deepEqual(r.vols, [BASE], "neither a layer nor its marker, and the builder's disk gone");
    assert.equal(r.running, false, "the builder is destroyed");
});

test("a base image that is not in the pool is named, and no builder is made", (t) => {
    if (!tools(t)) return;
    const r = run((host) => fs.rmSync(path.join(host.dir, "pools", POOL, BASE)));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /base image volume debian-testing-2026-11\.qcow2 is not in pool project-vms-base/);
    assert.deepEqual(r.vols, []);
    assert.doesNotMatch(r.calls, /^create /m);
});

test("a failed copy leaves no half-made layer that a later run would take as done", (t) => {
    if (!tools(t)) return;
    // The copy fails part-way: the layer's volume is there, half written.
    const r = run((host) => host.errsAfter("vol-create-from", "error: copy failed"));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /could not write /);
    assert.deepEqual(r.vols, [BASE]);
});

test("a layer without its completion marker is neither taken nor deleted: the run stops and says what to do", (t) => {
    if (!tools(t)) return;
    const r = run((host) => made(host, layer));
    assert.notEqual(r.status, 0);
    assert.match(
        r.stderr,
        /without its completion marker .*: a build was interrupted while writing it \(no build holds its lock now\)\. VMs may rest on it, so it is not deleted here: if none does, delete it \('virsh -c qemu:\/\/\/system vol-delete --pool project-vms-base /,
    );
    assert.doesNotMatch(
        r.calls,
        new RegExp(`vol-delete --pool project-vms-base ${layer.replace(/\./g, "\\.")}|^create `, "m"),
        "VMs may be built on it: it is not deleted, nothing is built",
    );
    assert.deepEqual(r.vols, [layer, BASE].sort());
});

test("the pool cannot be listed: nothing is decided, built or deleted", (t) => {
    if (!tools(t)) return;
    const r = run((host) => {
        made(host, layer);
        host.fails("vol-list", "error: cannot recv data");
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /could not list the volumes of pool project-vms-base/);
    assert.doesNotMatch(r.calls, /vol-delete|^create /m);
});

test("a marker left by a layer that is gone is removed before the build, so an interrupted copy never counts", (t) => {
    if (!tools(t)) return;
    const r = run((host) => {
        made(host, marker);
        host.errsAfter("vol-create-from", "error: copy failed");
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /removing the completion marker .* of a layer that is gone/);
    assert.deepEqual(r.vols, [BASE], "neither the stale marker nor the half-made layer is left");
});

test("refuses a layer name that is not <base>-prepared-<12 hex>.qcow2, and a network it does not know", (t) => {
    if (!tools(t)) return;
    const bad = run(() => undefined, { PREPARED_VOLUME: "x'/><evil/>.qcow2" });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /is not <base>-prepared-<12 hex>\.qcow2/);
    assert.equal(bad.calls.includes("create"), false);
    const net = run(() => undefined, { BUILDER_NETWORK: "vde:x" });
    assert.notEqual(net.status, 0);
    assert.match(net.stderr, /BUILDER_NETWORK must be network:<name>, bridge:<name> or user/);
    assert.deepEqual(net.vols, [BASE], "nothing left behind");
});

/** A lock file's holder line: `<host> <pid> <boot id> <deadline>`. */
function holder(pid: number, deadline = Math.floor(Date.now() / 1000) + 3600, host = os.hostname()): string {
    const boot = fs.existsSync("/proc/sys/kernel/random/boot_id") ? fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() : "-";
    return `${host} ${pid} ${boot} ${deadline}\n`;
}

test("a build of the layer running elsewhere is waited for and never touched: no builder removed, no second builder", (t) => {
    if (!tools(t)) return;
    const r = run((host) => host.upload(POOL, `${builder}.lock`, holder(process.pid)), { PREPARE_LOCK_WAIT: "30" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`waiting for the build of ${layer} that holds its lock \\(${os.hostname()} ${process.pid} `));
    assert.match(
        r.stderr,
        new RegExp(
            `another build of ${layer} holds its lock \\(${builder}\\.lock in pool project-vms-base: .*\\) after 30s\\. If no build runs, delete it`,
        ),
    );
    assert.doesNotMatch(r.calls, /^(destroy|create|vol-delete) /m, "the other build's builder, volumes and lock are left alone");
    assert.ok(r.vols.includes(`${builder}.lock`));
});

test("a build that waited finds the layer completed by the other: it takes it without building", (t) => {
    if (!tools(t)) return;
    // The other build finishes while this one waits: its layer and marker appear at the second listing.
    const r = run((host) => {
        host.upload(POOL, `${builder}.lock`, holder(process.pid));
        const vol = (v: string) => path.join(host.dir, "pools", POOL, v);
        fs.writeFileSync(
            path.join(host.bin, "sleep"),
            `#!/bin/sh\necho "1024 0 - v3" > "${vol(layer)}"; echo "512 0 - v3" > "${vol(marker)}"\n`,
            { mode: 0o755 },
        );
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, at(layer));
    assert.match(r.stderr, /was completed by the other build/);
    assert.doesNotMatch(r.calls, /^(destroy|create|vol-delete) /m);
});

test("a lock left by a build that is gone is taken over: the layer is built, and the lock is gone after", (t) => {
    if (!tools(t)) return;
    const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    for (const [why, line] of [
        ["a process of this boot that ended", holder(Number(dead))],
        ["another machine's, past its deadline", holder(4242, 1000, "otherhost")],
    ]) {
        const r = run((host) => host.upload(POOL, `${builder}.lock`, line));
        assert.equal(r.status, 0, `${why}: ${r.stderr}`);
        assert.match(r.stderr, /taking over the build of .*: its lock names a build that is gone/, why);
        assert.deepEqual(r.vols, [layer, marker, BASE].sort(), `${why}: built, and the lock removed`);
    }
});

test("another machine's build within its deadline is waited for", (t) => {
    if (!tools(t)) return;
    const r = run((host) => host.upload(POOL, `${builder}.lock`, holder(4242, Math.floor(Date.now() / 1000) + 600, "otherhost")), {
        PREPARE_LOCK_WAIT: "10",
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /another build of .* holds its lock .*otherhost 4242/);
});

test("the build's lock is released whatever happens: after a success and after a failing builder", (t) => {
    if (!tools(t)) return;
    const ok = run(() => undefined);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(
        ok.calls,
        new RegExp(`^vol-create-as project-vms-base ${builder}\\.lock 512 --format raw$`, "m"),
        "the lock is taken before the builder is made",
    );
    assert.ok(ok.calls.indexOf(`${builder}.lock`) < ok.calls.indexOf(`vol-create-as project-vms-base ${builder}.qcow2`));
    assert.ok(!ok.vols.includes(`${builder}.lock`));
    const failed = run(() => undefined, {}, { cloudInitCode: 1, cloudInitText: "status: error\n" });
    assert.notEqual(failed.status, 0);
    assert.deepEqual(failed.vols, [BASE], "no lock, no builder, no layer");
});

test("a stale lock taken over by another build between our read and our delete is left to that build", (t) => {
    if (!tools(t)) return;
    const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    const r = run(
        (host) => {
            host.upload(POOL, `${builder}.lock`, holder(Number(dead)));
            // Right after our first read of the stale holder, another build takes the lock over.
            host.after(
                "vol-download",
                `printf '%s' '${holder(process.pid).trim()}' > "${path.join(host.dir, "content", POOL, `${builder}.lock`)}"\n`,
            );
        },
        { PREPARE_LOCK_WAIT: "20" },
    );
    assert.doesNotMatch(r.calls, /^create /m, "no second builder while the other build holds the lock");
    assert.doesNotMatch(r.stderr, /taking over/);
    assert.match(r.stderr, /another build of .* holds its lock/);
});
