// How the CLI runs the programs it needs (cli/run.ts), with real programs: a program that reads
// stdin gets none and does not hang the CLI, one that does not end is killed after its time, and a
// missing or unrunnable program is said apart; an interactive one has the terminal and its Ctrl+C.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { interactive, reasonOf, run } from "../cli/run";

test("a program run for its output reads no stdin: one waiting for input ends at once", async () => {
    const r = await run("sh", ["-c", 'read -r line; echo "read: [$line]"; echo note >&2'], { timeoutMs: 10_000 });
    assert.deepEqual(r, { code: 0, stdout: "read: []\n", stderr: "note\n" });
});

test("a program that does not end in its time is killed: exit 124, and its stderr says it timed out", async () => {
    const started = Date.now();
    const r = await run("sh", ["-c", "echo begun >&2; exec sleep 30"], { timeoutMs: 2000 });
    assert.deepEqual(r, { code: 124, stdout: "", stderr: "begun\nsh: timed out" });
    assert.ok(Date.now() - started < 10_000, "killed, not waited for");
});

test("a missing program is 127 'not found'; one that cannot be run is 126 with the system's reason, as a shell says", async (t) => {
    assert.deepEqual(await run("pvms-no-such-program", []), { code: 127, stdout: "", stderr: "pvms-no-such-program: not found" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-run-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "tool");
    fs.writeFileSync(file, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    const r = await run(file, []);
    assert.equal(r.code, 126);
    assert.match(r.stderr, /EACCES/);
});

test("a failed program's reason: its last line that is not blank, trimmed, without its leading 'error:'", () => {
    assert.equal(reasonOf("Logging in...\nerror:   no stack named storage found  \n\n   \n", "none"), "no stack named storage found");
    assert.equal(reasonOf("the monitor said: error: busy", "none"), "the monitor said: error: busy");
    assert.equal(reasonOf(" \n\n", "none"), "none");
});

/** Runs `interactive(cmd, args)` in a child node with `input` on its stdin; its exit code is the result. */
function interactiveChild(cmd: string, args: string[], input = "") {
    const script = `require(${JSON.stringify(path.join(__dirname, "..", "cli", "run.ts"))}).interactive(${JSON.stringify(cmd)}, ${JSON.stringify(args)}).then((c) => process.exit(c), (e) => { console.error("rejected: " + e.message); process.exit(99); })`;
    return spawnSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8", input });
}

test("an interactive program has this process's terminal: its stdin, stdout and stderr; its exit code is returned", () => {
    const r = interactiveChild("sh", ["-c", 'read -r line; echo "got $line"; echo oops >&2; exit 3'], "yes\n");
    assert.deepEqual([r.status, r.stdout, r.stderr], [3, "got yes\n", "oops\n"]);
});

test("an interactive program ended by a signal is 128 + its number", async () => {
    assert.equal(await interactive("sh", ["-c", "kill -TERM $$"]), 143);
    assert.equal(await interactive("sh", ["-c", "kill -KILL $$"]), 137);
});

test("while an interactive program runs, Ctrl+C is its own: this process outlives the SIGINT and waits for it", () => {
    // The program sends the SIGINT a terminal's Ctrl+C would send this process too, then carries on.
    const r = interactiveChild("sh", ["-c", "kill -INT $PPID; sleep 0.3; echo still here"]);
    assert.deepEqual([r.signal, r.status, r.stdout], [null, 0, "still here\n"]);
});

test("once the interactive program ended, this process no longer ignores SIGINT", async () => {
    const before = process.listeners("SIGINT");
    const running = interactive("sh", ["-c", "sleep 0.2"]);
    assert.equal(process.listeners("SIGINT").length, before.length + 1, "a listener while it runs");
    assert.equal(await running, 0);
    assert.deepEqual(process.listeners("SIGINT"), before);
});

test("an interactive program that is missing, or cannot be run, is said so by name", async (t) => {
    const before = process.listenerCount("SIGINT");
    await assert.rejects(interactive("pvms-no-such-program", []), { message: "pvms-no-such-program is not installed or not on PATH" });
    assert.equal(process.listenerCount("SIGINT"), before, "no listener left behind");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-run-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "tool");
    fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o644 });
    await assert.rejects(interactive(file, []), (e: Error) => e.message.startsWith(`${file}: `) && /EACCES/.test(e.message));
});
