// What users of gh, limactl or multipass expect of a command line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { World } from "./support/cli";
import { REPO } from "./support/schemas";
import { requireTool } from "./support/tools";

function world(t: { after(fn: () => void): void }): World {
    const w = new World();
    t.after(() => w.cleanup());
    return w;
}

test("--version and -V print the package's version", async (t) => {
    const version = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version;
    for (const flag of ["--version", "-V"]) {
        const w = world(t);
        assert.equal(await w.run(flag), 0);
        assert.deepEqual(w.out, [version]);
    }
});

test("every subcommand's help lists the global -H and -C", async (t) => {
    for (const c of ["create", "start", "stop", "resize", "destroy", "apply", "ssh", "list", "status", "logs", "ssh-config", "doctor"]) {
        const w = world(t);
        assert.equal(await w.run(c, "--help"), 0);
        const help = w.out.join("\n");
        assert.match(help, /-H, --host <host>/, `${c} --help`);
        assert.match(help, /-C, --dir <dir>/, `${c} --help`);
    }
});

test("every command is described, and its help describes each of its arguments and options, subcommands too", async (t) => {
    const lines = (help: string, section: string) =>
        (new RegExp(`^${section}:\\n((?: .*\\n?)*)`, "m").exec(help)?.[1] ?? "")
            .split("\n")
            .filter((l) => /^ {2}\S/.test(l)) // a wrapped description's next line is indented further
            .map((l) => l.trim().split(/\s{2,}/));
    const seen: string[] = [];
    const visit = async (command: string[]) => {
        const w = world(t);
        assert.equal(await w.run(...command, "--help"), 0, command.join(" "));
        const help = w.out.join("\n");
        const usage = /^Usage: project-vm(.*)$/m.exec(help)![1];
        const described = lines(help, "Arguments");
        for (const [, arg] of usage.matchAll(/[<[]([a-z-]+)(?:\.\.\.)?[>\]]/g)) {
            if (arg === "options" || arg === "command") continue;
            assert.ok(
                described.some(([name, text]) => name === arg && text),
                `project-vm ${command.join(" ")}: <${arg}> is described under Arguments:\n${help}`,
            );
        }
        for (const [option, text] of lines(help, "Options")) assert.ok(text, `project-vm ${command.join(" ")}: ${option} is described`);
        seen.push(command.join(" "));
        for (const [sub, text] of lines(help, "Commands")) {
            const name = sub.split(/[ |]/)[0];
            assert.ok(text, `project-vm ${[...command, name].join(" ")} is described in the list of commands`);
            if (name !== "help") await visit([...command, name]);
        }
    };
    await visit([]);
    for (const c of ["logs", "destroy", "base move", "restore"]) assert.ok(seen.includes(c), `${c} was visited`);
});

test("completion offers existing names for ssh but not for create, which wants a new one", async (t) => {
    if (!requireTool("bash", "bash", (r) => t.skip(r))) return;
    const w = world(t);
    assert.equal(await w.run("completion", "bash"), 0);
    fs.writeFileSync(path.join(w.dir, "c.bash"), `${w.out.join("\n")}\n`);
    const bin = path.join(w.dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "project-vm"), "#!/bin/sh\nprintf 'myapp\\nwebapp\\n'\n", { mode: 0o755 });
    const complete = (...words: string[]) => {
        const r = spawnSync(
            "bash",
            [
                "-c",
                `. ./c.bash; COMP_WORDS=(${words.map((x) => `'${x}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _project_vm; printf '%s\\n' "\${COMPREPLY[@]}"`,
            ],
            { encoding: "utf8", cwd: w.dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
        );
        return r.stdout.trim().split("\n").filter(Boolean);
    };
    assert.deepEqual(complete("project-vm", "ssh", ""), ["myapp", "webapp"]);
    const forCreate = complete("project-vm", "create", "");
    assert.deepEqual(
        forCreate.filter((n) => !n.startsWith("-")),
        [],
        `no existing name for create: ${forCreate}`,
    );
});

test("one broken stack file does not blind doctor or list --all to the others", async (t) => {
    const w = world(t);
    w.writeStack("raider", "config:\n  project-vms:projects: [\n");
    assert.equal(await w.run("doctor", "--json"), 1);
    const checks = JSON.parse(w.out.join("\n")).checks as { name: string; ok: boolean; detail: string }[];
    assert.ok(
        checks.some((c) => c.name === "pulumi"),
        "the tools are still checked",
    );
    assert.match(checks.find((c) => c.name === "raider: stack file")!.detail, /not valid YAML/);
    assert.equal(checks.find((c) => c.name === "storage: stack file")!.ok, true);
    w.out.length = 0;
    assert.equal(await w.run("list", "--all"), 0, w.errText());
    assert.ok(
        w.out.some((l) => /^storage\s+myapp/.test(l)),
        "storage's projects are listed",
    );
    assert.match(w.errText(), /raider: .*not valid YAML.*its projects cannot be listed/);
    w.out.length = 0;
    assert.equal(await w.run("list", "--all", "-q"), 0, w.errText());
    assert.deepEqual(w.out, ["myapp", "webapp"]);
});

