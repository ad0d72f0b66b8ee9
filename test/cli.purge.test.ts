// A project disk is deleted only by the command that asked for it. Pulumi deletes a removed
// resource with the options it was last applied with, so the stand-in Pulumi here keeps, like the
// engine, each project disk's retainOnDelete from every apply (failed ones too) and deletes a disk
// whose entry goes while it is not retained.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { armedPurgesOf } from "../cli/pulumi";
import { World } from "./support/cli";

function world(t: { after(fn: () => void): void }): World {
    const w = new World();
    t.after(() => w.cleanup());
    return w;
}

const entryOf = (w: World, name: string) =>
    (parse(w.stackText("storage")).config["project-vms:projects"] as Record<string, unknown>[]).find((p) => p.name === name);

test("a destroy --purge that fails halfway, then its undo, then a plain destroy: the disk is kept", async (t) => {
    const w = world(t);
    assert.equal(await w.run("apply", "-H", "storage"), 0); // both projects exist, disks retained
    w.upCodes = [1];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge", "--yes"), 1);
    const undo = w.printedCommands().find((c) => c.endsWith(" undo"));
    assert.ok(undo, `the failure names a runnable undo: ${w.errText()}`);
    assert.equal(await w.paste(undo), 0, w.errText());
    assert.deepEqual(entryOf(w, "webapp"), { name: "webapp" }, "undo removes the purge mark along with running: false");
    // The failed apply may have armed the disk in Pulumi's state: a plain destroy disarms it first.
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.deepEqual(w.deletedDisks, []);
    assert.match(w.errText(), /its project disk stays at/);
});

test("start clears a purge mark: a project started is one kept", async (t) => {
    const w = world(t);
    w.writeStack("storage", w.stackText("storage").replace("- name: webapp", "- name: webapp\n      purge: true\n      running: false"));
    assert.equal(await w.run("start", "-H", "storage", "webapp"), 0, w.errText());
    assert.deepEqual(entryOf(w, "webapp"), { name: "webapp" });
    assert.match(w.errText(), /webapp was marked purge: true; starting it removes the mark, so its project disk is kept/);
});

test("a plain destroy of an entry still marked purge: true applies purge: false first, then removes it", async (t) => {
    const w = world(t);
    w.writeStack("storage", w.stackText("storage").replace("- name: webapp", "- name: webapp\n      purge: true"));
    assert.equal(await w.run("apply", "-H", "storage"), 0);
    const before = w.applies.length;
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.deepEqual(
        w.applies.slice(before).map((a) => a.projects.find((p) => p.name === "webapp")),
        [{ name: "webapp" }, undefined],
    );
    assert.match(
        w.errText(),
        /webapp: its entry says purge: true; removing it now would delete its project disk\. First applying purge: false/,
    );
    assert.deepEqual(w.deletedDisks, []);
});

test("a plain destroy after the state was applied with purge but the file no longer says so: purge: false first", async (t) => {
    const w = world(t);
    w.retained.storage = { myapp: true, webapp: false }; // e.g. a purge mark applied, then removed by hand
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.equal(w.applies.length, 2);
    assert.match(w.errText(), /it was last applied with purge: true/);
    assert.deepEqual(w.deletedDisks, []);
});

test("a plain destroy when Pulumi's state cannot be read plays safe, and stops if that apply fails", async (t) => {
    const w = world(t);
    w.retained.storage = { myapp: true, webapp: false };
    w.stateUnreadable = true;
    w.upCodes = [1];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 1);
    assert.match(w.errText(), /Pulumi's state could not be read \(.*backend unreachable\)/);
    assert.ok(entryOf(w, "webapp"), "the entry stays while its disk is not known to be kept");
    assert.deepEqual(w.deletedDisks, []);
});

test("a plain destroy of a project whose disk is retained takes one apply", async (t) => {
    const w = world(t);
    assert.equal(await w.run("apply", "-H", "storage"), 0);
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.equal(w.applies.length, 2);
    assert.deepEqual(w.deletedDisks, []);
});

test("destroy --purge deletes the disk (the one command that asks for it)", async (t) => {
    const w = world(t);
    assert.equal(await w.run("apply", "-H", "storage"), 0);
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge", "--yes"), 0, w.errText());
    assert.deepEqual(w.deletedDisks, ["storage/webapp"]);
});

