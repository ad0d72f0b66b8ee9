// The commands are declarations, one file a command under cli/commands/, assembled by main.ts's
// COMMANDS: a command's flags appear in its --help and in the completion script because they are
// declared once, and a new command is its declaration plus its entry in the list.
import assert from "node:assert/strict";
import { Command } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { Declare } from "../cli/factory";
import { COMMANDS, main, terminalIo } from "../cli/main";
import { World } from "./support/cli";
import { REPO } from "./support/schemas";

/** Files of cli/commands/ that declare no command: what the commands share. */
const SHARED = ["context.ts", "index.ts", "view.ts"];

function world(t: { after(fn: () => void): void }): World {
    const w = new World();
    t.after(() => w.cleanup());
    return w;
}

/** Runs the CLI in `w` with `declared` commands; resolves to the exit code. */
function run(w: World, declared: readonly Declare[], ...args: string[]): Promise<number> {
    return main(args, w.deps(), declared);
}

/** The commands `args` declare on a program, with their subcommands, by their words. */
function declaredCommands(declared: readonly Declare[]): Map<string, Command> {
    const program = new Command("project-vm");
    const f = { deps: undefined!, where: () => assert.fail("not run"), backups: () => assert.fail("not run"), setCode: () => undefined };
    for (const d of declared) d(program, f);
    const all = new Map<string, Command>();
    const walk = (c: Command, words: string[]) => {
        for (const sub of c.commands) {
            all.set([...words, sub.name()].join(" "), sub);
            walk(sub, [...words, sub.name()]);
        }
    };
    walk(program, []);
    return all;
}

test("every file of cli/commands/ but the shared ones declares commands, and main.ts registers each declaration", async () => {
    const dir = path.join(REPO, "cli", "commands");
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && !SHARED.includes(f));
    assert.ok(files.length >= 20, `the command files: ${files}`);
    const fromFiles: Declare[] = [];
    for (const file of files) {
        const mod = await import(path.join(dir, file));
        const declarations = Object.entries(mod)
            .filter(([name]) => /^declare[A-Z]/.test(name))
            .map(([, d]) => d as Declare);
        assert.equal(declarations.length, 1, `${file} declares its command, once`);
        assert.ok(COMMANDS.includes(declarations[0]), `${file}'s declaration is in main.ts's COMMANDS`);
        fromFiles.push(declarations[0]);
    }
    assert.deepEqual(new Set(COMMANDS), new Set(fromFiles), "COMMANDS holds the files' declarations and no other");
});

test("every declared flag of every command is in its --help, and every top-level command's in the completion script", async (t) => {
    const w = world(t);
    assert.equal(await run(w, COMMANDS, "completion", "bash"), 0);
    const script = w.out.join("\n");
    const commands = declaredCommands(COMMANDS);
    assert.ok(commands.has("create") && commands.has("base prune") && commands.has("restore"), [...commands.keys()].join(", "));
    for (const [words, cmd] of commands) {
        const flags = cmd.options.flatMap((o) => [o.short, o.long].filter((x): x is string => !!x));
        const h = world(t);
        assert.equal(await run(h, COMMANDS, ...words.split(" "), "--help"), 0, words);
        const help = h.out.join("\n");
        for (const flag of flags) assert.ok(help.includes(flag), `${words} --help shows ${flag}`);
        if (words.includes(" ")) continue; // the completion script completes a subcommand's parent's flags only
        const line = script.split("\n").find((l) => l.trimStart().startsWith(`${[cmd.name(), ...cmd.aliases()].join("|")}) `));
        assert.ok(line, `the completion script has a case for ${words}`);
        for (const flag of flags) assert.match(line, new RegExp(`opts="(?:[^"]* )?${flag}[ "]`), `completion of ${words} offers ${flag}`);
    }
});

test("a new command is its declaration plus its entry: it is in --help, its own help, completion, and runs on the shared context", async (t) => {
    const declareHello: Declare = (program, f) => {
        program
            .command("hello")
            .description("greet a project of the picked host")
            .argument("<name>", "project name")
            .option("--loud", "shout")
            .action(async (name: string, o, c: Command) => {
                const w = f.where(c);
                f.deps.io.out(`${o.loud ? "HELLO" : "hello"} ${name} on ${w.host()}`);
                f.setCode(3);
            });
    };
    const declared = [...COMMANDS, declareHello];

    const w = world(t);
    assert.equal(await run(w, declared, "--help"), 0);
    assert.match(w.out.join("\n"), /^ {2}hello \[options\] <name> +greet a project of the picked host$/m);
    assert.equal(await run(w, COMMANDS, "hello", "x"), 2, "not there without its entry");

    const help = world(t);
    assert.equal(await run(help, declared, "hello", "--help"), 0);
    assert.match(help.out.join("\n"), /--loud +shout/);
    assert.match(help.out.join("\n"), /-H, --host <host>/, "with the global options");

    const completion = world(t);
    assert.equal(await run(completion, declared, "completion", "bash"), 0);
    assert.match(completion.out.join("\n"), /^ +hello\) opts="--loud --help"; projects=1 ;;$/m);

    const ran = world(t);
    assert.equal(await run(ran, declared, "-H", "storage", "hello", "myapp", "--loud"), 3, ran.errText());
    assert.deepEqual(ran.out, ["HELLO myapp on storage"]);
});

test("the terminal: output lines go to stdout and messages to stderr, each ending its line; no question without a terminal", async () => {
    const written: [string, string][] = [];
    const stdout = process.stdout.write;
    const stderr = process.stderr.write;
    process.stdout.write = ((chunk: string) => written.push(["stdout", chunk]) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => written.push(["stderr", chunk]) > 0) as typeof process.stderr.write;
    const io = terminalIo();
    try {
        io.out("project-myapp");
        io.err("project-vm: a message");
    } finally {
        process.stdout.write = stdout;
        process.stderr.write = stderr;
    }
    assert.deepEqual(written, [
        ["stdout", "project-myapp\n"],
        ["stderr", "project-vm: a message\n"],
    ]);
    // Without a terminal on stdin (as under node --test), a question is not asked: "no terminal".
    if (!process.stdin.isTTY) assert.equal(await io.ask("Destroy project-myapp? [y/N] "), undefined);
});