test("doctor says what is still a placeholder, an old Pulumi, and mkisofs's real version", async (t) => {
    const w = world(t);
    const deps = w.deps();
    deps.runTool = async (cmd) => {
        if (cmd === "pulumi") return { code: 0, stdout: "v3.100.0\n", stderr: "" };
        if (cmd === "mkisofs") {
            return {
                code: 0,
                stdout: "",
                stderr: "mkisofs 2.01 is not what you see here. This line is only a fake for too clever\nGUIs and other frontend applications. In fact, this program is:\ngenisoimage 1.1.11 (Linux)\n",
            };
        }
        return { code: 0, stdout: `${cmd} 1.0\n`, stderr: "" };
    };
    const { main } = await import("../cli/main");
    assert.equal(await main(["doctor", "--json"], deps), 1);
    const checks = JSON.parse(w.out.join("\n")).checks as { name: string; ok: boolean; detail: string }[];
    const check = (name: string) => checks.find((c) => c.name === name)!;
    assert.deepEqual(
        [check("pulumi").ok, check("pulumi").detail],
        [false, "v3.100.0: v3.207.0 or newer is needed (or build it: bash engine/build.sh)"],
    );
    assert.equal(check("mkisofs").detail, "genisoimage 1.1.11 (Linux)");
    assert.equal(check("storage: SSH keys").ok, false);
    assert.match(
        check("storage: SSH keys").detail,
        /the sample key of the shipped stack file \(admin@workstation\) is still listed: put your own public key/,
    );
});

test("restart reboots a running VM through libvirt, without touching the stack file; a stopped one is refused", async (t) => {
    const w = world(t);
    const before = w.stackText("storage");
    w.host.define("project-myapp", { state: "running" });
    assert.equal(await w.run("restart", "-H", "storage", "myapp"), 0, w.errText());
    assert.ok(w.host.calls().some((c) => c.startsWith("reboot project-myapp")));
    assert.match(w.errText(), /project-myapp is rebooting \(ACPI\)/);
    w.host.define("project-webapp", { state: "shut off" });
    assert.equal(await w.run("restart", "-H", "storage", "webapp"), 2);
    assert.match(w.errText(), /project-webapp is shut off, not running: start it with 'project-vm -C \S+ -H storage start webapp'/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("config shows what an entry resolves to, defaults applied", async (t) => {
    const w = world(t);
    assert.equal(await w.run("config", "-H", "storage", "webapp", "--json"), 0, w.errText());
    const c = JSON.parse(w.out.join("\n"));
    assert.deepEqual(
        [c.memory, c.cpus, c.disk, c.running, c.purge, c.features, c.fqdn],
        [4096, 2, "50G", true, false, { nix: true, tailscale: true, claudeCode: true }, "project-webapp.bat-boa.ts.net"],
    );
    w.out.length = 0;
    assert.equal(await w.run("config", "-H", "storage", "webapp"), 0, w.errText());
    assert.ok(w.out.includes("memory:    4096 MiB"), w.out.join("\n"));
    // A project with features turned off: each named, on or off; every key once, in its order.
    w.out.length = 0;
    assert.equal(await w.run("config", "-H", "raider", "sandbox"), 0, w.errText());
    assert.deepEqual(w.out, [
        "host:      raider",
        "name:      sandbox",
        "hostname:  project-sandbox",
        "memory:    8192 MiB",
        "cpus:      4",
        "disk:      100G",
        "running:   true",
        "autostart: true",
        "purge:     false",
        "base:      not pinned (on the stack's only base image)",
        "features:  nix on, tailscale off, claudeCode off",
        "mac:       52:54:4c:33:91:13",
        "tailnet:   off the tailnet",
    ]);
});

test("use remembers a default host, beside -H and PROJECT_VM_HOST, in the user's config", async (t) => {
    const w = world(t);
    w.env.XDG_CONFIG_HOME = path.join(w.dir, ".config-home");
    assert.equal(await w.run("list", "-q"), 2, "two hosts and none picked");
    assert.match(w.errText(), /or once for all with 'project-vm use <host>'/);
    assert.equal(await w.run("use", "raider"), 0, w.errText());
    assert.equal(await w.run("list", "-q"), 0, w.errText());
    assert.deepEqual(w.out, ["datalab", "sandbox"]);
    w.out.length = 0;
    w.env.PROJECT_VM_HOST = "storage";
    assert.equal(await w.run("list", "-q"), 0);
    assert.deepEqual(w.out, ["myapp", "webapp"], "the environment wins over the remembered host");
    delete w.env.PROJECT_VM_HOST;
    assert.equal(await w.run("use", "nas"), 2);
    assert.match(w.errText(), /no host stack 'nas'/);
    assert.equal(await w.run("use", "--forget"), 0);
    assert.equal(await w.run("list", "-q"), 2);
});

test("list and status say which checkout and stack file they read", async (t) => {
    const w = world(t);
    assert.equal(await w.run("list", "-H", "storage"), 0, w.errText());
    assert.match(w.errText(), new RegExp(`project-vm: Pulumi\\.storage\\.yaml in ${w.dir}`));
    w.err.length = 0;
    assert.equal(await w.run("status", "-H", "raider", "datalab"), 0, w.errText());
    assert.match(w.errText(), new RegExp(`project-vm: Pulumi\\.raider\\.yaml in ${w.dir}`));
});

test("create refuses a name another host of the checkout already has (one tailnet name each)", async (t) => {
    const w = world(t);
    const before = w.stackText("raider");
    assert.equal(await w.run("create", "-H", "raider", "myapp"), 2);
    assert.match(
        w.errText(),
        /project 'myapp' already exists on host storage: its VM is project-myapp on the tailnet, and a second one would become project-myapp-1; pick another name/,
    );
    assert.equal(w.stackText("raider"), before);
    assert.equal(w.applies.length, 0);
});
