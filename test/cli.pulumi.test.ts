// The CLI's Pulumi runner against a stand-in `pulumi` executable: the stack outputs it reads (and
// what it says when Pulumi fails), and which signals reach a running `pulumi up` from this process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { armedPurgesOf, interruptedBy, MIN_PULUMI, PulumiUnavailable, pulumiCli, systemDiskBases, versionAtLeast } from "../cli/pulumi";

/**
 * A stand-in for the Pulumi CLI in a temporary folder. `stack output projects --json --stack S
 * --cwd D` and `stack export --stack S --cwd D` answer as `mode` says; `up` notes the SIGINT it gets (ending then, as Pulumi does)
 * and otherwise runs until told to finish; anything else is refused as the real CLI would.
 */
function fakePulumi(t: { after(fn: () => void): void }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-fake-pulumi-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const exe = path.join(dir, "pulumi");
    fs.writeFileSync(
        exe,
        `#!/bin/bash
D=${JSON.stringify(dir)}
if [ "$1 $2 $3 $4 $5" = "stack output projects --json --stack" ] && [ "$7" = "--cwd" ] && [ $# -eq 8 ]; then
    case $(cat "$D/mode") in
        ok) echo '{"myapp":{"ip":"10.17.0.10"}}' ;;
        none) echo "error: current stack does not have output property 'projects'" >&2; exit 255 ;;
        fail) printf 'Logging in...\\nerror: could not reach https://backend.example: connection refused\\n    \\n' >&2; exit 255 ;;
        silent) exit 255 ;;
        scalar) echo '"10.17.0.10"' ;;
        garbled) echo '{"myapp":' ;;
    esac
    exit 0
fi
if [ "$*" = version ]; then
    case $(cat "$D/mode") in
        fail) printf 'warning: A new version of Pulumi is available\nerror: could not read ~/.pulumi/credentials.json\n' >&2; exit 255 ;;
        silent) exit 255 ;;
        *) echo v3.274.1 ;;
    esac
    exit 0
fi
if [ "$1 $2 $3" = "stack export --stack" ] && [ "$5" = "--cwd" ] && [ $# -eq 6 ]; then
    case $(cat "$D/mode") in
        ok) printf '%s\n' '{"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:'"$4"'::project-vms::project-vms:index:ProjectVm$libvirt:index/volume:Volume::project-myapp-project-disk","type":"libvirt:index/volume:Volume"}]}}' ;;
        fail) printf 'error: no stack named %s found\n' "$4" >&2; exit 255 ;;
        silent) exit 255 ;;
        garbled) echo '{"version":3,' ;;
    esac
    exit 0
fi
if [ "$1" = up ]; then
    trap 'echo INT >> "$D/signals"; exit 0' INT
    printf '%s\\n' "$@" > "$D/up-args"
    [ -z "$PVMS_SHOW_PROGRESS" ] || echo "Updating ($3)"
    touch "$D/started"
    for _ in $(seq 600); do [ -e "$D/finish" ] && exit 0; [ -d "$D" ] || exit 1; sleep 0.05; done
    exit 1
fi
echo "error: unknown command \\"$*\\" for \\"pulumi\\"" >&2
exit 2
`,
        { mode: 0o755 },
    );
    return {
        dir,
        runner: pulumiCli(dir, exe),
        mode: (m: string) => fs.writeFileSync(path.join(dir, "mode"), m),
        signals: () => (fs.existsSync(path.join(dir, "signals")) ? fs.readFileSync(path.join(dir, "signals"), "utf8") : ""),
        started: () => fs.existsSync(path.join(dir, "started")),
    };
}

test("outputs: the projects output of the host's stack; none yet is empty; a failure says Pulumi's last line", async (t) => {
    const p = fakePulumi(t);
    p.mode("ok");
    assert.deepEqual(await p.runner.outputs("storage"), { myapp: { ip: "10.17.0.10" } });
    p.mode("none");
    assert.deepEqual(await p.runner.outputs("storage"), {}, "a stack never applied has no outputs yet");
    p.mode("fail");
    await assert.rejects(
        p.runner.outputs("storage"),
        (e: Error) =>
            e instanceof PulumiUnavailable &&
            e.message === "pulumi stack output failed for stack storage: could not reach https://backend.example: connection refused",
    );
    p.mode("silent");
    await assert.rejects(p.runner.outputs("storage"), { message: "pulumi stack output failed for stack storage: no message" });
});

