// The built `project-vm` (dist/cli/main.js, what package.json's bin installs) as a user runs it:
// a real process with a stand-in `pulumi` and `virsh` on PATH — the arguments it gives Pulumi, its
// output streams and exit codes, and no stack traces.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { World } from "./support/cli";
import { FakeHost } from "./support/fakeVirsh";
import { REPO } from "./support/schemas";

const BIN = path.join(REPO, "dist", "cli", "main.js");

const FAKE_PULUMI = `#!/bin/bash
printf '%s\\n' "$*" >> "$FAKE_LOG"
case "$1" in
    version) echo "\${FAKE_VERSION:-v3.274.1}"; exit 0 ;;
    up)
        echo "Updating ($3)"
        if [ -n "\${FAKE_UP_SLEEP:-}" ]; then
            # As Pulumi does: a signal cancels gracefully; the run ends when its steps have.
            trap 'echo "pulumi got INT" >> "$FAKE_LOG"; sleep 0.5; exit 255' INT
            trap 'echo "pulumi got TERM" >> "$FAKE_LOG"; exit 255' TERM
            echo "pulumi running" >> "$FAKE_LOG"
            for _ in $(seq 1 "$FAKE_UP_SLEEP"); do sleep 0.1; done
        fi
        exit "\${FAKE_UP_EXIT:-0}" ;;
    stack)
        if [ -n "\${FAKE_OUTPUTS:-}" ]; then echo "$FAKE_OUTPUTS"; exit 0; fi
        echo "error: current stack does not have output property 'projects'" >&2; exit 255 ;;
esac
exit 1
`;

function setup(t: { after(fn: () => void): void }, withPulumi = true) {
    assert.ok(fs.existsSync(BIN), `${BIN} is built by npm run build (npm test builds it first)`);
    const w = new World();
    t.after(() => w.cleanup());
    const bin = path.join(w.dir, ".fake-bin");
    fs.mkdirSync(bin);
    if (withPulumi) fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
    // libvirt cannot be reached.
    const host = new FakeHost();
    host.down();
    t.after(() => host.cleanup());
    const log = path.join(w.dir, ".fake-log");
    const run = (args: string[], env: Record<string, string> = {}) =>
        spawnSync(process.execPath, [BIN, ...args], {
            cwd: w.dir,
            encoding: "utf8",
            env: { PATH: `${bin}:${host.bin}:/usr/bin:/bin`, FAKE_VIRSH: host.dir, HOME: w.dir, FAKE_LOG: log, ...env },
        });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
    return { w, run, calls, host };
}

test("create runs pulumi up on the host's stack without a prompt, then prints the login", (t) => {
    const { w, run, calls } = setup(t);
    const r = run(["create", "--host", "storage", "newproj", "4G"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "Updating (storage)\nssh dev@project-newproj.bat-boa.ts.net\n", "pulumi's progress, then the login");
    assert.deepEqual(calls(), [
        "version",
        `up --stack storage --yes --cwd ${w.dir}`,
        `stack output projects --json --stack storage --cwd ${w.dir}`,
    ]);
});

test("the login comes from the stack's outputs when it has them", (t) => {
    const { run } = setup(t);
    const outputs = JSON.stringify({ newproj: { ip: "10.17.0.9", ssh: "ssh dev@10.17.0.9" } });
    const r = run(["create", "-H", "storage", "newproj", "--no-tailscale"], { FAKE_OUTPUTS: outputs });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ssh dev@10\.17\.0\.9$/m);
});

