// The stack file's lock at its edges, in process (fast): where the lock file is for a symlinked
// stack file, who counts as gone (another machine, a dead pid, a reused pid, unknown start), a lock
// file someone else holds now or that is not ours at all, what the refusal says, saying once whom
// it waits for, a stale breaker left by a crash, and a release that never removes someone else's lock.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import fsModule from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { holderIsGone, LockBusy, lockFile, lockPathOf, processStart } from "../cli/lock";
import { UsageError } from "../cli/stacks";

function tmpdir(t: { after(fn: () => void): void }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lock-edges-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

const me = () => ({ pid: process.pid, started: processStart(process.pid), hostname: os.hostname() });
const deadPid = () => spawnSync("true").pid as number;

test("the lock file stands beside the stack file, after symlinks; beside the name when there is no file yet", (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, "real"));
    fs.writeFileSync(path.join(dir, "real", "Pulumi.storage.yaml"), "config: {}\n");
    fs.symlinkSync(path.join(dir, "real", "Pulumi.storage.yaml"), path.join(dir, "Pulumi.storage.yaml"));
    assert.equal(lockPathOf(path.join(dir, "Pulumi.storage.yaml")), path.join(dir, "real", ".Pulumi.storage.yaml.lock"));
    assert.equal(lockPathOf(path.join(dir, "Pulumi.new.yaml")), path.join(dir, ".Pulumi.new.yaml.lock"));
});

test("a process's start mark: the same for one process, different for two processes started apart, empty when gone", async (t) => {
    const dir = tmpdir(t);
    // A command name with a parenthesis and spaces, as /proc/<pid>/stat shows it inside parentheses.
    const odd = path.join(dir, "a) b c");
    fs.symlinkSync(fs.realpathSync("/bin/sleep"), odd);
    const first = spawn(odd, ["30"], { stdio: "ignore" });
    t.after(() => first.kill());
    await new Promise((r) => setTimeout(r, 150));
    const second = spawn(odd, ["30"], { stdio: "ignore" });
    t.after(() => second.kill());
    await new Promise((r) => setTimeout(r, 50));
    const [a, b] = [processStart(first.pid!), processStart(second.pid!)];
    assert.match(a, /^[0-9a-f-]{36}\/\d+$/, "boot id / clock ticks");
    assert.equal(processStart(first.pid!), a);
    assert.notEqual(a, b, "two processes, two start marks");
    assert.equal(a.split("/")[0], b.split("/")[0], "one boot");
    assert.ok(Number(a.split("/")[1]) < Number(b.split("/")[1]), "the first started first");
    assert.equal(processStart(deadPid()), "");
    // Such a holder is alive with its own mark, and gone with another one (its pid reused).
    assert.equal(holderIsGone({ pid: first.pid!, started: a, hostname: os.hostname(), command: "x", since: "" }), false);
    assert.equal(holderIsGone({ pid: first.pid!, started: b, hostname: os.hostname(), command: "x", since: "" }), true);
});

test("who is gone: a dead pid or a reused one on this machine; never a holder elsewhere, nor a live one whose start is unknown", () => {
    const h = { command: "project-vm create x", since: "then" };
    assert.equal(holderIsGone({ ...h, pid: deadPid(), started: "", hostname: os.hostname() }), true, "dead, start unknown");
    assert.equal(
        holderIsGone({ ...h, pid: deadPid(), started: "x/1", hostname: "elsewhere.example" }),
        false,
        "another machine's pid says nothing here",
    );
    assert.equal(holderIsGone({ ...h, ...me() }), false, "alive, same start");
    assert.equal(holderIsGone({ ...h, ...me(), started: "" }), false, "alive, start unknown: taken for the holder");
    assert.equal(holderIsGone({ ...h, ...me(), started: "another-boot/1" }), true, "alive, another start: the pid was reused");
});

test("a lock file someone else holds now: waits, says so once, then refuses naming them and the way on; the lock is left", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    const lock = lockPathOf(file);
    const theirs = JSON.stringify({
        pid: process.pid,
        started: "",
        hostname: os.hostname(),
        command: "project-vm destroy webapp",
        since: "2026-01-01T00:00:00Z",
    });
    fs.writeFileSync(lock, theirs);
    const said: string[] = [];
    const started = Date.now();
    const err = await lockFile(file, { command: "project-vm create late", waitMs: 400, pollMs: 20, onWait: (m) => said.push(m) }).then(
        () => undefined,
        (e: Error) => e,
    );
    assert.ok(Date.now() - started >= 380, "it waited for waitMs");
    assert.ok(err instanceof LockBusy && err instanceof UsageError, `a LockBusy (exit 2): ${err}`);
    assert.equal(err.name, "LockBusy");
    assert.equal(
        err.message,
        `Pulumi.storage.yaml is being changed by pid ${process.pid} (project-vm destroy webapp, since 2026-01-01T00:00:00Z); ` +
            "gave up waiting after 0s, nothing changed. Run it again when that is done (PROJECT_VM_LOCK_WAIT=<seconds> waits longer). " +
            `If no project-vm is running, remove ${lock}.`,
    );
    assert.deepEqual(
        said,
        [`waiting for pid ${process.pid} (project-vm destroy webapp, since 2026-01-01T00:00:00Z) editing Pulumi.storage.yaml…`],
        "said once",
    );
    assert.equal(fs.readFileSync(lock, "utf8"), theirs);
    assert.deepEqual(fs.readdirSync(dir), [path.basename(lock)], "no temporary file left");
});

