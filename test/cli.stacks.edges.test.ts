// Stack files at their edges: an empty `config:` gets its projects list, and a file this user may
// not write (though its mode has write bits: another owner's 0644) is refused before anything is
// written.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { listHosts, rememberedHost, StackFile, UsageError, writeAtomically } from "../cli/stacks";
import { worldFor } from "./support/cli";

function folder(t: { after(fn: () => void): void }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-stacks-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

test("a project added to a stack file whose config is missing or empty: the config gets its projects list", (t) => {
    for (const text of ["encryptionsalt: v1:abc\n", "encryptionsalt: v1:abc\nconfig:\n"]) {
        const dir = folder(t);
        fs.writeFileSync(path.join(dir, "Pulumi.storage.yaml"), text);
        const stack = new StackFile(dir, "storage");
        assert.deepEqual(stack.projectNames(), []);
        stack.addProject("first", {});
        assert.deepEqual(parse(stack.text()), { encryptionsalt: "v1:abc", config: { "project-vms:projects": [{ name: "first" }] } }, text);
    }
});

test("a stack file this user may not write, whatever its mode says, is refused and left alone", (t) => {
    const dir = folder(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(file, "config: {}\n");
    fs.chmodSync(file, 0o644); // exactly, whatever the umask
    const denied = {
        ...fs,
        accessSync: () => {
            throw Object.assign(new Error(`EACCES: permission denied, access '${file}'`), { code: "EACCES" });
        },
    } as typeof fs;
    assert.throws(
        () => writeAtomically(file, "config: {x: 1}\n", denied),
        (e: Error) => e instanceof UsageError && /Pulumi\.storage\.yaml is read-only \(mode 0644\); nothing written/.test(e.message),
    );
    assert.equal(fs.readFileSync(file, "utf8"), "config: {}\n");
    assert.deepEqual(fs.readdirSync(dir), ["Pulumi.storage.yaml"], "no temporary file");
});

test("a remembered host that is not a host name (edited by hand, or not a string) is not used", (t) => {
    const home = folder(t);
    const env = { XDG_CONFIG_HOME: home };
    const remember = (host: unknown) => {
        fs.mkdirSync(path.join(home, "project-vm"), { recursive: true });
        fs.writeFileSync(path.join(home, "project-vm", "config.json"), JSON.stringify({ host }));
    };
    remember("storage");
    assert.equal(rememberedHost(env), "storage");
    for (const bad of ["../etc", "storage raider", "", 5, ["storage"]]) {
        remember(bad);
        assert.equal(rememberedHost(env), undefined, JSON.stringify(bad));
    }
});

test("a YAML mistake on a long line is shown cut to 80 characters, the key named", (t) => {
    const dir = folder(t);
    fs.writeFileSync(path.join(dir, "Pulumi.storage.yaml"), `config:\n  project-vms:a: 1\n  project-vms:a: ${"x".repeat(100)}\n`);
    assert.throws(
        () => new StackFile(dir, "storage"),
        (e: Error) =>
            e instanceof UsageError &&
            e.message.endsWith(
                `line 3, column 3: the key 'project-vms:a' is given twice in one map: "  project-vms:a: ${"x".repeat(60)}..."`,
            ),
    );
});

test("a YAML mistake is told once with where it is: the line and column are not repeated in the message", (t) => {
    const dir = folder(t);
    fs.writeFileSync(path.join(dir, "Pulumi.storage.yaml"), "config:\n\t- a\n");
    assert.throws(
        () => new StackFile(dir, "storage"),
        (e: Error) => e instanceof UsageError && e.message.endsWith(`line 2, column 1: Tabs are not allowed as indentation: "\\t- a"`),
    );
});

test("only files named Pulumi.<host>.yaml are hosts: a copy with a prefix is not", (t) => {
    const dir = folder(t);
    for (const f of ["Pulumi.storage.yaml", "old-Pulumi.raider.yaml", "Pulumi.yaml", "Pulumi.x.yaml.bak"])
        fs.writeFileSync(path.join(dir, f), "config: {}\n");
    assert.deepEqual(listHosts(dir), ["storage"]);
});

test("a full disk while the new stack file is written: the file is left as it was, the temporary file is removed and closed", (t) => {
    const dir = folder(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(file, "config: {}\n");
    const open = new Set<number>();
    const full = {
        ...fs,
        openSync: ((...a: Parameters<typeof fs.openSync>) => {
            const fd = fs.openSync(...a);
            open.add(fd);
            return fd;
        }) as typeof fs.openSync,
        closeSync: (fd: number) => {
            open.delete(fd);
            fs.closeSync(fd);
        },
        writeSync: (() => {
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        }) as unknown as typeof fs.writeSync,
    };
    assert.throws(() => writeAtomically(file, "config: {x: 1}\n", full), /ENOSPC/);
    assert.equal(fs.readFileSync(file, "utf8"), "config: {}\n");
    assert.deepEqual(fs.readdirSync(dir), ["Pulumi.storage.yaml"], "no temporary file");
    assert.deepEqual([...open], [], "no descriptor left open");
});

test("a stack file on one line (no line end at all) is written with plain line ends, never CRLF", async (t) => {
    const w = worldFor(t);
    w.writeStack("storage", JSON.stringify(parse(w.stackText("storage"))));
    assert.equal(await w.run("create", "-H", "storage", "newapp"), 0, w.errText());
    assert.ok(!w.stackText("storage").includes("\r"), JSON.stringify(w.stackText("storage").slice(0, 200)));
    assert.ok(parse(w.stackText("storage")).config["project-vms:projects"].some((p: { name: string }) => p.name === "newapp"));
});
