// What `backup` asks of the host script and what it says back, with the script stood in for: the
// environment a backup is taken with (stamp, epochs, the parent, the bitmaps to drop), the size and
// totals it reports, what --all skips and why, and the lock it holds meanwhile.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { backup, BackupContext, BackupFailed, backups, readHost } from "../cli/backup";
import { ScriptResult } from "../cli/backupRunner";
import { lockPathOf } from "../cli/lock";
import { World } from "./support/cli";
import { GiB, withClock } from "./support/backupWorld";

const day = (d: number) => `202611${String(d).padStart(2, "0")}T020000Z`;
const epoch = (d: number) => String(Date.UTC(2026, 10, d, 2) / 1000);
const vol = (d: number, kind: "full" | "inc") => `myapp--${day(d)}--${kind}.qcow2`;

interface Call {
    fn: string;
    env: Record<string, string>;
    /** The command the stack's lock file named when the script ran. */
    holder: string;
}

/**
 * The storage stack (settings from `stackEdit`) and a stand-in script: `backup_list` lists `listed`
 * (volume → [bytes, backing]), `backup_take` adds what `take` returns, and `replies` answer the rest.
 */
function stage(
    t: { after(fn: () => void): void },
    listed: Map<string, [number, string]>,
    replies: Record<string, (env: Record<string, string>, onErr: (l: string) => void) => ScriptResult> = {},
    stackEdit = (text: string) => text,
) {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    w.writeStack("storage", stackEdit(w.stackText("storage")));
    const calls: Call[] = [];
    const lock = lockPathOf(path.join(w.dir, "Pulumi.storage.yaml"));
    const ctx: BackupContext = {
        dir: w.dir,
        io: { out: (l) => w.out.push(l), err: (l) => w.err.push(l), ask: async () => undefined },
        env: {},
        command: (host, ...args) => ["project-vm", "-H", host, ...args].join(" "),
        lockWaitMs: 0,
        runScript: async (fn, env, onErr) => {
            calls.push({ fn, env, holder: fs.existsSync(lock) ? JSON.parse(fs.readFileSync(lock, "utf8")).command : "" });
            if (replies[fn]) return replies[fn](env, onErr);
            if (fn === "backup_list") {
                // Every project's, as a script that did not pick would: the CLI takes only the project's own.
                const mine = [...listed].sort();
                return { code: 0, stdout: mine.map(([v, [bytes, backing]]) => `${v} ${bytes} ${100 * GiB} ${backing}\n`).join("") };
            }
            if (fn === "backup_take") {
                const name = `${env.PROJECT}--${env.STAMP}--${env.KIND}.qcow2`;
                listed.set(name, [GiB / 2, env.KIND === "inc" ? env.PARENT : "-"]);
                return { code: 0, stdout: `made\n${name} ${env.KIND}\n` };
            }
            if (fn === "backup_delete") for (const v of env.VOLUMES.split(" ")) listed.delete(v);
            return { code: 0, stdout: "" };
        },
    };
    return { w, ctx, h: readHost(w.dir, "storage"), calls };
}

/** A week of myapp's backups: a full on the 20th, incrementals on the 21st to the 25th, each resting on the one before. */
function week(): Map<string, [number, string]> {
    const listed = new Map<string, [number, string]>([[vol(20, "full"), [3 * GiB, "-"]]]);
    for (let d = 21; d <= 25; d++) listed.set(vol(d, "inc"), [(d - 20) * 0.125 * GiB, d === 21 ? vol(20, "full") : vol(d - 1, "inc")]);
    return listed;
}

test("an incremental is taken over the newest backup, with the epochs of the stamps and the five newest bitmaps to drop", async (t) => {
    const listed = week();
    listed.set("webapp--20261125T030000Z--full.qcow2", [7 * GiB, "-"]); // another project's, newer: not myapp's parent
    const { w, ctx, h, calls } = stage(t, listed);
    assert.equal(await withClock("2026-11-26T02:00:00Z", () => backup(ctx, h, "myapp", {})), true, w.err.join("\n"));
    const take = calls.find((c) => c.fn === "backup_take")!;
    assert.equal(take.env.STAMP, day(26));
    assert.equal(take.env.EPOCH, epoch(26));
    assert.equal(take.env.KIND, "inc");
    assert.equal(take.env.PARENT, vol(25, "inc"));
    assert.equal(take.env.PARENT_EPOCH, epoch(25));
    assert.equal(take.env.OLD, [21, 22, 23, 24, 25].map((d) => `${day(d)}:${epoch(d)}`).join(" "));
    assert.deepEqual(w.out, [`myapp\t${vol(26, "inc")}`], "what was made, on stdout, one project a line");
    // The new one's size (not another's), and the total of all seven.
    const total = 3 + (1 + 2 + 3 + 4 + 5) * 0.125 + 0.5;
    assert.equal(w.err.at(-1), `project-vm: myapp: ${vol(26, "inc")} (inc, 0.50G) in 0s; 7 backup(s) kept, ${total.toFixed(2)}G in all`);
});

test("backups gives each backup the bytes its restore needs (it and what it rests on) and the total", async (t) => {
    const { w, ctx, h } = stage(t, week());
    await backups(ctx, h, "myapp", { json: true });
    const listed = JSON.parse(w.out.join("\n"));
    assert.deepEqual(
        listed.backups.map((b: any) => b.chainSize / GiB),
        [3, 3.125, 3.375, 3.75, 4.25, 4.875],
    );
    assert.equal(listed.total, 4.875 * GiB);
});

