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
        assert.deepEqual(entries[entries.length - 1], {
            name: "newproj",
            memory: 8192,
            cpus: 4,
            disk: "200G",
            features: { claudeCode: false },
        });
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
    assert.deepEqual(
        after,
        before.filter((l) => !removed.includes(l)),
        "the other lines keep their order",
    );
    assert.ok(after.includes("    # A smaller one, on the defaults."));
});

test("stop and start edit only the running key of the entry", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const original = w.stackText("raider");
    assert.equal(await w.run("stop", "-H", "raider", "sandbox"), 0, w.errText());
    assert.match(
        w.stackText("raider"),
        /- name: sandbox\n {6}features:\n {8}tailscale: false\n {8}claudeCode: false\n {6}running: false\n/,
    );
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
    await t.test("memory below the minimum", (t) =>
        refused(
            t,
            ["create", "-H", "storage", "tiny", "512"],
            /create tiny: not done, Pulumi\.storage\.yaml is unchanged.*\n.*project-vms:projects\[2\]\.memory is 512 MiB; it must be between 1024/,
        ),
    );
    await t.test("a name that is not a DNS label", (t) =>
        refused(t, ["create", "-H", "storage", "My_App"], /project name 'My_App' must be a DNS label/),
    );
    await t.test("a reserved name", (t) => refused(t, ["create", "-H", "storage", "base"], /project name 'base' is reserved/));
    await t.test("a name already taken", (t) =>
        refused(
            t,
            ["create", "-H", "storage", "webapp"],
            /project 'webapp' already exists on host storage \(running; 4096 MiB, 2 CPUs, disk 50G\): start it with 'project-vm -C \S+ -H storage start webapp', change its size with 'project-vm -C \S+ -H storage resize webapp --memory <size>', or pick another name/,
        ),
    );
    await t.test("memory that is not a number", (t) =>
        refused(
            t,
            ["create", "-H", "storage", "x", "lots"],
            /memory must be MiB \(e\.g\. 8192\) or a size with a unit \(e\.g\. 8G\), got 'lots'/,
        ),
    );
    await t.test("cpus that are not a number", (t) =>
        refused(t, ["create", "-H", "storage", "x", "4G", "two"], /cpus must be a whole number/),
    );
    await t.test("a disk without a unit", (t) =>
        refused(t, ["create", "-H", "storage", "x", "4G", "2", "100"], /disk must be a size with a unit/),
    );
    await t.test("more than the host can run", (t) =>
        refused(
            t,
            ["create", "-H", "storage", "huge", "40G", "2"],
            /project-vms:hostCapacity is 57344 MiB of memory, but the running projects need 61440 MiB/,
        ),
    );
    await t.test("a project disk shrink", (t) =>
        refused(t, ["resize", "-H", "storage", "myapp", "--disk", "50G"], /the project disk of myapp is 100G and cannot shrink to 50G/),
    );
    await t.test("a stack file that is not YAML", (t) =>
        refused(t, ["create", "-H", "storage", "x"], /Pulumi\.storage\.yaml is not valid YAML: line \d+, column \d+: .*[^:]$/m, (w) =>
            w.writeStack("storage", `${w.stackText("storage")}\n  bad: [unclosed\n`),
        ),
    );
    await t.test("a key given twice", (t) =>
        refused(
            t,
            ["create", "-H", "storage", "x"],
            /Pulumi\.storage\.yaml is not valid YAML: line \d+, column 3: the key 'project-vms:libvirtUri' is given twice in one map: "  project-vms:libvirtUri: qemu\+ssh:\/\/admin@storage\/system"$/m,
            (w) =>
                w.writeStack("storage", w.stackText("storage").replace("config:\n", "config:\n  project-vms:libvirtUri: qemu:///system\n")),
        ),
    );
    await t.test("a project that does not exist", (t) =>
        refused(t, ["stop", "-H", "storage", "nope"], /there is no project 'nope' on host storage \(its projects: myapp, webapp\)/),
    );
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
    const text = w
        .stackText("storage")
        .replace(
            "  project-vms:storageDir:",
            [
                "  project-vms:baseImages:",
                "    - version: 2026-10",
                "      url: https://cloud.debian.org/images/cloud/forky/2026-10.qcow2",
                "    - version: 2026-11",
                "      url: https://cloud.debian.org/images/cloud/forky/2026-11.qcow2",
                "  project-vms:storageDir:",
            ].join("\n"),
        );
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

test("save replaces the file by a rename: a hard link and an open fd to the old file still see it whole", (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const file = path.join(w.dir, "Pulumi.storage.yaml");
    const before = w.stackText("storage");
    const old = path.join(w.dir, "old-link");
    fs.linkSync(file, old);
    const fd = fs.openSync(file, "r");
    t.after(() => fs.closeSync(fd));
    const inode = fs.statSync(file).ino;
    const stack = new StackFile(w.dir, "storage");
    stack.addProject("mine", {});
    stack.save("create mine");
    assert.notEqual(fs.statSync(file).ino, inode, "a new file took the name (written in place, the inode would stay)");
    assert.equal(fs.readFileSync(old, "utf8"), before, "the old file is untouched, whole");
    assert.equal(fs.readFileSync(fd, "utf8"), before, "a reader that had it open reads the old file whole");
    assert.equal(w.stackText("storage"), stack.text());
});

/** A file system that fails at `failAt` (after writing half of what it was given, for writeSync). */
function failingFs(failAt: "openSync" | "writeSync" | "fsyncSync" | "renameSync"): typeof fs {
    const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    return {
        ...fs,
        [failAt]: (...args: any[]) => {
            if (failAt === "writeSync") {
                const [fd, buf, off, len] = args as [number, Buffer, number, number];
                fs.writeSync(fd, buf, off, Math.floor(len / 2));
            }
            throw enospc();
        },
    } as typeof fs;
}

test("a write that fails midway (disk full, failing fsync or rename) leaves the old file whole and no temporary file", async (t) => {
    for (const failAt of ["openSync", "writeSync", "fsyncSync", "renameSync"] as const) {
        await t.test(failAt, (t) => {
            const w = new World();
            t.after(() => w.cleanup());
            const file = path.join(w.dir, "Pulumi.storage.yaml");
            const before = w.stackText("storage");
            assert.throws(() => writeAtomically(file, `${before}# more\n`.repeat(50), failingFs(failAt)), /ENOSPC/);
            assert.equal(w.stackText("storage"), before);
            assert.deepEqual(w.files(), ["Pulumi.raider.yaml", "Pulumi.storage.yaml", "Pulumi.yaml"], "no temporary file is left");
        });
    }
});

test("the file's mode is kept exactly, group-write too, whatever the umask", async (t) => {
    for (const mode of [0o664, 0o640, 0o600, 0o666]) {
        const w = new World();
        t.after(() => w.cleanup());
        fs.chmodSync(path.join(w.dir, "Pulumi.storage.yaml"), mode);
        const umask = process.umask(0o022);
        try {
            assert.equal(await w.run("create", "-H", "storage", "newproj"), 0, w.errText());
        } finally {
            process.umask(umask);
        }
        assert.equal((fs.statSync(path.join(w.dir, "Pulumi.storage.yaml")).mode & 0o777).toString(8), mode.toString(8));
    }
});

test("a read-only stack file is refused: exit 2, a clear message, nothing written or applied", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const file = path.join(w.dir, "Pulumi.storage.yaml");
    const before = w.stackText("storage");
    fs.chmodSync(file, 0o444);
    assert.equal(await w.run("create", "-H", "storage", "newproj"), 2);
    assert.match(w.errText(), /Pulumi\.storage\.yaml is read-only \(mode 0444\); nothing written\. Make it writable \(chmod u\+w\)/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(fs.statSync(file).mode & 0o777, 0o444);
    assert.equal(w.applies.length, 0);
    assert.deepEqual(w.files(), ["Pulumi.raider.yaml", "Pulumi.storage.yaml", "Pulumi.yaml"]);
});

test("a symlinked stack file: its target is written (the temporary copy beside it), the link stays a link", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const link = path.join(w.dir, "Pulumi.storage.yaml");
    const realDir = path.join(w.dir, "elsewhere");
    fs.mkdirSync(realDir);
    const target = path.join(realDir, "storage-stack.yaml");
    fs.renameSync(link, target);
    fs.symlinkSync(path.relative(w.dir, target), link);
    assert.equal(await w.run("create", "-H", "storage", "newproj"), 0, w.errText());
    assert.ok(fs.lstatSync(link).isSymbolicLink(), "still a link");
    assert.ok(
        parse(fs.readFileSync(target, "utf8")).config["project-vms:projects"].some((p: any) => p.name === "newproj"),
        "the target has the entry",
    );
    assert.deepEqual(fs.readdirSync(realDir), ["storage-stack.yaml"], "no temporary file is left beside the target");
    assert.deepEqual(w.files(), ["Pulumi.raider.yaml", "Pulumi.storage.yaml", "Pulumi.yaml", "elsewhere"]);
});

