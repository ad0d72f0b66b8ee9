// The undo and applied records at their edges: where they are kept, private to the user, written
// whole, the newest replacing the one before, per host, and a record that is not whole or not ours
// read as no record at all.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { appliedPath, forgetUndo, readApplied, readUndo, recordApplied, recordUndo, undoPath } from "../cli/undo";

function tmpdir(t: { after(fn: () => void): void }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "undo-edges-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

const rec = (what: string) => ({ what, before: `before ${what}\n`, after: `after ${what}\n`, at: "2026-12-06T10:00:00.000Z" });

test("records live in .project-vm/ of the project folder, one per host and kind", (t) => {
    const dir = tmpdir(t);
    assert.equal(undoPath(dir, "storage"), path.join(dir, ".project-vm", "undo.storage.json"));
    assert.equal(appliedPath(dir, "storage"), path.join(dir, ".project-vm", "applied.storage.json"));
    assert.notEqual(undoPath(dir, "raider"), undoPath(dir, "storage"));
});

test("an undo record: private, written whole, the newest replaces the one before, per host, forgotten once used", (t) => {
    const dir = tmpdir(t);
    assert.equal(readUndo(dir, "storage"), undefined, "none yet");
    recordUndo(dir, "storage", rec("create a"));
    recordUndo(dir, "storage", { ...rec("destroy b"), lost: "the project disk of b" });
    recordUndo(dir, "raider", rec("create c"));
    assert.deepEqual(readUndo(dir, "storage"), { ...rec("destroy b"), lost: "the project disk of b" }, "the newest of two");
    assert.deepEqual(readUndo(dir, "raider"), rec("create c"));
    assert.equal(fs.statSync(path.join(dir, ".project-vm")).mode & 0o777, 0o700);
    assert.equal(fs.statSync(undoPath(dir, "storage")).mode & 0o777, 0o600);
    assert.deepEqual(
        fs.readdirSync(path.join(dir, ".project-vm")).sort(),
        ["undo.raider.json", "undo.storage.json"],
        "no temporary file left",
    );
    forgetUndo(dir, "storage");
    assert.equal(readUndo(dir, "storage"), undefined);
    assert.deepEqual(readUndo(dir, "raider"), rec("create c"), "the other host's is kept");
    forgetUndo(dir, "storage");
    forgetUndo(dir, "nothing-here");
});

test("an undo record that is not whole, or not one project-vm wrote, is no record", (t) => {
    const dir = tmpdir(t);
    recordUndo(dir, "storage", rec("x"));
    const file = undoPath(dir, "storage");
    const write = (v: unknown) => fs.writeFileSync(file, typeof v === "string" ? v : JSON.stringify(v));
    for (const bad of [
        "",
        "{",
        "null",
        "[]",
        '"text"',
        { ...rec("x"), before: 1 },
        { ...rec("x"), after: null },
        { ...rec("x"), what: undefined },
        { before: "a", after: "b" },
        { ...rec("x"), lost: 3 },
        { ...rec("x"), lost: null },
    ]) {
        write(bad);
        assert.equal(readUndo(dir, "storage"), undefined, JSON.stringify(bad));
    }
    write({ ...rec("x"), lost: "the disk" });
    assert.equal(readUndo(dir, "storage")?.lost, "the disk");
    write({ ...rec("x"), lost: undefined });
    assert.deepEqual(readUndo(dir, "storage"), rec("x"));
    write({ ...rec("x"), before: "", after: "" });
    assert.deepEqual(readUndo(dir, "storage"), { ...rec("x"), before: "", after: "" }, "empty texts are texts");
});

test("the applied record: the text and when; the newest kept; a record that is not whole is none", (t) => {
    const dir = tmpdir(t);
    assert.equal(readApplied(dir, "storage"), undefined);
    const before = Date.now();
    recordApplied(dir, "storage", "first\n");
    recordApplied(dir, "storage", "second\n");
    const r = readApplied(dir, "storage");
    assert.equal(r?.text, "second\n");
    const at = Date.parse(r?.at ?? "");
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `at ${r?.at}: now`);
    assert.equal(fs.statSync(appliedPath(dir, "storage")).mode & 0o777, 0o600);
    assert.equal(readApplied(dir, "raider"), undefined);
    for (const bad of ["", "null", JSON.stringify({ text: 1, at: "x" }), JSON.stringify({ text: "t" }), JSON.stringify({ at: "x" })]) {
        fs.writeFileSync(appliedPath(dir, "storage"), bad);
        assert.equal(readApplied(dir, "storage"), undefined, bad);
    }
    fs.writeFileSync(appliedPath(dir, "storage"), JSON.stringify({ text: "", at: "" }));
    assert.deepEqual(readApplied(dir, "storage"), { text: "", at: "" });
});

test("a record is written whole: a leftover temporary file of a crashed write is not read, and the folder is made if missing", (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, ".project-vm"));
    fs.writeFileSync(`${undoPath(dir, "storage")}.999.tmp`, '{"what":"half');
    assert.equal(readUndo(dir, "storage"), undefined);
    recordUndo(dir, "storage", rec("y"));
    assert.deepEqual(readUndo(dir, "storage"), rec("y"));
});
