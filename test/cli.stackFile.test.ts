// The host stacks as files, in the cases a user meets less often (cli/stacks.ts): hosts listed in
// order, which host is picked and why not, the remembered host's settings file kept whole, the
// program's defaults, a stack file that is empty or holds odd values, its line ends when they are
// mixed, the comment of a list kept when a later entry goes, and the atomic write's own promises.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { listHosts, pickHost, projectDefaults, rememberHost, StackFile, UsageError, userConfigPath, writeAtomically } from "../cli/stacks";
import { ConfigError } from "../components/config";
import { ownSshKey } from "./support/cli";

const REPO = path.join(__dirname, "..");

function folder(t: { after(fn: () => void): void }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-stackfile-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

/** A project folder with the real Pulumi.yaml and one stack file `text` for host `storage`. */
function stackIn(t: { after(fn: () => void): void }, text: string): { dir: string; file: string; stack: () => StackFile } {
    const dir = folder(t);
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(file, text);
    return { dir, file, stack: () => new StackFile(dir, "storage") };
}

test("the hosts are listed in name order, whatever order the folder gives", (t) => {
    const dir = folder(t);
    for (const h of ["mid", "zeta", "alpha", "beta"]) fs.writeFileSync(path.join(dir, `Pulumi.${h}.yaml`), "config: {}\n");
    assert.deepEqual(listHosts(dir), ["alpha", "beta", "mid", "zeta"]);
});

test("a host that is not there is refused saying where the name came from, and which hosts there are", () => {
    const refused = (hosts: string[], opts: Parameters<typeof pickHost>[1]) => {
        try {
            pickHost(hosts, opts);
        } catch (e) {
            assert.ok(e instanceof UsageError);
            return e.message;
        }
        assert.fail("not refused");
    };
    assert.equal(
        refused(["storage"], { env: {}, remembered: "gone" }),
        "no host stack 'gone' (remembered by 'project-vm use'): the hosts are storage",
    );
    assert.equal(
        refused([], { env: { PROJECT_VM_HOST: "raider" } }),
        "no host stack 'raider' (from PROJECT_VM_HOST): there is no Pulumi.<host>.yaml",
    );
    assert.equal(refused([], { env: {} }), "there is no host stack (Pulumi.<host>.yaml) in the project");
    assert.equal(pickHost(["storage"], { env: {} }), "storage");
});

test("the settings file is under XDG_CONFIG_HOME, else ~/.config; without either a host cannot be remembered", () => {
    assert.equal(userConfigPath({ HOME: "/home/me" }), "/home/me/.config/project-vm/config.json");
    assert.equal(userConfigPath({ HOME: "/home/me", XDG_CONFIG_HOME: "/cfg" }), "/cfg/project-vm/config.json");
    assert.throws(() => rememberHost({}, "storage"), {
        message: "cannot remember a host: neither XDG_CONFIG_HOME nor HOME is set",
    });
});

test("remembering and forgetting a host keeps the rest of the settings file, and leaves no temporary file", (t) => {
    const home = folder(t);
    const env = { HOME: home };
    const file = rememberHost(env, "storage");
    assert.equal(file, path.join(home, ".config", "project-vm", "config.json"));
    assert.equal(fs.readFileSync(file, "utf8"), '{\n  "host": "storage"\n}\n');
    fs.writeFileSync(file, '{"theme": "dark", "host": "storage"}');
    rememberHost(env, "raider");
    assert.equal(fs.readFileSync(file, "utf8"), '{\n  "theme": "dark",\n  "host": "raider"\n}\n');
    rememberHost(env, undefined);
    assert.equal(fs.readFileSync(file, "utf8"), '{\n  "theme": "dark"\n}\n');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["config.json"]);
});