/** How many listeners this process has for the signals up() handles. */
const signalListeners = () => (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => process.listenerCount(s));

async function upInterruptedBy(p: ReturnType<typeof fakePulumi>, sig: NodeJS.Signals): Promise<number> {
    // Only the runner's own handler is called: others in this process (a test harness's) are not ours.
    const before = process.listeners(sig);
    const up = p.runner.up("storage");
    let ended = false;
    void up.finally(() => (ended = true));
    const deadline = Date.now() + 30_000;
    while (!p.started()) {
        assert.ok(!ended && Date.now() < deadline, "the stand-in pulumi up started");
        await new Promise((r) => setTimeout(r, 20));
    }
    const added = process.listeners(sig).filter((l) => !before.includes(l));
    assert.equal(added.length, 1, `up listens for ${sig} while Pulumi runs`);
    added[0](sig);
    // What the signal passed on did had a moment to happen; then a Pulumi still running ends.
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(path.join(p.dir, "finish"), "");
    const code = await up;
    assert.deepEqual(process.listeners(sig), before, "the handler is gone once Pulumi ended");
    return code;
}

test("up: a SIGTERM or SIGHUP to this process ends Pulumi gracefully (a SIGINT to it); the code says which", async (t) => {
    for (const [sig, code] of [
        ["SIGTERM", 143],
        ["SIGHUP", 129],
    ] as const) {
        const p = fakePulumi(t);
        assert.equal(await upInterruptedBy(p, sig), code);
        assert.equal(p.signals(), "INT\n", `${sig}: Pulumi got one SIGINT`);
    }
});

test("up: a Ctrl+C is not passed on (Pulumi has it from the terminal already); the code says it came", async (t) => {
    const p = fakePulumi(t);
    assert.equal(await upInterruptedBy(p, "SIGINT"), 130);
    assert.equal(p.signals(), "", "Pulumi got no second SIGINT from this process");
});

test("the stack's state: its armed purges read from pulumi stack export; a failure says Pulumi's last line, and garbage is named", async (t) => {
    const p = fakePulumi(t);
    p.mode("ok");
    assert.deepEqual([...(await p.runner.armedPurges("storage"))], ["myapp"]);
    p.mode("fail");
    await assert.rejects(p.runner.armedPurges("storage"), (e: Error) => {
        assert.ok(e instanceof PulumiUnavailable);
        assert.equal(e.message, "pulumi stack export failed for stack storage: no stack named storage found");
        return true;
    });
    p.mode("garbled");
    await assert.rejects(p.runner.armedPurges("storage"), { message: "pulumi stack export for stack storage is not JSON" });
});

test("without a Pulumi CLI, reads say it is not installed, naming the executable looked for", async () => {
    const runner = pulumiCli(os.tmpdir(), "pvms-no-such-pulumi");
    await assert.rejects(runner.armedPurges("storage"), {
        message: "the Pulumi CLI (pvms-no-such-pulumi) is not installed or not on PATH",
    });
    await assert.rejects(runner.outputs("storage"), {
        message: "the Pulumi CLI (pvms-no-such-pulumi) is not installed or not on PATH",
    });
    await assert.rejects(runner.version(), {
        message:
            "the Pulumi CLI (pvms-no-such-pulumi) is not installed or not on PATH: https://www.pulumi.com/docs/install/ (or build it: bash engine/build.sh)",
    });
});

test("by default the runner runs the pulumi found on PATH", async (t) => {
    const p = fakePulumi(t);
    p.mode("ok");
    const before = process.env.PATH;
    t.after(() => {
        if (before === undefined) delete process.env.PATH;
        else process.env.PATH = before;
    });
    process.env.PATH = `${p.dir}:${before}`;
    assert.deepEqual(await pulumiCli(p.dir).outputs("storage"), { myapp: { ip: "10.17.0.10" } });
});

