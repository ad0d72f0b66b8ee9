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

test("completion offers existing names for ssh but not for create, which wants a new one", async (t) => {
    if (!requireTool("bash", "bash", (r) => t.skip(r))) return;
    const w = world(t);
    assert.equal(await w.run("completion", "bash"), 0);
    fs.writeFileSync(path.join(w.dir, "c.bash"), `${w.out.join("\n")}\n`);
    const bin = path.join(w.dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "project-vm"), "#!/bin/sh\nprintf 'myapp\\nwebapp\\n'\n", { mode: 0o755 });
    const complete = (...words: string[]) => {
        const r = spawnSync("bash", ["-c", `. ./c.bash; COMP_WORDS=(${words.map((x) => `'${x}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _project_vm; printf '%s\\n' "\${COMPREPLY[@]}"`],
            { encoding: "utf8", cwd: w.dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        return r.stdout.trim().split("\n").filter(Boolean);
    };
    assert.deepEqual(complete("project-vm", "ssh", ""), ["myapp", "webapp"]);
    const forCreate = complete("project-vm", "create", "");
    assert.deepEqual(forCreate.filter((n) => !n.startsWith("-")), [], `no existing name for create: ${forCreate}`);
});