test("no wait at all: refused at once, without waiting messages", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(
        lockPathOf(file),
        JSON.stringify({ pid: 1, started: "", hostname: "elsewhere.example", command: "project-vm stop x", since: "then" }),
    );
    const said: string[] = [];
    await assert.rejects(
        lockFile(file, { command: "c", waitMs: 0, onWait: (m) => said.push(m) }),
        /^LockBusy: Pulumi\.storage\.yaml is being changed by pid 1 on elsewhere\.example \(project-vm stop x, since then\); gave up waiting after 0s.*If no project-vm is running on elsewhere\.example, remove /,
    );
    assert.deepEqual(said, []);
});

test("a lock file that is not a holder's (empty, garbage, half a holder) is taken for another live process", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    for (const text of [
        "",
        "not json",
        "null",
        JSON.stringify({ pid: "12", hostname: os.hostname() }),
        JSON.stringify({ pid: deadPid(), hostname: 7 }),
    ]) {
        fs.writeFileSync(lockPathOf(file), text);
        const said: string[] = [];
        await assert.rejects(
            lockFile(file, { command: "c", waitMs: 30, pollMs: 10, onWait: (m) => said.push(m) }),
            /is being changed by another process; gave up waiting after 0s.*If no project-vm is running, remove /,
            JSON.stringify(text),
        );
        assert.deepEqual(said, ["waiting for another process editing Pulumi.storage.yaml…"]);
        assert.equal(fs.readFileSync(lockPathOf(file), "utf8"), text, "left alone");
    }
});

test("a dead holder's lock is taken over, and a breaker left by a crash long ago is cleared", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    const lock = lockPathOf(file);
    fs.writeFileSync(
        lock,
        JSON.stringify({ pid: deadPid(), started: "", hostname: os.hostname(), command: "project-vm create crashed", since: "then" }),
    );
    fs.writeFileSync(`${lock}.break`, "1");
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(`${lock}.break`, old, old);
    const held = await lockFile(file, {
        command: "project-vm create next",
        waitMs: 0,
        onWait: () => assert.fail("no waiting for the dead"),
    });
    const holder = JSON.parse(fs.readFileSync(lock, "utf8"));
    assert.equal(holder.command, "project-vm create next");
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.started, processStart(process.pid));
    assert.ok(!Number.isNaN(Date.parse(holder.since)));
    held.release();
    assert.deepEqual(fs.readdirSync(dir), [], "lock and breaker gone");
});

test("our own pid on another machine is another holder, not ourselves; with another start it is a reused pid", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(lockPathOf(file), JSON.stringify({ ...me(), hostname: "elsewhere.example", command: "far", since: "then" }));
    await assert.rejects(
        lockFile(file, { command: "c", waitMs: 0, onWait: () => {} }),
        /being changed by pid \d+ on elsewhere\.example \(far/,
    );
    fs.writeFileSync(lockPathOf(file), JSON.stringify({ ...me(), started: "another-boot/1", command: "old", since: "then" }));
    const held = await lockFile(file, { command: "c", waitMs: 0, onWait: () => assert.fail("no waiting") });
    held.release();
    assert.ok(!fs.existsSync(lockPathOf(file)));
});

test("release: once, only our own lock, also at the end of a using block, and no exit handler left behind", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    const lock = lockPathOf(file);
    const listeners = process.listenerCount("exit");
    const held = await lockFile(file, { command: "mine", waitMs: 0, onWait: () => {} });
    assert.equal(held.path, lock);
    assert.equal(process.listenerCount("exit"), listeners + 1, "released at exit if not before");
    // Someone took it over meanwhile (they judged us gone): our release leaves theirs alone.
    const theirs = JSON.stringify({ pid: 1, started: "", hostname: "elsewhere.example", command: "theirs", since: "now" });
    fs.writeFileSync(lock, theirs);
    held.release();
    assert.equal(fs.readFileSync(lock, "utf8"), theirs);
    assert.equal(process.listenerCount("exit"), listeners);
    fs.rmSync(lock);
    {
        using again = await lockFile(file, { command: "mine", waitMs: 0, onWait: () => {} });
        assert.ok(fs.existsSync(again.path));
    }
    assert.ok(!fs.existsSync(lock), "released at the end of the block");
    const third = await lockFile(file, { command: "mine", waitMs: 0, onWait: () => {} });
    third.release();
    // A second release must not remove a lock taken since by someone else.
    const next = await lockFile(file, { command: "next", waitMs: 0, onWait: () => {} });
    third.release();
    assert.ok(fs.existsSync(lock), "the second release did nothing");
    next.release();
    assert.ok(!fs.existsSync(lock));
    assert.equal(process.listenerCount("exit"), listeners);
});