test("CRLF line endings stay CRLF on every line (new ones too), and a byte order mark stays", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const before = `\uFEFF${w.stackText("storage").replace(/\n/g, "\r\n")}`;
    w.writeStack("storage", before);
    assert.equal(await w.run("create", "-H", "storage", "newproj", "8G"), 0, w.errText());
    assert.equal(await w.run("stop", "-H", "storage", "newproj"), 0, w.errText());
    const after = w.stackText("storage");
    assert.ok(after.startsWith("\uFEFF"), "the byte order mark is kept");
    assert.doesNotMatch(after, /[^\r]\n/, "no line ends in a bare LF");
    assert.ok(after.startsWith(before), "every line as it was");
    assert.deepEqual(parse(after).config["project-vms:projects"].at(-1), { name: "newproj", memory: 8192, running: false });
});

test("the host: --host, else PROJECT_VM_HOST, else the only stack; otherwise an error that lists them", () => {
    assert.equal(pickHost(["raider", "storage"], { host: "raider", env: { PROJECT_VM_HOST: "storage" } }), "raider");
    assert.equal(pickHost(["raider", "storage"], { env: { PROJECT_VM_HOST: "storage" } }), "storage");
    assert.equal(pickHost(["storage"], { env: {} }), "storage");
    assert.throws(
        () => pickHost(["raider", "storage"], { env: {} }),
        /there are 2 hosts \(raider, storage\): pick one with --host <host>, PROJECT_VM_HOST, or once for all with .project-vm use <host>./,
    );
    assert.throws(
        () => pickHost(["raider", "storage"], { env: { PROJECT_VM_HOST: "nas" } }),
        /no host stack 'nas' \(from PROJECT_VM_HOST\): the hosts are raider, storage/,
    );
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
    assert.throws(
        () => findProjectDir({ dir: sub, env: {}, cwd: "/", installedAt: w.dir }),
        /is not the project-vms Pulumi project .*given with --dir/,
    );
    assert.throws(() => findProjectDir({ env: { PROJECT_VMS_DIR: sub }, cwd: "/", installedAt: w.dir }), /given in PROJECT_VMS_DIR/);
    assert.throws(() => findProjectDir({ env: {}, cwd: "/", installedAt: none }), /cannot find the project-vms Pulumi project/);
});

test("list with a stack file that is not YAML says its projects are unknown, not that there are none", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    w.writeStack("storage", `${w.stackText("storage")}\n  bad: [unclosed\n`);
    assert.equal(await w.run("list", "-H", "storage"), 2);
    assert.match(w.errText(), /warning: storage: .*Pulumi\.storage\.yaml is not valid YAML: line \d+/);
    assert.match(w.errText(), /the projects of storage are unknown: its stack file could not be read \(see above\)/);
    assert.doesNotMatch(w.errText(), /no projects/);
});
