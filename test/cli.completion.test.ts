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

// How each shell calls the completion function: bash directly; zsh the way bashcompinit's
// `complete -F` does (compgen -F, under sh emulation), after the compinit a user's .zshrc runs.
const CALL = {
    bash: (file: string, words: string) =>
        `. ./${file}; COMP_WORDS=(${words}); COMP_CWORD=$N; _project_vm; printf '%s\\n' "\${COMPREPLY[@]}"`,
    zsh: (file: string, words: string) =>
        `autoload -U compinit && compinit -u -D && . ./${file} && [[ \${_comps[project-vm]} == *_project_vm* ]] || exit 9; COMP_WORDS=(${words}); COMP_CWORD=$N; compgen -F _project_vm -- "\${COMP_WORDS[$N]}"`,
};

for (const shell of ["bash", "zsh"] as const) {
    test(`${shell} completion offers only plain names and runs nothing written in a stack file or a file name`, async (t) => {
        if (!requireTool(shell, shell, (r) => t.skip(r))) return;
        const w = new World();
        t.after(() => w.cleanup());
        assert.equal(await w.run("completion", shell), 0);
        const file = `completion.${shell}`;
        fs.writeFileSync(path.join(w.dir, file), `${w.out.join("\n")}\n`);
        // A stack file whose name is code, and a project-vm whose `list --quiet` prints code.
        fs.writeFileSync(path.join(w.dir, "Pulumi.$(touch${IFS}pwned-host).yaml"), "config: {}\n");
        const bin = path.join(w.dir, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "project-vm"), `#!/bin/sh\nprintf '%s\\n' ${HOSTILE.map((h) => `'${h}'`).join(" ")} good-one\n`, {
            mode: 0o755,
        });
        const complete = (...words: string[]) => {
            const script = CALL[shell](file, words.map((x) => `'${x}'`).join(" ")).replaceAll("$N", String(words.length - 1));
            const r = spawnSync(shell, shell === "zsh" ? ["-f", "-c", script] : ["-c", script], {
                encoding: "utf8",
                cwd: w.dir,
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: w.dir },
            });
            assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
            assert.equal(r.stderr, "", `${shell} says nothing on stderr`);
            return r.stdout.trim().split("\n").filter(Boolean).sort();
        };
        assert.deepEqual(complete("project-vm", "-H", "storage", "ssh", ""), ["good-one"]);
        assert.deepEqual(complete("project-vm", "-H", "storage", "ssh", "go"), ["good-one"]);
        assert.deepEqual(complete("project-vm", "-H", ""), ["raider", "storage"]);
        assert.ok(complete("project-vm", "").includes("backup"), "commands are offered");
        assert.ok(complete("project-vm", "he").includes("help"), "and help, which is not among Commander's commands");
        assert.ok(complete("project-vm", "help", "cr").includes("create"), "help completes a command");
        assert.deepEqual(
            fs.readdirSync(w.dir).filter((f) => f.startsWith("pwned")),
            [],
            "no word was run as code",
        );
    });
}

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
