// How a stack file's text is read back to its user (cli/stackText.ts): a YAML error said where it
// is and what it is, with the key named when one is given twice, from the errors the yaml library
// really gives; and which changes of the file are only Pulumi's own rewriting of it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocument } from "yaml";
import { isPulumiRewrite, yamlErrorText } from "../cli/stackText";

/** The text project-vm shows for the first YAML error of `text`. */
function said(text: string): string {
    const doc = parseDocument(text);
    assert.ok(doc.errors.length > 0, `an error in ${JSON.stringify(text)}`);
    return yamlErrorText(doc.errors[0], text);
}

test("a key given twice is named, as written: plain, quoted with either quote, inside a flow map, alone on its line", () => {
    assert.equal(said("config:\n  a: 1\n  a: 2\n"), `line 3, column 3: the key 'a' is given twice in one map: "  a: 2"`);
    assert.equal(said('"x #1": 1\n"x #1": 2\n'), `line 2, column 1: the key "x #1" is given twice in one map: "\\"x #1\\": 2"`);
    assert.equal(said("'x #1': 1\n'x #1': 2\n"), `line 2, column 1: the key 'x #1' is given twice in one map: "'x #1': 2"`);
    assert.equal(said("{a: 1, bb: 2, bb: 3}\n"), `line 1, column 15: the key 'bb' is given twice in one map: "{a: 1, bb: 2, bb: 3}"`);
    assert.equal(said("config:\n  x: 1\nconfig:\n  y: 2\n"), `line 3, column 1: the key 'config' is given twice in one map: "config:"`);
    assert.equal(said("- q: 1\n  q: 2\n"), `line 2, column 3: the key 'q' is given twice in one map: "  q: 2"`);
    assert.equal(
        said("a': 1\na': 2\n"),
        `line 2, column 1: the key 'a'' is given twice in one map: "a': 2"`,
        "a plain key ending in a quote",
    );
    assert.equal(said('a": 1\na": 2\n'), `line 2, column 1: the key 'a"' is given twice in one map: "a\\": 2"`);
    assert.equal(
        said("a#b: 1\na#b: 2\n"),
        `line 2, column 1: Map keys must be unique: "a#b: 2"`,
        "a key the pattern cannot read is not guessed",
    );
});

test("another error says what the yaml library says, without its own position, and where it is: lines and columns past 9 too", () => {
    const far = `${"# a comment\n".repeat(11)}config:\n  project-vms:memory: b: c\n`;
    assert.equal(
        said(far),
        `line 13, column 23: Nested mappings are not allowed in compact mappings: "  project-vms:memory: b: c"`,
        "not taken for a key given twice though the line has one",
    );
    assert.equal(said("- a\nb: 1\n"), `line 2, column 1: Unexpected scalar at node end: "b: 1"`);
    assert.equal(
        said("a: !!omap\n  - '': 1\n  - '': 2\n"),
        `line 1, column 4: Ordered maps must not include duplicate keys: "a: !!omap"`,
        "a message ending in a colon of its own",
    );
    // A message's own colon is not doubled, with or without spaces after it.
    for (const message of ["Bad value:", "Bad value:  ", "Bad value"])
        assert.equal(
            yamlErrorText({ code: "BAD", message, linePos: [{ line: 1, col: 3 }] }, "a: 1\n"),
            'line 1, column 3: Bad value: "a: 1"',
        );
    const second = parseDocument("- a\nb: 1\n").errors[1];
    assert.equal(yamlErrorText(second, "- a\nb: 1\n"), `line 2, column 2: Unexpected map-value-ind token in YAML stream: ":": "b: 1"`);
});

test("the line shown is cut at 80 characters, and only past them; a position past the text shows an empty line", () => {
    const line = (n: number) => `  k: ${"x".repeat(n - 8)}: y`; // n characters long, a nested mapping
    const shows = (n: number, what: string) => said(`config:\n${line(n)}\n`).endsWith(`compact mappings: ${JSON.stringify(what)}`);
    assert.ok(shows(80, line(80)), "80 characters: whole");
    assert.ok(shows(81, `${line(81).slice(0, 77)}...`), "81: cut");
    const past = {
        code: "X",
        message: "Unexpected end at line 5, column 1:",
        linePos: [{ line: 5, col: 1 }] as [{ line: number; col: number }],
    };
    assert.equal(yamlErrorText(past, "a: 1"), `line 5, column 1: Unexpected end: ""`);
});

test("an error without a position is its message alone", () => {
    assert.equal(yamlErrorText({ code: "X", message: "Source contains control characters" }, "a: 1"), "Source contains control characters");
});

const stack = "config:\n  project-vms:libvirtUri: qemu:///system\n  project-vms:memory: 8G\n  tailscale:tailnet: example.ts.net\n";

test("Pulumi's rewrite: its salt added, its own key order and quoting, a byte order mark dropped", () => {
    const pulumi =
        "encryptionsalt: v1:abc==\nconfig:\n  project-vms:libvirtUri: 'qemu:///system'\n  project-vms:memory: \"8G\"\n  tailscale:tailnet: example.ts.net\n";
    assert.equal(isPulumiRewrite(stack, pulumi), true);
    const sorted = "config:\n  tailscale:tailnet: example.ts.net\n  project-vms:memory: 8G\n  project-vms:libvirtUri: qemu:///system\n";
    assert.equal(isPulumiRewrite(stack, sorted), true, "keys in another order");
    assert.equal(isPulumiRewrite(`\uFEFF${stack}`, stack), true, "a byte order mark");
    assert.equal(
        isPulumiRewrite(
            `secretsprovider: passphrase\nencryptedkey: abc\n${stack}`,
            `encryptedkey: abc\n${stack}secretsprovider: passphrase\n`,
        ),
        true,
        "its other top-level keys in another order",
    );
});

test("not Pulumi's rewrite: a value changed, a key added, anything beside config, a file that is no map or unreadable", () => {
    assert.equal(isPulumiRewrite(stack, stack.replace("8G", "16G")), false);
    assert.equal(isPulumiRewrite(stack, `${stack}  project-vms:vcpu: 4\n`), false);
    assert.equal(isPulumiRewrite(stack, `${stack}secretsprovider: passphrase\n`), false);
    assert.equal(
        isPulumiRewrite(stack, stack.replace("example", "\uFEFFexample")),
        false,
        "a byte order mark inside a value is part of it",
    );
    assert.equal(isPulumiRewrite("- a\n", "- a\n"), false, "a list is no stack file");
    assert.equal(isPulumiRewrite("just text\n", "just text\n"), false, "a scalar is no stack file");
    assert.equal(isPulumiRewrite("a: [\n", "a: [\n"), false, "two unreadable files are not the same config");
    const env = (more: string) => `environment:\n  - ${more}\n${stack}`;
    assert.equal(isPulumiRewrite(env("a\n  - b"), env("b\n  - a")), false, "the order of a list beside config is kept");
});