test("the program's defaults are Pulumi.yaml's, keyed and written as Pulumi hands them over; none without a config section", (t) => {
    const defaults = projectDefaults(REPO);
    assert.equal(defaults["project-vms:libvirtUri"], "qemu:///system");
    assert.equal(defaults["project-vms:shutdownTimeout"], "180");
    assert.equal(defaults["project-vms:aptCheckValidUntil"], "true");
    assert.equal("project-vms:sshPublicKeys" in defaults, false, "a key without a default has none");
    const dir = folder(t);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: project-vms\nruntime: nodejs\n");
    assert.deepEqual(projectDefaults(dir), {});
});

test("an empty stack file, or one whose config is not a map, has no projects and sets nothing", (t) => {
    for (const text of ["", "config: oops\n"]) {
        const { stack } = stackIn(t, text);
        assert.deepEqual(stack().projectNames(), [], JSON.stringify(text));
        assert.equal(stack().has("project-vms:libvirtUri"), false, JSON.stringify(text));
    }
});

test("a config key left empty is refused, naming it: Pulumi hands the program an empty string, not the default", (t) => {
    const key = ownSshKey();
    const { stack } = stackIn(
        t,
        `config:\n  project-vms:sshPublicKeys:\n    - ${key}\n  project-vms:defaultMemory:\n  project-vms:defaultCpus: ~\n  project-vms:tailscale:\n    enabled: true\n  tailscale:tailnet:\n  project-vms:projects:\n    - name: a\n`,
    );
    assert.throws(
        () => stack().settings(),
        (e: Error) =>
            e instanceof ConfigError &&
            e.problems.join("\n") ===
                ["project-vms:defaultMemory", "project-vms:defaultCpus", "tailscale:tailnet"]
                    .map(
                        (k) =>
                            `${k} has no value, which Pulumi hands the program as "" (not its default); give it a value, or remove the line`,
                    )
                    .join("\n"),
    );
});

test("the project names are those of entries with a name: an empty item or one without a name is skipped", (t) => {
    const { stack } = stackIn(t, "config:\n  project-vms:projects:\n    -\n    - memory: 4G\n    - name: a\n    - name: 7\n");
    assert.deepEqual(stack().projectNames(), ["a"]);
});

test("a projects value that is not a list is refused when a project is added; an empty one gets the list", (t) => {
    const { stack, file } = stackIn(t, "config:\n  project-vms:projects: oops\n");
    assert.throws(() => stack().addProject("a", {}), { message: `project-vms:projects in ${file} is not a list` });
    const empty = stackIn(t, "config:\n  project-vms:projects:\n").stack();
    empty.addProject("a", {});
    assert.deepEqual(parse(empty.text()), { config: { "project-vms:projects": [{ name: "a" }] } });
});

test("a project added twice is refused, naming it and the host", (t) => {
    const s = stackIn(t, "config:\n  project-vms:projects:\n    - name: a\n").stack();
    assert.throws(
        () => s.addProject("a", {}),
        (e: Error) => e instanceof UsageError && e.message === "project 'a' already exists on host storage",
    );
});

test("a name that is not a project: the message says the host has none yet", (t) => {
    assert.equal(stackIn(t, "config: {}\n").stack().noSuchProject("a"), "there is no project 'a' on host storage (it has no projects yet)");
});

test("setting the base images replaces the one-image shorthand and its checksum; a file without config gets one", (t) => {
    const s = stackIn(t, "config:\n  project-vms:baseImage: https://example.org/a.qcow2\n  project-vms:baseImageSha512: abc\n").stack();
    s.setBaseImages([{ version: "2026-11-01", url: "https://example.org/b.qcow2" }]);
    assert.deepEqual(parse(s.text()), {
        config: { "project-vms:baseImages": [{ version: "2026-11-01", url: "https://example.org/b.qcow2" }] },
    });
    const bare = stackIn(t, "encryptionsalt: v1:abc\n").stack();
    bare.setBaseImages([{ version: "v1", url: "https://example.org/b.qcow2" }]);
    assert.deepEqual(parse(bare.text()), {
        encryptionsalt: "v1:abc",
        config: { "project-vms:baseImages": [{ version: "v1", url: "https://example.org/b.qcow2" }] },
    });
});