test("a command that exits without releasing leaves no lock behind", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    // The built module (npm run build), as the project-vm binary runs it.
    const built = path.resolve(__dirname, "..", "dist", "cli", "lock.js");
    assert.ok(fs.existsSync(built), `${built} is built by npm run build (npm test builds it first)`);
    const script = `const { lockFile } = require(${JSON.stringify(built)});
lockFile(${JSON.stringify(file)}, { command: "child", waitMs: 0, onWait() {} }).then(() => { console.log("held"); process.exit(0); });`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "held");
    assert.ok(!fs.existsSync(lockPathOf(file)));
});

/** Runs `fn` and counts the ticks of a 10 ms timer meanwhile: a waiting command keeps its event loop free (Ctrl+C, timers). */
async function ticking<T>(fn: () => Promise<T>): Promise<{ result: T; ticks: number; ms: number }> {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    try {
        const result = await fn();
        return { result, ticks, ms: Date.now() - started };
    } finally {
        clearInterval(timer);
    }
}

test("waiting for a live holder leaves the event loop free", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(
        lockPathOf(file),
        JSON.stringify({ pid: process.pid, started: "", hostname: os.hostname(), command: "other", since: "now" }),
    );
    const { result, ticks } = await ticking(() => lockFile(file, { command: "c", waitMs: 300, onWait: () => {} }).catch((e: Error) => e));
    assert.ok(result instanceof LockBusy);
    assert.ok(ticks >= 10, `the timer ran while it waited (${ticks} ticks in 300 ms)`);
});

test("a dead holder's lock that another command is breaking now: waited for (event loop free) until that breaker is 10 s old", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    const lock = lockPathOf(file);
    fs.writeFileSync(lock, JSON.stringify({ pid: deadPid(), started: "", hostname: os.hostname(), command: "crashed", since: "then" }));
    fs.writeFileSync(`${lock}.break`, "1");
    const recent = new Date(Date.now() - 9_400);
    fs.utimesSync(`${lock}.break`, recent, recent);
    const {
        result: held,
        ticks,
        ms,
    } = await ticking(() =>
        lockFile(file, { command: "next", waitMs: 0, pollMs: 20, onWait: () => assert.fail("no waiting message for the dead") }),
    );
    assert.ok(ms >= 400, `it left the other breaker alone while it was fresh (${ms} ms)`);
    assert.ok(ms < 5000, `and took over once it was stale (${ms} ms)`);
    assert.ok(ticks >= 10, `the timer ran meanwhile (${ticks} ticks in ${ms} ms)`);
    assert.equal(JSON.parse(fs.readFileSync(lock, "utf8")).command, "next");
    held.release();
    assert.deepEqual(fs.readdirSync(dir), []);
});

test("a holder with our start mark but another pid is not us: on this machine, with that mark, its pid was reused", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    t.after(() => other.kill());
    fs.writeFileSync(lockPathOf(file), JSON.stringify({ ...me(), pid: other.pid, command: "x", since: "then" }));
    const held = await lockFile(file, { command: "c", waitMs: 0, onWait: () => assert.fail("no waiting") });
    held.release();
    assert.ok(!fs.existsSync(lockPathOf(file)));
});

test("a file system without hard links: the lock is made exclusively instead; any other failure is reported", async (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    const lock = lockPathOf(file);
    // The module object itself (an import's namespace is read-only), which cli/lock.ts calls through.
    const nodeFs: { linkSync: typeof fs.linkSync } = fsModule;
    const link = nodeFs.linkSync;
    t.after(() => {
        nodeFs.linkSync = link;
    });
    for (const code of ["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]) {
        nodeFs.linkSync = () => {
            throw Object.assign(new Error(`${code}: no hard links here`), { code });
        };
        const held = await lockFile(file, { command: `on ${code}`, waitMs: 0, onWait: () => assert.fail("no waiting") });
        assert.equal(JSON.parse(fs.readFileSync(lock, "utf8")).command, `on ${code}`, code);
        held.release();
        // Someone else's lock is not overwritten.
        const theirs = JSON.stringify({ pid: process.pid, started: "", hostname: "elsewhere.example", command: "theirs", since: "then" });
        fs.writeFileSync(lock, theirs);
        await assert.rejects(
            lockFile(file, { command: "late", waitMs: 0, onWait: () => {} }),
            /being changed by pid \d+ on elsewhere\.example \(theirs/,
            code,
        );
        assert.equal(fs.readFileSync(lock, "utf8"), theirs);
        fs.rmSync(lock);
        assert.deepEqual(fs.readdirSync(dir), [], `${code}: no temporary file left`);
    }
    nodeFs.linkSync = () => {
        throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
    };
    await assert.rejects(lockFile(file, { command: "c", waitMs: 0, onWait: () => {} }), /EIO: i\/o error/);
    nodeFs.linkSync = () => {
        throw new Error("no code at all");
    };
    await assert.rejects(lockFile(file, { command: "c", waitMs: 0, onWait: () => {} }), /no code at all/);
    assert.deepEqual(fs.readdirSync(dir), [], "nothing made");
});
