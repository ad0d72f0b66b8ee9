// What every command shares (cli/commands/context.ts), as a user meets it: the command lines the CLI
// prints for pasting (quoted so that a shell runs exactly them), the sizes and counts given on the
// command line, the y/N question, and a second change of a stack file waiting for the first.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { commandLine, confirm, lockStack, parseCpus, parseDisk, parseMemory } from "../cli/commands";
import { UsageError } from "../cli/stacks";
import { worldFor } from "./support/cli";

test("a printed command line is read back by a shell as exactly its words: odd words quoted, placeholders left to fill in", () => {
    const args = ["ssh", "a;b", "it's", "<name>", "x<name>", "<name>x", "plain-word_1.2:3@4%5+6=7"];
    const line = commandLine("/srv/my vms", "/opt/project-vms")("storage", ...args);
    assert.equal(line, `project-vm -C '/srv/my vms' -H storage ssh 'a;b' 'it'\\''s' <name> 'x<name>' '<name>x' plain-word_1.2:3@4%5+6=7`);
    const words = spawnSync("bash", ["-c", `printf '%s\\n' ${line.replace(/ <name> /, " '<name>' ")}`], { encoding: "utf8" }).stdout;
    assert.deepEqual(words.trim().split("\n"), ["project-vm", "-C", "/srv/my vms", "-H", "storage", ...args]);
    assert.equal(
        commandLine("/opt/project-vms", "/opt/project-vms")("raider", "list"),
        "project-vm -H raider list",
        "the checkout it was installed from needs no -C",
    );
});

test("cpus are a whole number, spaces around allowed; anything else is refused naming the value", () => {
    assert.deepEqual(["4", " 12 ", "128"].map(parseCpus), [4, 12, 128]);
    for (const bad of ["4x", "x4", "1.5", "-2", ""]) {
        assert.throws(
            () => parseCpus(bad),
            (e: Error) => e instanceof UsageError && e.message === `cpus must be a whole number (e.g. 4), got '${bad}'`,
            bad,
        );
    }
});

test("memory and disk sizes that cannot be read are refused, saying what is expected and what was given", () => {
    assert.throws(() => parseMemory("lots"), { message: "memory must be MiB (e.g. 8192) or a size with a unit (e.g. 8G), got 'lots'" });
    assert.throws(() => parseDisk("100"), { message: "disk must be a size with a unit K, M, G or T (binary: 100G = 100 GiB), got '100'" });
    assert.equal(parseMemory("8G"), 8192);
    assert.equal(parseDisk("100G"), "100G");
});

test("the y/N question: yes is 'y' or 'yes' in any case, spaces around allowed; anything else is no", async () => {
    const asked: string[] = [];
    const io = (answer: string) => ({ out: () => {}, err: () => {}, ask: async (q: string) => (asked.push(q), answer) });
    const answers = ["y", "Y", "yes", " Yes ", "yes please", "ay", "n", ""];
    const got = [];
    for (const a of answers) got.push(await confirm(io(a), "Delete it?", undefined));
    assert.deepEqual(got, [true, true, true, true, false, false, false, false]);
    assert.equal(asked[0], "Delete it? [y/N] ");
});

test("a second change of a stack file waits for the first, naming it, for up to 10 minutes by default", async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-context-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, "Pulumi.storage.yaml"), "config: {}\n");
    // Another project-vm holds it: a child process, for 2 s.
    const context = path.join(__dirname, "..", "cli", "commands", "context.ts");
    const script = `const io = { out() {}, err() {}, ask: async () => undefined };
require(${JSON.stringify(context)}).lockStack({ dir: ${JSON.stringify(dir)}, io }, "storage", "create myapp").then((l) => { console.log("held"); setTimeout(() => l.release(), 2000); });`;
    const holder = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    t.after(() => holder.kill());
    await new Promise((resolve) => holder.stdout.once("data", resolve));
    const quiet = { out: () => {}, err: () => {}, ask: async () => undefined };
    const said: string[] = [];
    const started = Date.now();
    const lock = await lockStack({ dir, io: { ...quiet, err: (l: string) => said.push(l) } }, "storage", "destroy webapp");
    assert.ok(Date.now() - started > 500, "it waited");
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(said[0], /^project-vm: waiting for .*project-vm create myapp.* \(up to 600s\)$/);
    lock.release();
});

test("an apply says what it applies; with no rewrite by Pulumi, no rewrite is mentioned", async (t) => {
    const w = worldFor(t, ["storage"]);
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.ok(
        w.err.includes(
            `project-vm: stop webapp: ${path.join(w.dir, "Pulumi.storage.yaml")} updated; applying it (pulumi up --stack storage)`,
        ),
        w.errText(),
    );
    assert.doesNotMatch(w.errText(), /Pulumi rewrote/);
});

test("a hand edit applied with 'apply' while Pulumi adds its salt: undo of the earlier change still refuses, the edit is kept", async (t) => {
    const w = worldFor(t, ["storage"]);
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    w.writeStack("storage", `${w.stackText("storage")}# a later hand edit\n`);
    w.upRewrites = [(text) => `encryptionsalt: v1:c2FsdA==:v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n${text}`];
    assert.equal(await w.run("apply", "-H", "storage"), 0, w.errText());
    assert.match(w.errText(), /Pulumi rewrote/);
    const edited = w.stackText("storage");
    assert.equal(await w.run("undo", "-H", "storage"), 2);
    assert.match(w.errText(), /has changed since 'stop webapp'/);
    assert.equal(w.stackText("storage"), edited);
});
