// The stack file's lock when something happens between two of its steps: the holder lets go just
// as we look, another command breaks a dead holder's lock and takes it just before us, someone
// removes the lock (and its breaker) by hand while we break it or release it, the disk is full, a
// breaker exactly 10 s old, a live holder of another user or whose start cannot be read, how often
// a waiting command looks again, and a stale release after the same command took the lock again.
// The other party is played by wrapping the file system calls cli/lock.ts makes (node:fs itself:
// an import's namespace is read-only), so each race happens every time, not once in a while.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import fsModule from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mock, test, type TestContext } from "node:test";
import { holderIsGone, LockBusy, lockFile, lockPathOf } from "../cli/lock";

type Fs = Record<"readFileSync" | "writeFileSync" | "linkSync", (...a: unknown[]) => unknown>;
const nodeFs = fsModule as unknown as Fs;

function setup(t: TestContext) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lock-races-"));
    const file = path.join(dir, "Pulumi.storage.yaml");
    const lock = lockPathOf(file);
    const saved: Fs = { readFileSync: nodeFs.readFileSync, writeFileSync: nodeFs.writeFileSync, linkSync: nodeFs.linkSync };
    t.after(() => {
        Object.assign(nodeFs, saved);
        fs.rmSync(dir, { recursive: true, force: true });
    });
    /** Runs `then(n)` right after the n-th read (from 1) of the lock file returned. */
    const afterReadingLock = (then: (n: number) => void) => {
        let n = 0;
        nodeFs.readFileSync = (...a: unknown[]) => {
            const out = saved.readFileSync(...a);
            if (a[0] === lock) then(++n);
            return out;
        };
    };
    return { dir, file, lock, saved, afterReadingLock };
}

const holder = (pid: number, command: string, hostname = os.hostname()) =>
    JSON.stringify({ pid, started: "", hostname, command, since: "then" });
const deadPid = () => spawnSync("true").pid as number;
const noWait = { waitMs: 0, onWait: () => assert.fail("no waiting") };

test("the holder lets go right after our try failed: we take the lock at once", async (t) => {
    const { dir, file, lock, saved } = setup(t);
    fs.writeFileSync(lock, holder(process.pid, "other"));
    nodeFs.linkSync = (...a: unknown[]) => {
        try {
            return saved.linkSync(...a);
        } catch (e) {
            fs.rmSync(lock); // it lets go just now
            throw e;
        }
    };
    const held = await lockFile(file, { command: "next", ...noWait });
    Object.assign(nodeFs, saved);
    assert.equal(JSON.parse(fs.readFileSync(lock, "utf8")).command, "next");
    held.release();
    assert.deepEqual(fs.readdirSync(dir), []);
});

test("a dead holder's lock that another command breaks and takes just before us: theirs is kept, and we wait for them", async (t) => {
    const { file, lock, afterReadingLock } = setup(t);
    fs.writeFileSync(lock, holder(deadPid(), "crashed"));
    const theirs = holder(process.pid, "project-vm create quicker");
    afterReadingLock((n) => n === 1 && fs.writeFileSync(lock, theirs));
    await assert.rejects(lockFile(file, { command: "late", waitMs: 0, onWait: () => {} }), (e: Error) => {
        assert.ok(e instanceof LockBusy);
        assert.match(e.message, /being changed by pid \d+ \(project-vm create quicker, since then\)/);
        return true;
    });
    assert.equal(fs.readFileSync(lock, "utf8"), theirs, "their fresh lock is left in place");
    assert.ok(!fs.existsSync(`${lock}.break`), "our breaker is gone");
});

for (const [when, n] of [
    ["before we break it", 1],
    ["right as we break it", 2],
] as const) {
    test(`a dead holder's lock and its breaker removed by hand ${when}: we take the lock over, no error`, async (t) => {
        const { dir, file, lock, afterReadingLock } = setup(t);
        fs.writeFileSync(lock, holder(deadPid(), "crashed"));
        afterReadingLock((i) => {
            if (i === n) for (const f of [lock, `${lock}.break`]) fs.rmSync(f, { force: true });
        });
        const held = await lockFile(file, { command: "next", ...noWait });
        assert.equal(JSON.parse(fs.readFileSync(lock, "utf8")).command, "next");
        held.release();
        assert.deepEqual(fs.readdirSync(dir), []);
    });
}

test("our lock removed by hand right as we release it: the release goes through, nothing is thrown", async (t) => {
    const { dir, file, lock, afterReadingLock } = setup(t);
    const held = await lockFile(file, { command: "mine", ...noWait });
    afterReadingLock(() => fs.rmSync(lock, { force: true }));
    held.release();
    assert.deepEqual(fs.readdirSync(dir), []);
});

test("a disk that is full, or a breaker that cannot be made: the error says so, nothing is left behind", async (t) => {
    const { dir, file, lock, saved } = setup(t);
    nodeFs.writeFileSync = (...a: unknown[]) => {
        if (String(a[0]).endsWith(".tmp")) throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
        return saved.writeFileSync(...a);
    };
    await assert.rejects(lockFile(file, { command: "c", ...noWait }), /^Error: ENOSPC: no space left on device$/);
    assert.deepEqual(fs.readdirSync(dir), []);
    // A dead holder's lock, and making the breaker fails once: reported, not taken for someone breaking it.
    const dead = holder(deadPid(), "crashed");
    saved.writeFileSync(lock, dead);
    let failed = false;
    nodeFs.writeFileSync = (...a: unknown[]) => {
        if (String(a[0]).endsWith(".break") && !failed) {
            failed = true;
            throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
        }
        return saved.writeFileSync(...a);
    };
    await assert.rejects(lockFile(file, { command: "c", ...noWait }), /EIO: i\/o error/);
    assert.equal(fs.readFileSync(lock, "utf8"), dead);
});