test("removing a later entry keeps the comment written above the list's first entry", (t) => {
    const s = stackIn(t, "config:\n  project-vms:projects:\n    # the team's VMs\n    - name: a\n    - name: b\n").stack();
    s.removeProject("b");
    assert.equal(s.text(), "config:\n  project-vms:projects:\n    # the team's VMs\n    - name: a\n");
});

test("mixed line ends: the file is written with those most of its lines have, CRLF on a tie", (t) => {
    const cases: [string, string][] = [
        ["config:\r\n  a: 1\n  b: 2\n  c: 3\n", "\n"],
        ["config:\r\n  a: 1\r\n  b: 2\n  c: 3\n", "\r\n"],
        ["config:\r\n  a: 1\r\n  b: 2\r\n  c: 3\n", "\r\n"],
    ];
    for (const [text, eol] of cases) {
        const s = stackIn(t, text).stack();
        s.addProject("x", {});
        const out = s.text();
        assert.equal(out.split(eol === "\n" ? /(?<!\r)\n/ : "\r\n").length - 1, out.split("\n").length - 1, JSON.stringify(text));
    }
});

test("a read-only stack file reached through a symlink is named with where the link leads", (t) => {
    const dir = folder(t);
    const target = path.join(dir, "real.yaml");
    fs.writeFileSync(target, "config: {}\n");
    fs.chmodSync(target, 0o444);
    const link = path.join(dir, "Pulumi.storage.yaml");
    fs.symlinkSync(target, link);
    assert.throws(() => writeAtomically(link, "config: {a: 1}\n"), {
        message: `${link} (${target}) is read-only (mode 0444); nothing written. Make it writable (chmod u+w) to change it with project-vm.`,
    });
    assert.equal(fs.readFileSync(target, "utf8"), "config: {}\n");
});

test("a write the system takes a few bytes at a time is completed, and the rename is flushed to the folder", (t) => {
    const dir = folder(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(file, "config: {}\n");
    const calls: string[] = [];
    const fds = new Map<number, string>();
    const fsx = {
        ...fs,
        openSync: (p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
            const fd = fs.openSync(p, flags, mode);
            fds.set(fd, p === dir ? "folder" : "copy");
            return fd;
        },
        writeSync: (fd: number, b: Buffer, off: number, len: number) => fs.writeSync(fd, b, off, Math.min(3, len)),
        fsyncSync: (fd: number) => {
            calls.push(`fsync ${fds.get(fd)}`);
            fs.fsyncSync(fd);
        },
        closeSync: (fd: number) => {
            calls.push(`close ${fds.get(fd)}`);
            fs.closeSync(fd);
        },
        renameSync: (a: fs.PathLike, b: fs.PathLike) => {
            calls.push("rename");
            fs.renameSync(a, b);
        },
    } as unknown as typeof fs;
    const text = "config:\n  project-vms:libvirtUri: qemu:///system\n";
    writeAtomically(file, text, fsx);
    assert.equal(fs.readFileSync(file, "utf8"), text);
    assert.deepEqual(calls, ["fsync copy", "close copy", "rename", "fsync folder", "close folder"]);
});

test("as root, a stack file owned by someone else keeps its owner when written", (t) => {
    if (process.getuid?.() !== 0) return t.skip("needs root to give a file away");
    const dir = folder(t);
    const file = path.join(dir, "Pulumi.storage.yaml");
    fs.writeFileSync(file, "config: {}\n");
    fs.chownSync(file, 4321, 4322);
    writeAtomically(file, "config: {a: 1}\n");
    const st = fs.statSync(file);
    assert.deepEqual([st.uid, st.gid], [4321, 4322]);
});

test("a file with a byte order mark: an error on its first line is placed and quoted as the user sees the line", (t) => {
    const { file, stack } = stackIn(t, "\uFEFFconfig: a: b\n");
    assert.throws(stack, {
        message: `${file} is not valid YAML: line 1, column 9: Nested mappings are not allowed in compact mappings: "config: a: b"`,
    });
});
