// `apply`, `undo` and `use`, their edges: what each says, an apply that fails or is refused before
// Pulumi runs, an undo whose apply fails (the file stays as it was, and the way on is named), the
// names they hold the stack under, and where `use` remembers a host.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { main } from "../cli/main";
import { worldFor } from "./support/cli";

test("apply and undo hold the stack under their own names while Pulumi applies", async (t) => {
    const w = worldFor(t);
    const { deps, holders } = w.depsNotingHolders();
    assert.equal(await main(["apply", "-H", "storage"], deps), 0, w.errText());
    assert.equal(await main(["stop", "-H", "storage", "webapp"], deps), 0, w.errText());
    assert.equal(await main(["undo", "-H", "storage"], deps), 0, w.errText());
    assert.deepEqual(holders, ["project-vm apply", "project-vm stop webapp", "project-vm undo"]);
});

test("apply that fails: exit 1, and Pulumi's exit code named", async (t) => {
    const w = worldFor(t);
    w.upCodes = [255];
    assert.equal(await w.run("apply", "-H", "storage"), 1);
    assert.equal(w.err.at(-1), "project-vm: pulumi up --stack storage failed (exit 255); see above");
});

test("apply of a stack file with problems is refused before Pulumi runs", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", w.stackText("storage").replace("cpus: 8", "cpus: eight"));
    assert.equal(await w.run("apply", "-H", "storage"), 2);
    assert.match(w.errText(), /projects\[0\]\.cpus must be a whole number, got "eight"/);
    assert.equal(w.applies.length, 0);
});

test("undo says what it puts back and that it applies it, then that the change is undone", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    w.err.length = 0;
    assert.equal(await w.run("undo", "-H", "storage"), 0, w.errText());
    assert.deepEqual(w.err, [
        `project-vm: undo stop webapp: ${path.join(w.dir, "Pulumi.storage.yaml")} is as it was before; applying it (pulumi up --stack storage)`,
        "project-vm: 'stop webapp' is undone",
    ]);
});

test("undo whose apply fails: exit 1, the file stays as it was before the change, the way on is named, and undo is spent", async (t) => {
    const w = worldFor(t);
    const before = w.stackText("storage");
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    w.upCodes = [2];
    assert.equal(await w.run("undo", "-H", "storage"), 1);
    assert.equal(
        w.err.at(-1),
        `project-vm: undo stop webapp: pulumi up --stack storage failed (exit 2); ${path.join(w.dir, "Pulumi.storage.yaml")} is as it was before the change. ` +
            `Fix the cause shown above and run 'project-vm -C ${w.dir} -H storage apply'.`,
    );
    assert.equal(w.stackText("storage"), before);
    assert.doesNotMatch(w.errText(), /is undone/);
    assert.equal(await w.run("undo", "-H", "storage"), 2, "one step only, even when its apply failed");
    assert.match(w.err.at(-1)!, /there is no project-vm change of Pulumi\.storage\.yaml to undo/);
    assert.equal(await w.paste(w.printedCommands().at(-1)!), 0, w.errText());
    assert.equal(w.applies.at(-1)!.text, before, "the printed apply applies the file as it was");
});

test("use names the file it remembers the host in, and forgets it there", async (t) => {
    const w = worldFor(t);
    w.env.XDG_CONFIG_HOME = path.join(w.dir, "cfg");
    assert.equal(await w.run("use", "raider"), 0, w.errText());
    const file = w.errText().match(/\(([^)]+)\)$/)?.[1] ?? "";
    assert.equal(w.errText(), `project-vm: raider is the host from now on, unless -H or $PROJECT_VM_HOST says otherwise (${file})`);
    assert.ok(file.startsWith(w.env.XDG_CONFIG_HOME), file);
    assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).host, "raider");
    w.err.length = 0;
    assert.equal(await w.run("use", "--forget"), 0, w.errText());
    assert.equal(w.errText(), `project-vm: no host remembered (${file})`);
    assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).host, undefined);
});