test("the total a backup reports leaves out what retention deleted", async (t) => {
    const keepOne = (text: string) =>
        text.replace("config:\n", "config:\n  project-vms:backups:\n    keepDaily: 1\n    keepWeekly: 0\n    keepLast: 1\n");
    const { w, ctx, h, calls } = stage(t, week(), {}, keepOne);
    assert.equal(
        await withClock("2026-11-26T02:00:00Z", () => backup(ctx, h, "myapp", { full: true, json: true })),
        true,
        w.err.join("\n"),
    );
    assert.equal(calls.find((c) => c.fn === "backup_take")!.env.KIND, "full");
    const removed = calls.find((c) => c.fn === "backup_delete")!.env.VOLUMES.split(" ");
    assert.deepEqual(removed, [...week().keys()], "the older chain, whole");
    assert.equal(
        w.err.at(-1),
        `project-vm: myapp: ${vol(26, "full")} (full, 0.50G) in 0s; 1 backup(s) kept, 0.50G in all; retention deleted 6`,
    );
    const json = JSON.parse(w.out.join("\n"));
    assert.deepEqual(json.backups[0].deleted, removed);
    assert.equal(json.backups[0].size, GiB / 2);
});

test("backup of one named project is taken though its VM is stopped and its disk unchanged since its newest backup", async (t) => {
    const { w, ctx, h, calls } = stage(t, week(), { backup_disk_mtime: () => ({ code: 0, stdout: `${epoch(24)}.5\n` }) });
    assert.equal(await withClock("2026-11-26T02:00:00Z", () => backup(ctx, h, "myapp", {})), true, w.err.join("\n"));
    assert.ok(
        calls.some((c) => c.fn === "backup_take"),
        "asked for by name: never skipped",
    );
    assert.deepEqual(
        calls.map((c) => c.holder),
        calls.map(() => "project-vm backup myapp"),
        "every script runs under the stack's lock, which names the backup",
    );
});

test("backup --all: which projects it skips, and what it says of a disk whose change time libvirt gives oddly or not at all", async (t) => {
    // myapp stopped with a week of backups; webapp running with one, older than its disk's change time says.
    const listed = week();
    listed.set("webapp--20261125T020000Z--full.qcow2", [GiB, "-"]);
    const mtimes: string[] = [];
    const { w, ctx, h, calls } = stage(t, listed, {
        backup_states: () => ({ code: 0, stdout: "project-myapp\tshut off\nproject-webapp\trunning\n" }),
        backup_disk_mtime: (env) => ({ code: 0, stdout: env.PROJECT === "myapp" ? `${mtimes.shift()}\n` : `${epoch(1)}.0\n` }),
    });
    const run = async (mtime: string) => {
        mtimes.push(mtime);
        w.err.length = 0;
        calls.length = 0;
        assert.equal(await withClock("2026-11-26T02:00:00Z", () => backup(ctx, h, undefined, { all: true })), true, w.err.join("\n"));
        return calls.filter((c) => c.fn === "backup_take").map((c) => c.env.PROJECT);
    };
    // A whole number of seconds, before the newest backup: unchanged, skipped; the running VM is backed up all the same.
    assert.deepEqual(await run(epoch(24)), ["webapp"]);
    assert.deepEqual(w.out, ["webapp\twebapp--20261126T020000Z--inc.qcow2"], "a skipped project makes no stdout line");
    assert.equal(
        w.err[0],
        `project-vm: myapp: skipped, project-myapp is shut off: its disk has not changed since its newest backup ${vol(25, "inc")}`,
    );
    assert.ok(calls.every((c) => c.holder === "project-vm backup --all"));
    listed.delete(vol(26, "inc"));
    listed.delete("webapp--20261126T020000Z--inc.qcow2");
    for (const odd of ["", "1764122400.5.0", "x1764122400.5"]) {
        assert.deepEqual(await run(odd), ["myapp", "webapp"], JSON.stringify(odd));
        assert.equal(
            w.err[0],
            "project-vm: myapp: project-myapp is shut off, but its disk changed at a time libvirt does not give, after its newest backup",
            JSON.stringify(odd),
        );
        for (const p of ["myapp", "webapp"]) for (const v of [...listed.keys()]) if (v.startsWith(`${p}--20261126`)) listed.delete(v);
    }
});

test("backup --all of a stopped VM without any backup copies it without speaking of a newest backup", async (t) => {
    const { w, ctx, h, calls } = stage(t, new Map(), {
        backup_states: () => ({ code: 0, stdout: "project-myapp\tshut off\n" }),
    });
    assert.equal(await withClock("2026-11-26T02:00:00Z", () => backup(ctx, h, undefined, { all: true })), true, w.err.join("\n"));
    assert.deepEqual(
        calls.filter((c) => c.fn === "backup_take").map((c) => c.env.PROJECT),
        ["myapp", "webapp"],
    );
    assert.ok(!calls.some((c) => c.fn === "backup_disk_mtime"), "nothing to compare with");
    assert.doesNotMatch(w.err.join("\n"), /newest backup/);
});

test("backup --all whose libvirt cannot be read shows what virsh said, then stops with a BackupFailed", async (t) => {
    const { w, ctx, h, calls } = stage(t, week(), {
        backup_states: (_env, onErr) => {
            onErr("error: failed to connect to the hypervisor");
            return { code: 1, stdout: "" };
        },
    });
    await assert.rejects(
        withClock("2026-11-26T02:00:00Z", () => backup(ctx, h, undefined, { all: true })),
        (e: unknown) =>
            e instanceof BackupFailed && e.name === "BackupFailed" && /cannot be reached; no backups were made$/.test(e.message),
    );
    assert.deepEqual(w.err, ["error: failed to connect to the hypervisor"]);
    assert.deepEqual(Object.keys(calls[0].env), ["LIBVIRT_URI"], "the states are read with the libvirt URI alone");
});
