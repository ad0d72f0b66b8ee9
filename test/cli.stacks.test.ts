// The CLI's edits of real copies of the stack files: comments and order kept, invalid input
// refused with the key named and nothing written, atomic writes; and how it finds the project
// and the host.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { findProjectDir, pickHost, StackFile, UsageError, writeAtomically } from "../cli/stacks";
import { World } from "./support/cli";

const HOSTS = ["storage", "raider"];

for (const host of HOSTS) {
    test(`create on ${host}: the file is kept as it was, with the new entry after the last`, async (t) => {
        const w = new World();
        t.after(() => w.cleanup());
        const before = w.stackText(host);
        assert.equal(await w.run("create", "-H", host, "newproj", "8G", "4", "200G", "--no-claude-code"), 0, w.errText());
        const after = w.stackText(host);
        assert.ok(after.startsWith(before), `every line, comment and key of Pulumi.${host}.yaml stays as it was:\n${after}`);
        const entries = parse(after).config["project-vms:projects"];
        assert.deepEqual(entries[entries.length - 1], { name: "newproj", memory: 8192, cpus: 4, disk: "200G", features: { claudeCode: false } });
        assert.equal(w.applies.length, 1);
        assert.equal(w.applies[0].text, after, "pulumi up ran on the written file");
        assert.deepEqual(w.files(), ["Pulumi.raider.yaml", "Pulumi.storage.yaml", "Pulumi.yaml"], "no temporary file is left");
    });
}

test("removing an entry takes its own comment with it and leaves every other line", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const before = w.stackText("storage").split("\n");
    assert.equal(await w.run("destroy", "-H", "storage", "myapp", "--yes"), 0, w.errText());
    const after = w.stackText("storage").split("\n");
    const removed = before.filter((l) => !after.includes(l));
    assert.deepEqual(removed, [
        "    # The main app: a big VM (16 GiB, 8 vCPUs, 100 GiB of project disk).",
        "    - name: myapp",
        "      memory: 16384",
        "      cpus: 8",
        "      disk: 100G",
    ]);
    assert.deepEqual(after, before.filter((l) => !removed.includes(l)), "the other lines keep their order");
    assert.ok(after.includes("    # A smaller one, on the defaults."));
});

test("stop and start edit only the running key of the entry", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const original = w.stackText("raider");
    assert.equal(await w.run("stop", "-H", "raider", "sandbox"), 0, w.errText());
    assert.match(w.stackText("raider"), /- name: sandbox\n {6}features:\n {8}tailscale: false\n {8}claudeCode: false\n {6}running: false\n/);
    assert.equal(await w.run("start", "-H", "raider", "sandbox"), 0, w.errText());
    assert.equal(w.stackText("raider"), original, "start puts the entry back as it was (running is the default)");
});

/** Runs a change that must be refused: exit 2, the file byte for byte as it was, no apply, no temp file. */
async function refused(t: { after(fn: () => void): void }, args: string[], expected: RegExp, edit?: (w: World) => void): Promise<void> {
    const w = new World();
    t.after(() => w.cleanup());
    edit?.(w);
    const before = w.stackText("storage");
    assert.equal(await w.run(...args), 2, w.errText());
    assert.match(w.errText(), expected);
    assert.equal(w.stackText("storage"), before, "nothing written");
    assert.equal(w.applies.length, 0, "nothing applied");
    assert.ok(!w.files().some((f) => f.endsWith(".tmp")), "no temporary file");
    assert.doesNotMatch(w.errText(), /\n\s+at /, "no stack trace");
}

test("invalid input is refused naming the key, and nothing is written", async (t) => {
    await t.test("memory below the minimum", (t) => refused(t, ["create", "-H", "storage", "tiny", "512"],
        /create tiny: not done, Pulumi\.storage\.yaml is unchanged.*\n.*project-vms:projects\[2\]\.memory is 512 MiB; it must be between 1024/));
    await t.test("a name that is not a DNS label", (t) => refused(t, ["create", "-H", "storage", "My_App"], /project name 'My_App' must be a DNS label/));
    await t.test("a reserved name", (t) => refused(t, ["create", "-H", "storage", "base"], /project name 'base' is reserved/));
    await t.test("a name already taken", (t) => refused(t, ["create", "-H", "storage", "webapp"], /project 'webapp' already exists on host storage/));
    await t.test("memory that is not a number", (t) => refused(t, ["create", "-H", "storage", "x", "lots"], /memory must be MiB \(e\.g\. 8192\) or a size with a unit \(e\.g\. 8G\), got 'lots'/));
    await t.test("cpus that are not a number", (t) => refused(t, ["create", "-H", "storage", "x", "4G", "two"], /cpus must be a whole number/));
    await t.test("a disk without a unit", (t) => refused(t, ["create", "-H", "storage", "x", "4G", "2", "100"], /disk must be a size with a unit/));
    await t.test("more than the host can run", (t) => refused(t, ["create", "-H", "storage", "huge", "40G", "2"],
        /project-vms:hostCapacity is 57344 MiB of memory, but the running projects need 61440 MiB/));
    await t.test("a project disk shrink", (t) => refused(t, ["resize", "-H", "storage", "myapp", "--disk", "50G"],
        /the project disk of myapp is 100G and cannot shrink to 50G/));
    await t.test("a stack file that is not YAML", (t) => refused(t, ["create", "-H", "storage", "x"], /Pulumi\.storage\.yaml is not valid YAML/,
        (w) => w.writeStack("storage", `${w.stackText("storage")}\n  bad: [unclosed\n`)));
    await t.test("a project that does not exist", (t) => refused(t, ["stop", "-H", "storage", "nope"], /there is no project 'nope' on host storage \(its projects: myapp, webapp\)/));
});

