// The README's command table is the CLI's reference: every command (and base's subcommands) has a
// row, and the arguments a row names are the ones the command takes, in its order.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { Command } from "commander";
import { buildProgram } from "../cli/main";
import { worldFor } from "./support/cli";
import { REPO } from "./support/schemas";

/** The command forms of the table's first column: `restore <name> <backup> [--stop]`, … */
function documentedForms(): string[] {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("| `create <name>"));
    const rows = table.slice(0, table.indexOf("\n\n")).split("\n");
    return rows.flatMap((row) => [...row.split(" | ")[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

/** The argument names a form gives: `<name>`, `[backup]` and `[-- args]` alike (not options). */
const argsOf = (form: string) => [...form.matchAll(/(?:[<[]|\[-- )([a-z][\w-]*)[>\]]/g)].map((m) => m[1]);

/** Commands whose argument the table gives as its values (`completion bash\|zsh`), not by name. */
const VALUES_SHOWN = new Set(["completion"]);

const named = (cmds: readonly Command[], word: string) => cmds.find((c) => c.name() === word || c.aliases().includes(word));

test("the README's command table has a row for every command, naming all the arguments each takes, in order", (t) => {
    const program = buildProgram(worldFor(t).deps(), () => {});
    const seen = new Set<Command>();
    const whole = new Set<Command>(); // a form naming every argument (`backup --all` alone would not)
    for (const form of documentedForms()) {
        let parent: Command | undefined;
        for (const alternative of form.split(/\s*\\\|\s*/)) {
            const word = alternative.split(" ")[0];
            const cmd = named(program.commands, word) ?? (parent && named(parent.commands, word));
            if (!cmd) continue; // a value of the argument before, as in `completion bash\|zsh`
            if (named(program.commands, word)) parent = cmd;
            seen.add(cmd);
            // `base [list]`: a subcommand in brackets is the default one, named without its own form.
            const documented = argsOf(alternative).filter((a) => {
                const sub = named(cmd.commands, a);
                if (sub) seen.add(sub);
                if (sub && sub.registeredArguments.length === 0) whole.add(sub);
                return !sub;
            });
            const taken = cmd.registeredArguments.map((a) => a.name());
            assert.deepEqual(documented, taken.slice(0, documented.length), `README's \`${alternative}\` against ${cmd.name()}'s usage`);
            if (documented.length === taken.length || VALUES_SHOWN.has(cmd.name())) whole.add(cmd);
        }
    }
    const all = [...program.commands, ...program.commands.flatMap((c) => c.commands)];
    assert.deepEqual(
        all.filter((c) => !whole.has(c)).map((c) => c.name()),
        [],
        "each command has a form naming all its arguments",
    );
    assert.deepEqual(
        all.filter((c) => !seen.has(c)).map((c) => c.name()),
        [],
        "every command is in the README's table",
    );
});
