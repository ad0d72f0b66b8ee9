// The CLI's Pulumi runner against a stand-in `pulumi` executable: the stack outputs it reads (and
// what it says when Pulumi fails), and which signals reach a running `pulumi up` from this process.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { PulumiUnavailable, pulumiCli } from "../cli/pulumi";

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
        fail) printf 'Logging in...\\nerror: could not reach https://backend.example: connection refused\\n' >&2; exit 255 ;;
        silent) exit 255 ;;
        scalar) echo '"10.17.0.10"' ;;
    esac
    exit 0
fi
if [ "$*" = version ]; then
    case $(cat "$D/mode") in
        fail) printf 'warning: A new version of Pulumi is available\nerror: could not read ~/.pulumi/credentials.json\n' >&2; exit 255 ;;
        *) echo v3.274.1 ;;
    esac
    exit 0
fi
if [ "$1 $2 $3" = "stack export --stack" ] && [ "$5" = "--cwd" ] && [ $# -eq 6 ]; then
    case $(cat "$D/mode") in
        ok) printf '%s\n' '{"version":3,"deployment":{"resources":[{"urn":"urn:pulumi:'"$4"'::project-vms::project-vms:index:ProjectVm$libvirt:index/volume:Volume::project-myapp-project-disk","type":"libvirt:index/volume:Volume"}]}}' ;;
        fail) printf 'error: no stack named %s found\n' "$4" >&2; exit 255 ;;
        garbled) echo '{"version":3,' ;;
    esac
    exit 0
fi
if [ "$1" = up ]; then
    trap 'echo INT >> "$D/signals"; exit 0' INT
    touch "$D/started"
    for _ in $(seq 600); do [ -e "$D/finish" ] && exit 0; sleep 0.05; done
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