test("list and status show a pending purge, status also when only Pulumi's state has it", async (t) => {
    const w = world(t);
    w.writeStack("storage", w.stackText("storage").replace("- name: webapp", "- name: webapp\n      purge: true"));
    assert.equal(await w.run("list", "-H", "storage"), 0, w.errText());
    assert.match(w.out.find((l) => /webapp/.test(l)) ?? "", /purge pending: removing it deletes its disk/);
    assert.doesNotMatch(w.out.find((l) => /myapp/.test(l)) ?? "", /purge/);
    w.out.length = 0;
    w.retained.storage = { myapp: false };
    assert.equal(await w.run("status", "-H", "storage", "myapp"), 0, w.errText());
    assert.match(w.out.join("\n"), /purge: +PENDING: removing this project deletes its project disk/);
    w.out.length = 0;
    assert.equal(await w.run("status", "-H", "storage", "myapp", "--json"), 0, w.errText());
    assert.equal(JSON.parse(w.out.join("\n")).purge, true);
});

test("armedPurgesOf reads the project disks without retainOnDelete from a stack export", () => {
    const urn = (n: string, type = "libvirt:index/volume:Volume") =>
        `urn:pulumi:storage::project-vms::project-vms:index:ProjectVm$${type}::${n}`;
    const exported = {
        version: 3,
        deployment: {
            resources: [
                { urn: urn("project-myapp-project-disk"), type: "libvirt:index/volume:Volume", retainOnDelete: true },
                { urn: urn("project-webapp-project-disk"), type: "libvirt:index/volume:Volume" },
                { urn: urn("project-my-api-project-disk"), type: "libvirt:index/volume:Volume", retainOnDelete: false },
                { urn: urn("project-other-system-disk"), type: "libvirt:index/volume:Volume" },
                { urn: urn("project-x-project-disk", "command:local:Command"), type: "command:local:Command" },
            ],
        },
    };
    assert.deepEqual([...armedPurgesOf(exported)].sort(), ["my-api", "webapp"]);
    assert.deepEqual([...armedPurgesOf({ version: 3, deployment: {} })], []);
    assert.deepEqual([...armedPurgesOf(null)], []);
});

test("undo of a change that lost nothing leaves a purge mark set by hand, and says nothing of loss", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    w.writeStack("storage", w.stackText("storage").replace(/^(\s+)- name: webapp$/m, "$1- name: webapp\n$1  purge: true"));
    const before = w.stackText("storage");
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.equal(await w.run("undo", "-H", "storage"), 0, w.errText());
    assert.equal(w.stackText("storage"), before, "the file as it was, its purge mark too");
    assert.doesNotMatch(w.errText(), /cannot be undone fully/);
    assert.match(w.errText(), /'stop webapp' is undone$/m);
});

test("undo after a destroy --purge says the data is gone, brings the entry back as it was, and never re-arms the purge", async (t) => {
    const w = world(t);
    // Hand-written spacing, which a YAML library's rewrite of the file would not keep.
    w.writeStack("storage", w.stackText("storage").replace("- name: webapp", "- name: webapp\n      memory:    2G   # by hand"));
    assert.equal(await w.run("apply", "-H", "storage"), 0);
    const before = w.stackText("storage");
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge", "--yes"), 0, w.errText());
    assert.deepEqual(w.deletedDisks, ["storage/webapp"]);
    assert.equal(await w.run("undo", "-H", "storage"), 0, w.errText());
    assert.match(
        w.errText(),
        /undo destroy --purge webapp: it cannot be undone fully: the project disk of webapp was deleted: undo brings back its entry with a new, empty project disk, not its data/,
    );
    assert.match(w.errText(), /'destroy --purge webapp' is undone as far as it can be/);
    assert.doesNotMatch(w.errText(), /'destroy --purge webapp' is undone\n/);
    assert.deepEqual(
        entryOf(w, "webapp"),
        { name: "webapp", memory: "2G" },
        "the entry as it was before the purge: not marked purge, not stopped",
    );
    assert.equal(w.stackText("storage"), before, "the file is back byte for byte: nothing to unmark, nothing rewritten");
    assert.equal(w.retained.storage.webapp, true, "the new disk was applied retained: a later removal keeps it");
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.deepEqual(w.deletedDisks, ["storage/webapp"], "nothing deleted after the undo");
});

test("undo never re-arms a purge mark that the entry had before destroy --purge", async (t) => {
    const w = world(t);
    w.writeStack("storage", w.stackText("storage").replace("- name: webapp", "- name: webapp\n      purge: true"));
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge", "--yes"), 0, w.errText());
    assert.equal(await w.run("undo", "-H", "storage"), 0, w.errText());
    assert.deepEqual(entryOf(w, "webapp"), { name: "webapp" });
    assert.equal(w.retained.storage.webapp, true);
});
