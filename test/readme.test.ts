// The README's examples run as printed: every `project-vm` line of its shell blocks, against
// copies of the shipped stack files (a stand-in Pulumi; no VMs), each block from a fresh copy.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { World } from "./support/cli";
import { REPO } from "./support/schemas";

/** The shell blocks of the README: their `project-vm` lines, comments and redirections cut off. */
function examples(): string[][] {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
        .map((m) =>
            m[1]
                .split("\n")
                .map((l) =>
                    l
                        .replace(/\s+#.*$/, "")
                        .replace(/\s*>\s*\S+$/, "")
                        .trim(),
                )
                .filter((l) => l.startsWith("project-vm ")),
        )
        .filter((block) => block.length > 0);
}

test("the README has project-vm examples", () => {
    assert.ok(examples().flat().length >= 4, examples().flat().join("\n"));
});

for (const [i, block] of examples().entries()) {
    test(`README example block ${i + 1} runs as printed: ${block.join("; ")}`, async (t) => {
        const w = new World();
        t.after(() => w.cleanup());
        for (const line of block) {
            const before = w.applies.length;
            const code = await w.paste(line.replace(/^project-vm /, `project-vm -C ${w.dir} `));
            assert.equal(code, 0, `${line}\n${w.errText()}`);
            // Every command the CLI printed on the way runs as pasted too (from another folder).
            for (const printed of w.printedCommands().filter((c) => / (list|status|ssh-config)( |$)/.test(c))) {
                assert.equal(await w.paste(printed), 0, `${printed}\n${w.errText()}`);
            }
            if (/ create /.test(line)) {
                assert.equal(w.applies.length, before + 1, `${line} applied once`);
                const name = line.split(" create ")[1].split(" ")[0];
                w.host.define(`project-${name}`, { state: "running", ip: "10.17.0.50" });
            }
        }
    });
}
