// One change at a time per stack file: real `project-vm` processes (the built dist/cli/main.js with
// a stand-in `pulumi` on PATH) run at once on the same stack file, and each one's entry is kept;
// a command waits for a live holder (saying whom), gives up after PROJECT_VM_LOCK_WAIT, and
// takes over the lock of a holder that died.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { lockFile, lockPathOf, processStart } from "../cli/lock";
import { World } from "./support/cli";
import { FakeHost } from "./support/fakeVirsh";
import { REPO } from "./support/schemas";

const BIN = path.join(REPO, "dist", "cli", "main.js");

// A pulumi that takes a moment, as a real `pulumi up` does, and fails unless the lock is held meanwhile.
const FAKE_PULUMI = `#!/bin/bash
case "$1" in
    version) echo v3.274.1; exit 0 ;;
    up) [ -e "$LOCK" ] || { echo "pulumi up ran without the lock" >&2; exit 9; }; sleep 0.2; echo "Updating ($3)"; exit 0 ;;
    stack) echo "error: no outputs" >&2; exit 255 ;;
esac
exit 1
`;

function setup(t: { after(fn: () => void): void }) {
    assert.ok(fs.existsSync(BIN), `${BIN} is built by npm run build (npm test builds it first)`);
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    // Room for many small projects on this host.
    w.writeStack("storage", w.stackText("storage").replace(/^( {4}cpus:) 14$/m, "$1 64"));
    const bin = path.join(w.dir, ".fake-bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
    // libvirt cannot be reached.
    const host = new FakeHost();
    host.down();
    t.after(() => host.cleanup());
    const lock = lockPathOf(path.join(w.dir, "Pulumi.storage.yaml"));
    const env = (extra: Record<string, string> = {}) => ({
        PATH: `${bin}:${host.bin}:/usr/bin:/bin`,
        FAKE_VIRSH: host.dir,
        HOME: w.dir,
        LOCK: lock,
        ...extra,
    });
    const runAsync = (args: string[], extra: Record<string, string> = {}) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [BIN, ...args], { cwd: w.dir, env: env(extra), stdio: ["ignore", "ignore", "pipe"] });
            let stderr = "";
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code) => resolve({ code, stderr }));
        });
    const names = () => (parse(w.stackText("storage")).config["project-vms:projects"] as { name: string }[]).map((p) => p.name);
    return { w, runAsync, names, lock };
}

test("concurrent creates on one stack file: every entry is kept, and they say whom they wait for", async (t) => {
    const { w, runAsync, names, lock } = setup(t);
    const N = 6;
    const wanted = Array.from({ length: N }, (_, i) => `p${i}`);
    const results = await Promise.all(wanted.map((n) => runAsync(["create", "-H", "storage", n, "1024", "1"])));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `create ${wanted[i]}: ${r.stderr}`);
    for (const n of wanted) assert.ok(names().includes(n), `${n} is in the stack file: ${names().join(", ")}`);
    assert.equal(names().length, 2 + N);
    assert.ok(
        results.some((r) =>
            /project-vm: waiting for pid \d+ \(project-vm create p\d, since [^)]+\) editing Pulumi\.storage\.yaml…/.test(r.stderr),
        ),
        results.map((r) => r.stderr).join("\n"),
    );
    assert.ok(!fs.existsSync(lock), "the lock is gone afterwards");
    assert.deepEqual(
        w.files().filter((f) => !f.startsWith(".fake")),
        ["Pulumi.storage.yaml", "Pulumi.yaml"],
    );
});

test("a live holder: the command waits, then refuses after PROJECT_VM_LOCK_WAIT, naming it; nothing changed", async (t) => {
    const { w, runAsync, lock } = setup(t);
    const before = w.stackText("storage");
    const holder = {
        pid: process.pid,
        started: processStart(process.pid),
        hostname: os.hostname(),
        command: "project-vm destroy webapp",
        since: "2026-01-01T00:00:00Z",
    };
    fs.writeFileSync(lock, JSON.stringify(holder));
    const r = await runAsync(["create", "-H", "storage", "late", "1024", "1"], { PROJECT_VM_LOCK_WAIT: "1" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
        r.stderr,
        new RegExp(
            `waiting for pid ${process.pid} \\(project-vm destroy webapp, since 2026-01-01T00:00:00Z\\) editing Pulumi\\.storage\\.yaml… \\(up to 1s\\)`,
        ),
    );
    assert.match(r.stderr, /Pulumi\.storage\.yaml is being changed by pid \d+ .*gave up waiting after 1s, nothing changed/);
    assert.equal(w.stackText("storage"), before);
    assert.ok(fs.existsSync(lock), "someone else's lock is left alone");
});

test("a holder that goes away: the waiting command goes on", async (t) => {
    const { runAsync, names, lock } = setup(t);
    fs.writeFileSync(
        lock,
        JSON.stringify({
            pid: process.pid,
            started: processStart(process.pid),
            hostname: os.hostname(),
            command: "project-vm apply",
            since: "now",
        }),
    );
    const pending = runAsync(["create", "-H", "storage", "after", "1024", "1"]);
    setTimeout(() => fs.rmSync(lock), 1500);
    const r = await pending;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /waiting for pid \d+ \(project-vm apply, since now\)/);
    assert.ok(names().includes("after"));
});

test("the lock of a holder that died (or whose pid now belongs to another process) is taken over", async (t) => {
    const { runAsync, names, lock } = setup(t);
    const dead = spawnSync("true").pid!;
    fs.writeFileSync(
        lock,
        JSON.stringify({ pid: dead, started: "x/1", hostname: os.hostname(), command: "project-vm create crashed", since: "then" }),
    );
    let r = await runAsync(["create", "-H", "storage", "one", "1024", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /waiting/);
    // A live pid with another start time is a reused pid, not the holder.
    fs.writeFileSync(
        lock,
        JSON.stringify({
            pid: process.pid,
            started: "another-boot/1",
            hostname: os.hostname(),
            command: "project-vm create crashed",
            since: "then",
        }),
    );
    r = await runAsync(["create", "-H", "storage", "two", "1024", "1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(names().includes("one") && names().includes("two"));
    assert.ok(!fs.existsSync(lock));
});

test("a holder on another machine is not guessed dead: the command waits and says how to clear it", async (t) => {
    const { runAsync, lock } = setup(t);
    fs.writeFileSync(
        lock,
        JSON.stringify({ pid: 1, started: "", hostname: "elsewhere.example", command: "project-vm stop x", since: "then" }),
    );
    const r = await runAsync(["stop", "-H", "storage", "webapp"], { PROJECT_VM_LOCK_WAIT: "0" });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
        r.stderr,
        /being changed by pid 1 on elsewhere\.example \(project-vm stop x, since then\).*If no project-vm is running on elsewhere\.example, remove .*\.Pulumi\.storage\.yaml\.lock/,
    );
});

test("a command that would take its own lock again fails at once instead of waiting for itself", async (t) => {
    const { w, lock } = setup(t);
    const file = path.join(w.dir, "Pulumi.storage.yaml");
    const held = await lockFile(file, { command: "project-vm outer", waitMs: 60_000, onWait: () => assert.fail("no waiting") });
    try {
        await assert.rejects(
            lockFile(file, { command: "project-vm inner", waitMs: 60_000, onWait: () => assert.fail("no waiting") }),
            /already locked by this very command \(project-vm outer\)/,
        );
    } finally {
        held.release();
    }
    assert.ok(!fs.existsSync(lock));
});