test("a failed pulumi up exits 1 with what to do, and no stack trace", (t) => {
    const { run } = setup(t);
    const r = run(["stop", "-H", "storage", "webapp"], { FAKE_UP_EXIT: "3" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^project-vm: stop webapp: pulumi up --stack storage failed \(exit 3\)/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
});

test("without the Pulumi CLI: list still lists, a change is refused before anything is written", (t) => {
    const { w, run } = setup(t, false);
    const before = w.stackText("storage");
    const list = run(["list", "-H", "storage"]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^storage\s+myapp\s+\?/m);
    assert.match(list.stderr, /no stack outputs \(the Pulumi CLI \(pulumi\) is not installed or not on PATH\)/);
    assert.match(list.stderr, /live state is unknown/);
    const stop = run(["stop", "-H", "storage", "webapp"]);
    assert.equal(stop.status, 2);
    assert.match(stop.stderr, /the Pulumi CLI \(pulumi\) is not installed or not on PATH.*; nothing changed/);
    assert.doesNotMatch(stop.stderr, /^\s+at /m);
    assert.equal(w.stackText("storage"), before);
});

test("a Pulumi CLI older than the program needs is refused before anything is written", (t) => {
    const { w, run } = setup(t);
    const before = w.stackText("storage");
    const r = run(["stop", "-H", "storage", "webapp"], { FAKE_VERSION: "v3.100.0" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /the Pulumi CLI is v3\.100\.0; this program needs v3\.207\.0 or newer/);
    assert.equal(w.stackText("storage"), before);
});

test("usage errors exit 2; help and completion exit 0", (t) => {
    const { run } = setup(t);
    for (const args of [["--bogus"], ["create"], ["create", "-H", "storage", "Bad_Name"], ["list"]]) {
        const r = run(args);
        assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    assert.equal(run(["--help"]).status, 0);
    const c = run(["completion", "zsh"]);
    assert.equal(c.status, 0);
    assert.match(c.stdout, /bashcompinit/);
});

test("the built command stays executable after every build (npm link points at it)", () => {
    // npm test rebuilds dist/: a linked project-vm once lost its run bit ("Permission denied").
    assert.ok((fs.statSync(BIN).mode & 0o111) !== 0, `${BIN} is not executable`);
    const r = spawnSync(BIN, ["--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
});

/** Starts the built CLI as a process of its own, sends it `signal` once Pulumi runs, and waits for it. */
async function interrupt(t: { after(fn: () => void): void }, signal: NodeJS.Signals) {
    const { w, calls, host } = setup(t);
    const bin = path.join(w.dir, ".fake-bin");
    const log = path.join(w.dir, ".fake-log");
    const child = spawn(process.execPath, [BIN, "stop", "-H", "storage", "webapp"], {
        cwd: w.dir,
        env: { PATH: `${bin}:${host.bin}:/usr/bin:/bin`, FAKE_VIRSH: host.dir, HOME: w.dir, FAKE_LOG: log, FAKE_UP_SLEEP: "30" },
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const started = Date.now();
    while (!calls().includes("pulumi running")) {
        assert.ok(Date.now() - started < 20_000, "pulumi up was started");
        await new Promise((r) => setTimeout(r, 50));
    }
    child.kill(signal);
    const [code, killedBy] = await new Promise<[number | null, string | null]>((r) => child.on("close", (c, s) => r([c, s])));
    assert.ok(code !== null, `project-vm ended by ${killedBy}, not by itself:\n${stderr}`);
    return { w, code, stderr, calls: calls() };
}

test("SIGTERM while Pulumi runs: passed on to it once, waited for; says what the file holds and how to undo; the lock is released", async (t) => {
    const { w, code, stderr, calls } = await interrupt(t, "SIGTERM");
    assert.equal(code, 143);
    assert.deepEqual(
        calls.filter((c) => c.startsWith("pulumi got")),
        ["pulumi got INT"],
        "Pulumi is cancelled gracefully (SIGINT), once",
    );
    assert.match(
        stderr,
        /stop webapp: interrupted \(SIGTERM\); pulumi up --stack storage stopped after the steps it had begun, so part of the change may be applied\. \S+Pulumi\.storage\.yaml keeps the change: apply the rest with 'project-vm -C \S+ -H storage apply', or take it back with 'project-vm -C \S+ -H storage undo'/,
    );
    assert.doesNotMatch(stderr, /^\s+at /m);
    assert.deepEqual(
        fs.readdirSync(w.dir).filter((f) => f.endsWith(".lock")),
        [],
        "no lock left behind",
    );
});

test("Ctrl+C while Pulumi runs: not sent again (the terminal sent it to Pulumi too); project-vm waits for Pulumi to end", async (t) => {
    const { code, stderr, calls } = await interrupt(t, "SIGINT");
    assert.equal(code, 130);
    assert.deepEqual(
        calls.filter((c) => c.startsWith("pulumi got")),
        [],
        "a second SIGINT would make Pulumi stop at once, mid-step",
    );
    assert.match(stderr, /stop webapp: interrupted \(SIGINT\)/);
});
