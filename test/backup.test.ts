// Backups, the pure part: settings, names, chains, the next backup's kind, retention.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
    stampProblem,
    Backup,
    backupVolumeName,
    chainOf,
    chains,
    isoWeek,
    parseBackupSettings as parseWith,
    parseBackupVolume,
    planBackup,
    retention,
    stampOf,
    timeOfStamp,
    unchangedSinceBackup,
} from "../components/backup";
import { Reader } from "../components/configReader";

/** The settings and the problems the stack's Reader collects for them. */
function parseBackupSettings(raw: unknown, storageDir: string) {
    const r = new Reader();
    return { settings: parseWith(r, raw, storageDir), problems: r.problems };
}

const b = (stamp: string, kind: "full" | "inc", project = "myapp"): Backup => parseBackupVolume(backupVolumeName(project, stamp, kind))!;

test("backups settings: defaults, a folder elsewhere, and every problem named with its key", () => {
    assert.deepEqual(parseBackupSettings(undefined, "/var/lib/project-vms").settings, {
        dir: "/var/lib/project-vms/_backups",
        keepDaily: 7,
        keepWeekly: 4,
        keepLast: 3,
        fullEvery: 7,
    });
    assert.deepEqual(
        parseBackupSettings({ dir: "/mnt/nas/vm-backups", keepDaily: 3, keepWeekly: 0, keepLast: 1, fullEvery: 1 }, "/var/lib/project-vms")
            .settings,
        { dir: "/mnt/nas/vm-backups", keepDaily: 3, keepWeekly: 0, keepLast: 1, fullEvery: 1 },
    );
    const bad = parseBackupSettings(
        { dir: "/mnt/../etc", keepDaily: 0, keepWeekly: 1.5, fullEvery: "x", every: 1 },
        "/var/lib/project-vms",
    );
    assert.equal(bad.settings, undefined);
    assert.deepEqual(bad.problems, [
        "project-vms:backups.every is not a known key; known: dir, keepDaily, keepWeekly, keepLast, fullEvery",
        "project-vms:backups.dir \"/mnt/../etc\" must not contain '..'",
        "project-vms:backups.keepDaily is 0; it must be between 1 and 1000",
        "project-vms:backups.keepWeekly must be a whole number, got 1.5",
        'project-vms:backups.fullEvery must be a whole number, got "x"',
    ]);
    for (const dir of ["relative/dir", "/with space", "/a'quote", "/x/<y>", "/trailing/", "/a//b", "/a/./b"]) {
        assert.equal(parseBackupSettings({ dir }, "/var/lib/project-vms").settings, undefined, dir);
    }
    // Never a project's folder (it would show that project's disks as backups).
    assert.match(
        parseBackupSettings({ dir: "/var/lib/project-vms/myapp" }, "/var/lib/project-vms").problems[0],
        /inside a project's folder/,
    );
    assert.match(parseBackupSettings({ dir: "/var/lib/project-vms" }, "/var/lib/project-vms").problems[0], /inside a project's folder/);
    assert.ok(parseBackupSettings({ dir: "/var/lib/project-vms/_backups/x" }, "/var/lib/project-vms").settings);
    // A folder under storageDir whose name no project can have, and a sibling whose name starts like storageDir's.
    assert.ok(parseBackupSettings({ dir: "/var/lib/project-vms/old.backups" }, "/var/lib/project-vms").settings);
    assert.ok(parseBackupSettings({ dir: "/var/lib/project-vms-backups" }, "/var/lib/project-vms").settings);
    assert.match(parseBackupSettings("daily", "/s").problems[0], /must be an object/);
});

test("backup volume names: made, parsed, and nothing else taken for one", () => {
    const t = new Date("2026-11-27T11:15:00.123Z");
    assert.equal(stampOf(t), "20261127T111500Z");
    assert.equal(timeOfStamp("20261127T111500Z")!.toISOString(), "2026-11-27T11:15:00.000Z");
    assert.equal(timeOfStamp("20261327T111500Z"), undefined, "month 13");
    assert.equal(backupVolumeName("myapp", "20261127T111500Z", "inc"), "myapp--20261127T111500Z--inc.qcow2");
    assert.deepEqual(parseBackupVolume("my-app--20261127T111500Z--full.qcow2"), {
        volume: "my-app--20261127T111500Z--full.qcow2",
        project: "my-app",
        stamp: "20261127T111500Z",
        time: new Date("2026-11-27T11:15:00Z"),
        kind: "full",
    });
    for (const v of [
        "project.qcow2",
        "myapp--20261127T111500Z--diff.qcow2",
        "../x--20261127T111500Z--full.qcow2",
        "MyApp--20261127T111500Z--full.qcow2",
        "myapp--20261127T111500Z--full.qcow2.tmp",
        "myapp--2026-11-27--full.qcow2",
    ]) {
        assert.equal(parseBackupVolume(v), undefined, v);
    }
});

test("chains: a full and the incrementals over it; the next backup is incremental until fullEvery", () => {
    const list = [b("20261103T020000Z", "inc"), b("20261101T020000Z", "full"), b("20261102T020000Z", "inc"), b("20261104T020000Z", "full")];
    assert.deepEqual(
        chains(list).map((c) => c.map((x) => x.stamp)),
        [["20261101T020000Z", "20261102T020000Z", "20261103T020000Z"], ["20261104T020000Z"]],
    );
    assert.deepEqual(
        chainOf(list, "myapp--20261103T020000Z--inc.qcow2")!.map((x) => x.kind),
        ["full", "inc", "inc"],
    );
    assert.equal(chainOf(list, "other--20261103T020000Z--inc.qcow2"), undefined);

    assert.deepEqual(planBackup([], 7), { kind: "full" });
    assert.deepEqual(planBackup(list, 7), { kind: "inc", parent: list[3] });
    assert.deepEqual(planBackup(list, 7, true), { kind: "full" }, "--full");
    assert.deepEqual(planBackup(list.slice(0, 3), 3), { kind: "full" }, "a chain of fullEvery backups ends");
    assert.deepEqual(planBackup(list.slice(0, 3), 4), { kind: "inc", parent: list[0] });
    assert.deepEqual(planBackup([b("20261101T020000Z", "inc")], 7), { kind: "full" }, "an orphan incremental is no base");
});

test("retention keeps the newest per day and per week, with everything they rest on, and deletes whole chains only", () => {
    assert.equal(isoWeek(new Date("2026-11-27T00:00:00Z")), "2026-W48");
    assert.equal(isoWeek(new Date("2027-01-01T00:00:00Z")), "2026-W53");
    assert.equal(isoWeek(new Date("2026-01-01T00:00:00Z")), "2026-W01");

    // Six weeks of nightly backups, a full every 7th night, and a second backup on the last day.
    const list: Backup[] = [];
    for (let d = 0; d < 42; d++) {
        const day = new Date(Date.UTC(2026, 9, 1 + d, 2));
        list.push(b(stampOf(day), d % 7 === 0 ? "full" : "inc"));
    }
    list.push(b("20261111T150000Z", "inc"));
    const { keep, remove } = retention(list, { keepDaily: 7, keepWeekly: 4 });
    assert.equal(keep.length + remove.length, list.length);
    const kept = new Set(keep.map((x) => x.volume));
    // The newest is kept, and every kept backup's chain is kept whole up to it.
    assert.ok(kept.has("myapp--20261111T150000Z--inc.qcow2"));
    for (const k of keep) for (const dep of chainOf(list, k.volume)!) assert.ok(kept.has(dep.volume), `${k.volume} needs ${dep.volume}`);
    // The last 7 days are there.
    for (let d = 35; d < 42; d++)
        assert.ok(kept.has(backupVolumeName("myapp", stampOf(new Date(Date.UTC(2026, 9, 1 + d, 2))), d % 7 === 0 ? "full" : "inc")));
    // The oldest chains went, whole.
    assert.ok(!kept.has("myapp--20261001T020000Z--full.qcow2"));
    assert.ok(remove.every((r) => !keep.some((k) => chainOf(list, k.volume)!.includes(r))));
    // The day before the last second backup keeps only its newest.
    assert.deepEqual(
        retention(list, { keepDaily: 1, keepWeekly: 0 })
            .keep.map((x) => x.stamp)
            .slice(-1),
        ["20261111T150000Z"],
    );
    // Nothing to delete when everything is one chain still growing.
    assert.deepEqual(retention(list.slice(0, 5), { keepDaily: 1, keepWeekly: 0 }).remove, []);
    // keepLast: a backup taken before a restore stays when a new chain starts the same day.
    const sameDay = [b("20261127T020000Z", "full"), b("20261127T030000Z", "inc"), b("20261127T050000Z", "full")];
    assert.deepEqual(
        retention(sameDay, { keepDaily: 7, keepWeekly: 0, keepLast: 1 }).remove.map((x) => x.stamp),
        ["20261127T020000Z", "20261127T030000Z"],
    );
    assert.deepEqual(retention(sameDay, { keepDaily: 7, keepWeekly: 0, keepLast: 2 }).remove, []);
    // keepDaily is at least 1: the newest backup is never deleted.
    assert.equal(retention(list, { keepDaily: 0, keepWeekly: 0 }).keep.at(-1)!.stamp, "20261111T150000Z");
});

test("a VM that is not running is skipped only when its newest backup is newer than its disk's last change", () => {
    const list = [b("20261127T020000Z", "full"), b("20261128T020000Z", "inc")];
    assert.equal(unchangedSinceBackup(list, new Date("2026-11-27T20:00:00Z")), true, "stopped before the newest backup");
    assert.equal(
        unchangedSinceBackup(list, new Date("2026-11-28T02:00:00.500Z")),
        false,
        "changed within the backup's second: backed up again",
    );
    assert.equal(unchangedSinceBackup(list, new Date("2026-11-28T02:00:00Z")), false, "changed at the very moment of the backup");
    assert.equal(unchangedSinceBackup(list, new Date("2026-11-29T00:00:00Z")), false, "changed after it");
    assert.equal(unchangedSinceBackup(list, undefined), false, "unknown: backed up");
    assert.equal(unchangedSinceBackup([], new Date(0)), false, "no backup yet");
});

test("chains follow the backing files, not the stamps: an incremental stamped by a clock behind keeps the full it rests on", () => {
    const on = (x: Backup, parent: Backup | undefined): Backup => ({ ...x, parent: parent?.volume ?? "" });
    // A workstation 30 min behind the host's timer took I1 at 00:20 (day 2) over the host's F1 of
    // 00:10: I1 is stamped 23:50 of day 1, before F1.
    const F0 = on(b("20261101T100000Z", "full"), undefined);
    const F1 = on(b("20261102T001000Z", "full"), undefined);
    const I1 = on(b("20261101T235000Z", "inc"), F1);
    const G = on(b("20261102T003000Z", "full"), undefined);
    const list = [F0, I1, F1, G];
    assert.deepEqual(
        chainOf(list, I1.volume)!.map((x) => x.volume),
        [F1.volume, I1.volume],
        "I1 rests on F1, as its file says",
    );
    const { keep, remove } = retention(list, { keepLast: 1, keepDaily: 3, keepWeekly: 0 });
    assert.ok(keep.includes(I1), "I1 is the newest of day 1");
    assert.ok(keep.includes(F1), "so the full it rests on is kept");
    assert.deepEqual(
        remove.map((x) => x.volume),
        [F0.volume],
    );
    // By stamps alone (parents unknown), F1 would have gone: I1 taken for F0's.
    const byStamps = retention(
        list.map(({ parent: _, ...x }) => x),
        { keepLast: 1, keepDaily: 3, keepWeekly: 0 },
    );
    assert.ok(
        byStamps.remove.some((x) => x.volume === F1.volume),
        "the test shows the difference",
    );

    const orphan = on(b("20261103T020000Z", "inc"), b("20261030T020000Z", "full"));
    assert.deepEqual(
        chains([F1, orphan]).map((c) => c.map((x) => x.volume)),
        [[F1.volume], [orphan.volume]],
        "an incremental whose parent is gone is a chain of its own",
    );
    assert.deepEqual(planBackup([F1, orphan], 7), { kind: "full" }, "and no base for the next backup");

    // Two incrementals that rest on each other (files edited by hand): each a chain of its own, and the lookup ends.
    const A = b("20261104T020000Z", "inc");
    const B = b("20261105T020000Z", "inc");
    const loop = [F1, on(A, B), on(B, A)];
    assert.deepEqual(
        chains(loop).map((c) => c.map((x) => x.volume)),
        [[F1.volume], [A.volume], [B.volume]],
    );
    assert.deepEqual(planBackup(loop, 7), { kind: "full" });
});

test("an incremental resting on one whose parent is gone joins its broken chain, which is never built on", () => {
    const F1 = b("20261101T020000Z", "full");
    const gone = b("20261030T020000Z", "full");
    const O = { ...b("20261103T020000Z", "inc"), parent: gone.volume };
    const P = { ...b("20261104T020000Z", "inc"), parent: O.volume };
    const list = [{ ...F1, parent: "" }, O, P];
    assert.deepEqual(
        chains(list).map((c) => c.map((x) => x.volume)),
        [[F1.volume], [O.volume, P.volume]],
    );
    assert.deepEqual(planBackup(list, 7), { kind: "full" });
});

test("chains follow the backing files only when every parent is known; else the stamps", () => {
    const F = { ...b("20261101T020000Z", "full"), parent: "" };
    const I = b("20261102T020000Z", "inc"); // its parent unknown
    assert.deepEqual(
        chains([F, I]).map((c) => c.map((x) => x.volume)),
        [[F.volume, I.volume]],
        "by the stamps, I rests on F",
    );
});

test("a backup of a project named with one character is read back as its", () => {
    assert.equal(parseBackupVolume("a--20261101T020000Z--full.qcow2")?.project, "a");
    assert.equal(parseBackupVolume("-a--20261101T020000Z--full.qcow2"), undefined);
    assert.equal(parseBackupVolume("a---20261101T020000Z--full.qcow2"), undefined);
});

test("a backup is refused when this machine's clock is not later than the newest backup's", () => {
    const newest = b("20261102T003000Z", "full");
    assert.match(
        stampProblem("20261102T001000Z", newest)!,
        /this machine's clock \(20261102T001000Z\) is not later than the newest backup's \(myapp--20261102T003000Z--full\.qcow2\)/,
    );
    assert.ok(stampProblem("20261102T003000Z", newest), "the same second too");
    assert.equal(stampProblem("20261102T003001Z", newest), undefined);
    assert.equal(stampProblem("20261102T003000Z", undefined), undefined, "the first backup");
});
