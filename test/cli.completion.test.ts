// Shell completion is an attack surface: names come from stack files, which someone who cannot
// run anything on the user's machine may still edit. Nothing they write runs on TAB.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { World } from "./support/cli";
import { requireTool } from "./support/tools";

const HOSTILE = ["$(touch${IFS}pwned-cmd)", "`touch${IFS}pwned-tick`", "a;touch pwned-semi", "${PATH}", "*", "x\\ny"];

test("completion offers only plain names and runs nothing written in a stack file or a file name", async (t) => {
    if (!requireTool("bash", "bash", (r) => t.skip(r))) return;
    const w = new World();
    t.after(() => w.cleanup());
    assert.equal(await w.run("completion", "bash"), 0);
    const file = path.join(w.dir, "completion.bash");
    fs.writeFileSync(file, `${w.out.join("\n")}\n`);
    // A stack file whose name is code, and a project-vm whose `list --quiet` prints code.
    fs.writeFileSync(path.join(w.dir, "Pulumi.$(touch${IFS}pwned-host).yaml"), "config: {}\n");
    const bin = path.join(w.dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "project-vm"), `#!/bin/sh\nprintf '%s\\n' ${HOSTILE.map((h) => `'${h}'`).join(" ")} good-one\n`, {
        mode: 0o755,
    });
    const complete = (...words: string[]) => {
        const r = spawnSync(
            "bash",
            [
                "-c",
                `. ./completion.bash; COMP_WORDS=(${words.map((x) => `'${x}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _project_vm; printf '%s\\n' "\${COMPREPLY[@]}"`,
            ],
            { encoding: "utf8", cwd: w.dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
        );
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.trim().split("\n").filter(Boolean).sort();
    };
    assert.deepEqual(complete("project-vm", "-H", "storage", "ssh", ""), ["good-one"]);
    assert.deepEqual(complete("project-vm", "-H", "storage", "ssh", "go"), ["good-one"]);
    assert.deepEqual(complete("project-vm", "-H", ""), ["raider", "storage"]);
    assert.deepEqual(
        fs.readdirSync(w.dir).filter((f) => f.startsWith("pwned")),
        [],
        "no word was run as code",
    );
});

test("list --quiet prints only valid project names", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    const text = w
        .stackText("storage")
        .replace("- name: webapp", '- name: webapp\n    - name: "$(touch${IFS}/tmp/x)"\n    - name: "ok\\nbad"');
    w.writeStack("storage", text);
    assert.equal(await w.run("list", "-H", "storage", "-q"), 0, w.errText());
    assert.deepEqual(w.out, ["myapp", "webapp"]);
});

test("a stack file whose name is not a plain host name is not a host", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    fs.writeFileSync(path.join(w.dir, "Pulumi.$(id).yaml"), "config: {}\n");
    assert.equal(await w.run("list", "-q"), 2);
    assert.match(w.errText(), /there are 2 hosts \(raider, storage\)/);
});
