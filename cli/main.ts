#!/usr/bin/env node
// project-vm: the command line over the host stacks. Builds the program (commander) from the
// global options and the commands' declarations — each in its file under cli/commands/, with its
// own flags and action over the shared Factory (cli/factory.ts: the project folder, its hosts,
// the picked host) — and runs it. User errors go to stderr with exit code 2 and no stack trace; a
// failed operation exits 1.
import { Command, CommanderError } from "commander";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import * as commands from "./commands";
import { Declare, Deps, EXIT, factory, INSTALLED_AT } from "./factory";
import { virshOnPath } from "./libvirt";
import { pulumiCli } from "./pulumi";
import { interactive, run } from "./run";
import { UsageError } from "./stacks";

export { EXIT };
export type { Deps };

/** project-vm's version: the package's. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require(path.join(INSTALLED_AT, "package.json")).version;

/**
 * Every command's declaration, in the order --help lists them: a new command is its file under
 * cli/commands/ (its logic and its declaration) and its entry here.
 */
export const COMMANDS: readonly Declare[] = [
    commands.declareCreate,
    commands.declarePower,
    commands.declareRestart,
    commands.declareResize,
    commands.declareDestroy,
    commands.declareApply,
    commands.declareUndo,
    commands.declareBase,
    commands.declareSsh,
    commands.declareList,
    commands.declareStatus,
    commands.declareLogs,
    commands.declareBackup,
    commands.declareBackups,
    commands.declareRestore,
    commands.declareSshConfig,
    commands.declareConfig,
    commands.declareUse,
    commands.declareDoctor,
    commands.declareCompletion,
];

/**
 * The command-line program with `declared` commands (default: COMMANDS); commands that end with
 * an exit code of their own report it to `setCode`.
 */
export function buildProgram(deps: Deps, setCode: (code: number) => void, declared: readonly Declare[] = COMMANDS): Command {
    const program = new Command("project-vm")
        .description(
            "One development VM per project on a libvirt host, through the host's Pulumi stack.\n" +
                "Changes edit Pulumi.<host>.yaml (comments kept) and run 'pulumi up'; reads combine the stack file, its outputs and libvirt.",
        )
        .option("-H, --host <host>", "the host stack (default: $PROJECT_VM_HOST, else the only Pulumi.<host>.yaml)")
        .option("-C, --dir <dir>", "the project-vms Pulumi project folder (default: $PROJECT_VMS_DIR, else found from here)")
        .version(VERSION, "-V, --version", "the version of project-vm")
        .configureHelp({ showGlobalOptions: true })
        .showHelpAfterError("(project-vm --help lists the commands)")
        .configureOutput({ writeOut: (s) => deps.io.out(s.replace(/\n$/, "")), writeErr: (s) => deps.io.err(s.replace(/\n$/, "")) })
        .exitOverride();
    const f = factory(deps, setCode);
    for (const declare of declared) declare(program, f);
    return program;
}

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], deps: Deps, declared: readonly Declare[] = COMMANDS): Promise<number> {
    let code: number = EXIT.ok;
    const program = buildProgram(deps, (c) => (code = c), declared);
    try {
        await program.parseAsync(argv, { from: "user" });
        return code;
    } catch (e) {
        if (e instanceof CommanderError) {
            if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version") return EXIT.ok;
            return EXIT.usage;
        }
        if (e instanceof UsageError) {
            deps.io.err(`project-vm: ${e.message}`);
            return EXIT.usage;
        }
        if (e instanceof Error) {
            deps.io.err(`project-vm: ${e.message}`);
            if (deps.env.PROJECT_VM_DEBUG && e.stack) deps.io.err(e.stack);
            return e instanceof commands.ApplyFailed ? e.exitCode : EXIT.failed;
        }
        throw e;
    }
}

/** The real terminal: questions only when stdin and stderr are terminals. */
export function terminalIo(): commands.Io {
    return {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        async ask(question) {
            if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
            const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
            try {
                return await rl.question(question);
            } finally {
                rl.close();
            }
        },
    };
}

if (require.main === module) {
    main(process.argv.slice(2), {
        env: process.env,
        cwd: process.cwd(),
        io: terminalIo(),
        pulumi: (dir) => pulumiCli(dir),
        virsh: virshOnPath,
        interactive,
        runTool: (cmd, args) => run(cmd, args, { timeoutMs: 30_000 }),
    }).then((code) => {
        process.exitCode = code;
    });
}
