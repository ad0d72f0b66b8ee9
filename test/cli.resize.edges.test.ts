// `resize`, its edges: what it says before a restart and when answered no, a stopped project
// (nothing to restart, nothing asked), a value given as it already is, the disk that only grows,
// and the name it holds the stack under.
import assert from "node:assert/strict";
import { test } from "node:test";
import { main } from "../cli/main";
import { worldFor } from "./support/cli";

test("resize of a running VM's memory says it restarts and asks; answered no, nothing changes", async (t) => {
    const w = worldFor(t);
    const before = w.stackText("storage");
    w.answers = ["n"];
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-c", "6"), 2);
    assert.deepEqual(w.err, [
        "project-vm: new memory or vCPUs need a new VM: project-myapp is shut down (ACPI, forced after the stack's shutdownTimeout) and comes back on the same disks.",
        "project-vm: resize cancelled; nothing changed",
    ]);
    assert.deepEqual(w.asked.length, 1);
    assert.match(w.asked[0], /^Restart project-myapp now\?/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("resize of a stopped project's memory asks nothing (there is no VM to restart) and says what it has now", async (t) => {
    const w = worldFor(t);
    w.editEntry("storage", "webapp", "running: false");
    assert.equal(await w.run("resize", "-H", "storage", "webapp", "-m", "8G", "-c", "3"), 0, w.errText());
    assert.deepEqual(w.asked, []);
    assert.equal(w.err.at(-1), "project-vm: webapp has 8192 MiB, 3 vCPUs and a 50G project disk");
    assert.doesNotMatch(w.errText(), /need a new VM/);
    assert.equal(w.applies.length, 1);
});

test("resize with the memory it already has and other vCPUs restarts for the vCPUs; with the same vCPUs and a bigger disk it does not", async (t) => {
    const w = worldFor(t);
    w.answers = ["y"];
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-m", "16384", "-c", "6"), 0, w.errText());
    assert.equal(w.asked.length, 1);
    assert.equal(w.err.at(-1), "project-vm: myapp has 16384 MiB, 6 vCPUs and a 100G project disk");
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-m", "16G", "-c", "6", "-d", "101G"), 0, w.errText());
    assert.equal(w.asked.length, 1, "a disk grows in place: nothing asked");
    assert.equal(
        w.err.at(-1),
        "project-vm: myapp has 16384 MiB, 6 vCPUs and a 101G project disk (its filesystem grows at the VM's next boot)",
    );
    assert.equal(w.applies.length, 2);
});

test("resize to a disk of the same size given in other units is nothing to do; one byte less is a shrink, refused", async (t) => {
    const w = worldFor(t);
    const before = w.stackText("storage");
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-d", "102400M"), 0, w.errText());
    assert.deepEqual(w.err, ["project-vm: myapp already has 16384 MiB, 8 vCPUs and a 100G project disk; nothing to do"]);
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-d", "104857599K"), 2);
    assert.equal(
        w.err.at(-1),
        "project-vm: the project disk of myapp is 100G and cannot shrink to 104857599K (shrinking would cut off work); nothing changed",
    );
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("resize holds the stack as 'resize <name>' while it asks and applies", async (t) => {
    const w = worldFor(t);
    const deps = w.deps();
    const seen: string[] = [];
    deps.io.ask = async () => {
        seen.push(w.lockHolder());
        return "y";
    };
    assert.equal(await main(["resize", "-H", "storage", "myapp", "-c", "6"], deps), 0, w.errText());
    assert.deepEqual(seen, ["project-vm resize myapp"]);
});
