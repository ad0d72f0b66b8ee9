// `create` and `destroy`, their edges: another host's stack file that cannot be read, a stopped
// project of the name, a kept disk of exactly the size given, an entry refused while a disk is
// kept; destroy's question, the typed name, the names it holds the stack under and its first step.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { main } from "../cli/main";
import { worldFor } from "./support/cli";

test("create goes on when another host's stack file is not even YAML: that host has no project of the name", async (t) => {
    const w = worldFor(t);
    w.writeStack("raider", "config: [\n");
    assert.equal(await w.run("create", "-H", "storage", "newapp"), 0, w.errText());
    assert.equal(w.applies.length, 1);
});

test("create stops (exit 1, nothing written) when another host's stack file cannot be read at all", async (t) => {
    const w = worldFor(t);
    fs.mkdirSync(path.join(w.dir, "Pulumi.third.yaml"));
    const before = w.stackText("storage");
    assert.equal(await w.run("create", "-H", "storage", "newapp"), 1);
    assert.match(w.errText(), /^project-vm: EISDIR: illegal operation on a directory/m);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("create of a name a stopped project has says it is stopped, with its size", async (t) => {
    const w = worldFor(t);
    w.editEntry("storage", "webapp", "running: false");
    assert.equal(await w.run("create", "-H", "storage", "webapp"), 2);
    assert.match(
        w.errText(),
        /^project-vm: project 'webapp' already exists on host storage \(stopped; 4096 MiB, 2 CPUs, disk 50G\): start it with /m,
    );
});

test("create given exactly the size of the project disk kept for the name takes it up", async (t) => {
    const w = worldFor(t);
    w.host.volume("project-oldapp", "project.qcow2", 60 * 1024 ** 3, 1024 ** 3);
    assert.equal(await w.run("create", "-H", "storage", "oldapp", "2G", "1", "60G"), 0, w.errText());
    assert.equal(w.applies[0].projects.find((p) => p.name === "oldapp")?.disk, "60G");
    assert.match(w.errText(), /oldapp takes up the project disk kept on storage: \S+ \(60G, 1\.0G used\)/);
});

test("create whose entry the stack refuses, while a disk is kept for the name, says only why: nothing is taken up", async (t) => {
    const w = worldFor(t);
    w.host.volume("project-oldapp", "project.qcow2", 60 * 1024 ** 3, 1024 ** 3);
    const before = w.stackText("storage");
    assert.equal(await w.run("create", "-H", "storage", "oldapp", "64G"), 2);
    assert.match(w.errText(), /^project-vm: create oldapp: not done, Pulumi\.storage\.yaml is unchanged\. .*hostCapacity/ms);
    assert.doesNotMatch(w.errText(), /takes up/);
    assert.equal(w.stackText("storage"), before);
});

test("create and destroy hold the stack under their own names while Pulumi applies", async (t) => {
    const w = worldFor(t);
    const { deps, holders } = w.depsNotingHolders();
    assert.equal(await main(["create", "-H", "storage", "newapp"], deps), 0, w.errText());
    assert.equal(await main(["destroy", "-H", "storage", "newapp", "--yes"], deps), 0, w.errText());
    assert.equal(await main(["destroy", "-H", "storage", "webapp", "--purge", "--yes"], deps), 0, w.errText());
    assert.deepEqual(holders, [
        "project-vm create newapp",
        "project-vm destroy newapp",
        "project-vm destroy --purge webapp",
        "project-vm destroy --purge webapp",
    ]);
});

test("destroy asks naming the VM; --purge takes the typed name with spaces around it", async (t) => {
    const w = worldFor(t);
    w.answers = ["n"];
    assert.equal(await w.run("destroy", "-H", "storage", "myapp"), 2);
    assert.match(w.asked[0], /^Destroy project-myapp\?/);
    w.answers = [" webapp "];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge"), 0, w.errText());
    assert.equal(w.asked[1], "Type the project name (webapp) to delete it with its disk: ");
    assert.deepEqual(w.deletedDisks, ["storage/webapp"]);
});

test("destroy of a project marked purge says its first step, which keeps the disk, as it applies it", async (t) => {
    const w = worldFor(t);
    w.editEntry("storage", "webapp", "purge: true");
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.match(
        w.errText(),
        /^project-vm: destroy webapp \(step 1 of 2: keep its project disk\): \S+Pulumi\.storage\.yaml updated; applying it \(pulumi up --stack storage\)$/m,
    );
    assert.deepEqual(w.deletedDisks, []);
});