test("outputs that are no map of projects are none; the version is Pulumi's own line, and its failure says Pulumi's last line", async (t) => {
    const p = fakePulumi(t);
    p.mode("scalar");
    assert.deepEqual(await p.runner.outputs("storage"), {});
    p.mode("ok");
    assert.equal(await p.runner.version(), "v3.274.1");
    p.mode("fail");
    await assert.rejects(p.runner.version(), { message: "pulumi version failed: could not read ~/.pulumi/credentials.json" });
});

test("up runs exactly 'pulumi up --stack S --yes --cwd D', with a --replace for each URN to replace, in that order", async (t) => {
    const p = fakePulumi(t);
    fs.writeFileSync(path.join(p.dir, "finish"), "");
    const args = () => fs.readFileSync(path.join(p.dir, "up-args"), "utf8").trim().split("\n");
    assert.equal(await p.runner.up("storage"), 0);
    assert.deepEqual(args(), ["up", "--stack", "storage", "--yes", "--cwd", p.dir]);
    assert.equal(await p.runner.up("raider", { replace: ["urn:a", "urn:b"] }), 0);
    assert.deepEqual(args(), ["up", "--stack", "raider", "--yes", "--cwd", p.dir, "--replace", "urn:a", "--replace", "urn:b"]);
});

test("up shows Pulumi's progress as Pulumi writes it, on this process's own terminal", async (t) => {
    const p = fakePulumi(t);
    fs.writeFileSync(path.join(p.dir, "finish"), "");
    const script = `require(${JSON.stringify(path.join(__dirname, "..", "cli", "pulumi.ts"))}).pulumiCli(${JSON.stringify(p.dir)}, ${JSON.stringify(
        path.join(p.dir, "pulumi"),
    )}).up("storage").then((c) => process.exit(c))`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
        encoding: "utf8",
        env: { ...process.env, PVMS_SHOW_PROGRESS: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "Updating (storage)\n");
});

test("up without a Pulumi CLI says it is not installed and where to get it; nothing was run", async () => {
    const before = signalListeners();
    await assert.rejects(pulumiCli(os.tmpdir(), "pvms-no-such-pulumi").up("storage"), (e: Error) => {
        assert.ok(e instanceof PulumiUnavailable);
        assert.equal(
            e.message,
            "the Pulumi CLI (pvms-no-such-pulumi) is not installed or not on PATH: https://www.pulumi.com/docs/install/",
        );
        return true;
    });
    assert.deepEqual(signalListeners(), before, "no signal handler is left behind");
});

test("stack outputs that are not JSON are named as such", async (t) => {
    const p = fakePulumi(t);
    p.mode("garbled");
    await assert.rejects(p.runner.outputs("storage"), (e: Error) => {
        assert.ok(e instanceof PulumiUnavailable);
        assert.equal(e.message, "pulumi stack output for stack storage is not JSON");
        return true;
    });
});

test("the exit code of an interrupted up names the signal; any other code none", () => {
    assert.deepEqual(
        [130, 143, 129, 0, 1, 2, 255, 137].map((c) => interruptedBy(c)),
        ["SIGINT", "SIGTERM", "SIGHUP", undefined, undefined, undefined, undefined, undefined],
    );
});

test("Pulumi's version is compared by number, with or without its v, suffixes ignored; an unreadable one is too old", () => {
    assert.equal(MIN_PULUMI, "v3.207.0");
    const cases: [string, boolean][] = [
        ["v3.207.0", true],
        ["3.274.1-dev.0", true],
        ["v10.0.0", true],
        ["v4.0.0", true],
        ["v3.206.99", false],
        ["v3.99.0", false],
        ["v2.300.300", false],
        ["pulumi v3.274.1", false],
        ["", false],
    ];
    assert.deepEqual(
        cases.map(([v]) => [v, versionAtLeast(v, MIN_PULUMI)]),
        cases,
    );
    assert.equal(versionAtLeast("v3.207.10", "v3.207.9"), true);
    assert.equal(versionAtLeast("v3.207.9", "v3.207.10"), false);
});