test("a stack file without projects gets its projects list", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const text = w.stackText("storage");
    w.writeStack("storage", text.slice(0, text.indexOf("  # One entry per project")));
    assert.equal(await w.run("create", "-H", "storage", "first"), 0, w.errText());
    assert.deepEqual(parse(w.stackText("storage")).config["project-vms:projects"], [{ name: "first" }]);
});

test("with versioned base images, create pins the entry to the newest", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const text = w.stackText("storage").replace("  project-vms:storageDir:", [
        "  project-vms:baseImages:",
        "    - version: 2026-10",
        "      url: https://example.org/2026-10.qcow2",
        "    - version: 2026-11",
        "      url: https://example.org/2026-11.qcow2",
        "  project-vms:storageDir:",
    ].join("\n"));
    w.writeStack("storage", text);
    assert.equal(await w.run("create", "-H", "storage", "pinned"), 0, w.errText());
    const entries = parse(w.stackText("storage")).config["project-vms:projects"];
    assert.deepEqual(entries[2], { name: "pinned", base: "2026-11" });
});

test("a stack file changed by someone else meanwhile is not overwritten", (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const stack = new StackFile(w.dir, "storage");
    stack.addProject("mine", {});
    const theirs = `${w.stackText("storage")}# edited meanwhile\n`;
    w.writeStack("storage", theirs);
    assert.throws(() => stack.save("create mine"), /changed while create mine was being prepared; nothing written/);
    assert.equal(w.stackText("storage"), theirs);
});

test("writes are atomic and keep the file's mode", (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const file = path.join(w.dir, "Pulumi.storage.yaml");
    fs.chmodSync(file, 0o640);
    writeAtomically(file, "config: {}\n");
    assert.equal(fs.readFileSync(file, "utf8"), "config: {}\n");
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.deepEqual(w.files(), ["Pulumi.raider.yaml", "Pulumi.storage.yaml", "Pulumi.yaml"]);
});

test("the host: --host, else PROJECT_VM_HOST, else the only stack; otherwise an error that lists them", () => {
    assert.equal(pickHost(["raider", "storage"], { host: "raider", env: { PROJECT_VM_HOST: "storage" } }), "raider");
    assert.equal(pickHost(["raider", "storage"], { env: { PROJECT_VM_HOST: "storage" } }), "storage");
    assert.equal(pickHost(["storage"], { env: {} }), "storage");
    assert.throws(() => pickHost(["raider", "storage"], { env: {} }), /there are 2 hosts \(raider, storage\): pick one with --host <host> or PROJECT_VM_HOST/);
    assert.throws(() => pickHost(["raider", "storage"], { env: { PROJECT_VM_HOST: "nas" } }), /no host stack 'nas' \(from PROJECT_VM_HOST\): the hosts are raider, storage/);
    assert.throws(() => pickHost([], { env: {} }), UsageError);
});

test("the project folder: --dir, else PROJECT_VMS_DIR, else found upwards from here, else where the CLI is installed", (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const sub = path.join(w.dir, "a", "b");
    fs.mkdirSync(sub, { recursive: true });
    const none = path.dirname(w.dir);
    assert.equal(findProjectDir({ env: {}, cwd: sub, installedAt: none }), w.dir);
    assert.equal(findProjectDir({ env: { PROJECT_VMS_DIR: w.dir }, cwd: "/", installedAt: none }), w.dir);
    assert.equal(findProjectDir({ dir: "../..", env: {}, cwd: sub, installedAt: none }), w.dir);
    assert.equal(findProjectDir({ env: {}, cwd: "/", installedAt: w.dir }), w.dir);
    assert.throws(() => findProjectDir({ dir: sub, env: {}, cwd: "/", installedAt: w.dir }), /is not the project-vms Pulumi project .*given with --dir/);
    assert.throws(() => findProjectDir({ env: { PROJECT_VMS_DIR: sub }, cwd: "/", installedAt: w.dir }), /given in PROJECT_VMS_DIR/);
    assert.throws(() => findProjectDir({ env: {}, cwd: "/", installedAt: none }), /cannot find the project-vms Pulumi project/);
});