test("a lock path that cannot be read (a directory): reported, not waited for as another process", async (t) => {
    const { file, lock } = setup(t);
    fs.mkdirSync(lock);
    await assert.rejects(lockFile(file, { command: "c", waitMs: 0, onWait: () => {} }), /EISDIR/);
});

test("a breaker exactly 10 s old is still respected; one a millisecond older is cleared", async (t) => {
    const { file, lock } = setup(t);
    fs.writeFileSync(lock, holder(deadPid(), "crashed"));
    const made = Math.floor(Date.now() / 1000) - 100; // whole seconds: its mtimeMs is exact
    fs.writeFileSync(`${lock}.break`, "1");
    fs.utimesSync(`${lock}.break`, made, made);
    const now = mock.method(Date, "now", () => made * 1000 + 10_000);
    t.after(() => now.mock.restore());
    let done = false;
    const pending = lockFile(file, { command: "next", waitMs: 0, pollMs: 10, onWait: () => assert.fail("no waiting") }).then((l) => {
        done = true;
        return l;
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(done, false, "10 000 ms: still someone breaking it");
    assert.ok(fs.existsSync(`${lock}.break`));
    now.mock.mockImplementation(() => made * 1000 + 10_001);
    const held = await pending;
    assert.equal(JSON.parse(fs.readFileSync(lock, "utf8")).command, "next");
    held.release();
});

test("no wait at all, in the very millisecond the command started: refused at once without a waiting message", async (t) => {
    const { file, lock } = setup(t);
    fs.writeFileSync(lock, holder(process.pid, "other"));
    const at = Date.now();
    const now = mock.method(Date, "now", () => at);
    t.after(() => now.mock.restore());
    const said: string[] = [];
    await assert.rejects(lockFile(file, { command: "c", waitMs: 0, onWait: (m) => said.push(m) }), LockBusy);
    assert.deepEqual(said, []);
});

test("a live holder of another user (no permission to signal it), or whose start cannot be read now, is alive", (t) => {
    const { saved } = setup(t);
    const other = 4_000_000; // above pid_max: signalled, it would be ESRCH
    const realKill = process.kill.bind(process);
    const kill = mock.method(process, "kill", (pid: number, sig?: number) => {
        if (pid === other) throw Object.assign(new Error("EPERM"), { code: "EPERM" });
        return realKill(pid, sig);
    });
    t.after(() => kill.mock.restore());
    const h = { command: "c", since: "then", hostname: os.hostname() };
    assert.equal(holderIsGone({ ...h, pid: other, started: "" }), false, "EPERM: it exists");
    // /proc hidden (hidepid): its start mark cannot be read, which says nothing about a reused pid.
    nodeFs.readFileSync = (...a: unknown[]) => {
        if (String(a[0]).startsWith("/proc/")) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
        return saved.readFileSync(...a);
    };
    assert.equal(holderIsGone({ ...h, pid: other, started: "some-boot/12" }), false);
    assert.equal(holderIsGone({ ...h, pid: process.pid, started: "some-boot/12" }), false);
});

test("a waiting command looks again about every 100 ms, not in a busy loop: for a live holder and while another breaks a dead one", async (t) => {
    const { file, lock, afterReadingLock } = setup(t);
    let reads = 0;
    // A busy loop would never let the test's clock move: every 50 looks, 100 ms go by, so that it
    // ends (with far too many looks) instead of hanging.
    afterReadingLock(() => {
        if (++reads % 50 === 0) mock.timers.tick(100);
    });
    // The clock and its timers are the test's: 100 ms go by per tick, whatever the machine's load.
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.now() });
    t.after(() => mock.timers.reset());
    const settle = () => new Promise((r) => setImmediate(r));
    /** Ticks 100 ms at a time until `done`, at most `max` times; resolves to the ticks taken. */
    const tickUntil = async (done: () => boolean, max: number) => {
        let ticks = 0;
        for (; ticks < max && !done(); ticks++) {
            await settle();
            mock.timers.tick(100);
        }
        await settle();
        return ticks;
    };
    fs.writeFileSync(lock, holder(process.pid, "other"));
    let refused = false;
    const waiting = assert.rejects(lockFile(file, { command: "c", waitMs: 500, onWait: () => {} }), LockBusy).then(() => (refused = true));
    await tickUntil(() => refused, 20);
    await waiting;
    assert.ok(reads >= 5 && reads <= 7, `${reads} looks in 500 ms of waiting`);

    fs.writeFileSync(lock, holder(deadPid(), "crashed"));
    fs.writeFileSync(`${lock}.break`, "1");
    const fresh = new Date(Date.now() - 9_500);
    fs.utimesSync(`${lock}.break`, fresh, fresh);
    reads = 0;
    let held: { release(): void } | undefined;
    const taking = lockFile(file, { command: "next", ...noWait }).then((l) => (held = l));
    await tickUntil(() => held !== undefined, 20);
    await taking;
    assert.ok(reads >= 5 && reads <= 10, `${reads} looks in the 500 ms the other breaker was fresh`);
    held!.release();
});

test("a release left over from an earlier hold does not release the same command's next hold, even within one millisecond", async (t) => {
    const { file, lock } = setup(t);
    mock.timers.enable({ apis: ["Date"], now: Date.parse("2026-12-07T01:00:00Z") });
    t.after(() => mock.timers.reset());
    const first = await lockFile(file, { command: "project-vm apply", ...noWait });
    first.release();
    const second = await lockFile(file, { command: "project-vm apply", ...noWait });
    const text = fs.readFileSync(lock, "utf8");
    first.release();
    assert.equal(fs.readFileSync(lock, "utf8"), text, "still held");
    second.release();
    assert.ok(!fs.existsSync(lock));
});