test("a stack never applied, or an export of another shape, has no armed purge and no system disk base", () => {
    const urn = (name: string, type = "libvirt:index/volume:Volume") =>
        `urn:pulumi:storage::project-vms::project-vms:index:ProjectVm$${type}::${name}`;
    const fresh = { version: 3, deployment: { manifest: { time: "2026-12-07T00:00:00Z" } } };
    for (const exported of [null, undefined, 7, {}, fresh, { deployment: { resources: {} } }]) {
        assert.deepEqual([...armedPurgesOf(exported)], []);
        assert.deepEqual([...systemDiskBases(exported)], []);
    }
    const resources = [
        null,
        { urn: urn("project-a-project-disk"), type: "libvirt:index/volume:Volume" },
        { urn: urn("project-b-project-disk", "command:local:Command"), type: "command:local:Command" },
        { urn: urn("project-c-project-disk"), type: "libvirt:index/volume:Volume", retainOnDelete: true },
        { urn: 42, type: "libvirt:index/volume:Volume" },
        {
            urn: urn("project-a-system-disk"),
            type: "libvirt:index/volume:Volume",
            inputs: { baseVolumeId: "/var/lib/project-vms/debian-testing-2026-11.qcow2" },
        },
        {
            urn: urn("project-b-system-disk", "command:local:Command"),
            type: "command:local:Command",
            inputs: { baseVolumeId: "/x/y.qcow2" },
        },
        {
            urn: urn("project-c-system-disk"),
            type: "libvirt:index/volume:Volume",
            inputs: { baseVolumeId: "debian-testing-2026-12.qcow2" },
        },
        { urn: urn("project-d-system-disk"), type: "libvirt:index/volume:Volume", inputs: {} },
    ];
    assert.deepEqual([...armedPurgesOf({ deployment: { resources } })], ["a"]);
    assert.deepEqual(
        [...systemDiskBases({ deployment: { resources } })],
        [
            ["a", "debian-testing-2026-11.qcow2"],
            ["c", "debian-testing-2026-12.qcow2"],
        ],
    );
});

test("a Pulumi that fails without a word: the failure says it gave no message", async (t) => {
    const p = fakePulumi(t);
    p.mode("silent");
    await assert.rejects(p.runner.armedPurges("storage"), { message: "pulumi stack export failed for stack storage: no message" });
    await assert.rejects(p.runner.version(), { message: "pulumi version failed: no message" });
});

test("a pulumi that is there but cannot be run is not called missing: the system's reason is given", async (t) => {
    const p = fakePulumi(t);
    fs.chmodSync(path.join(p.dir, "pulumi"), 0o644);
    await assert.rejects(pulumiCli(p.dir, path.join(p.dir, "pulumi")).up("storage"), (e: NodeJS.ErrnoException) => {
        assert.ok(!(e instanceof PulumiUnavailable));
        assert.equal(e.code, "EACCES");
        return true;
    });
});

test("a project whose name holds '-project-disk' is not taken for another project's armed purge", () => {
    const urn = (name: string) => `urn:pulumi:storage::project-vms::project-vms:index:ProjectVm$libvirt:index/volume:Volume::${name}`;
    const type = "libvirt:index/volume:Volume";
    const resources = [
        { urn: urn("project-data-project-disk-old-system-disk"), type, retainOnDelete: false },
        { urn: urn("project-data-project-disk-old-project-disk"), type, retainOnDelete: true },
    ];
    assert.deepEqual([...armedPurgesOf({ deployment: { resources } })], []);
    resources[1].retainOnDelete = false;
    assert.deepEqual([...armedPurgesOf({ deployment: { resources } })], ["data-project-disk-old"]);
});

test("a pulumi that is there but cannot be run: reads give the system's reason, not 'not installed'", async (t) => {
    const p = fakePulumi(t);
    fs.chmodSync(path.join(p.dir, "pulumi"), 0o644);
    const runner = pulumiCli(p.dir, path.join(p.dir, "pulumi"));
    await assert.rejects(
        runner.version(),
        (e: Error) => e instanceof PulumiUnavailable && /^pulumi version failed: .*EACCES/.test(e.message),
    );
    await assert.rejects(runner.outputs("storage"), (e: Error) =>
        /^pulumi stack output failed for stack storage: .*EACCES/.test(e.message),
    );
});

test("an up that cannot even be spawned rejects and leaves no signal handler behind", async () => {
    const before = signalListeners();
    await assert.rejects(pulumiCli(os.tmpdir(), "pulumi\0bad").up("storage"), { code: "ERR_INVALID_ARG_VALUE" });
    assert.deepEqual(signalListeners(), before);
});
