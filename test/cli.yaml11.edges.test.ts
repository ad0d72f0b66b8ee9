// The stack-file readers at their edges: what Pulumi's yaml.v3 makes of plain scalars one past a
// limit (the largest 64-bit integers, floats out of range, days that do not exist), the messages
// that refuse an ambiguous value (every kind of reading, every kind of key path), and what the
// CLI quotes when it writes.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { Document, parse, parseDocument, Scalar } from "yaml";
import { needsQuotes, quoteAmbiguous, readingProblems, showReading, stringNode, Timestamp, v3Resolve } from "../cli/yaml11";
import { yamlV3 } from "./support/yamlv3";

const TS = "<timestamp>";
/** Plain scalars and what yaml.v3 decodes each into (checked against the real yaml.v3 when there is Go). */
const V3: [string, unknown][] = [
    ["true", true],
    ["True", true],
    ["TRUE", true],
    ["false", false],
    ["False", false],
    ["FALSE", false],
    ["", null],
    ["~", null],
    ["null", null],
    ["Null", null],
    ["NULL", null],
    [".nan", NaN],
    [".NaN", NaN],
    [".NAN", NaN],
    [".inf", Infinity],
    [".Inf", Infinity],
    [".INF", Infinity],
    ["+.inf", Infinity],
    ["+.Inf", Infinity],
    ["+.INF", Infinity],
    ["-.inf", -Infinity],
    ["-.Inf", -Infinity],
    ["-.INF", -Infinity],
    ["yes", "yes"],
    ["tRUE", "tRUE"],
    ["nULL", "nULL"],
    // 64-bit integers: signed down to -2^63, unsigned up to 2^64-1; one past either is no integer.
    ["0x7fffffffffffffff", 2 ** 63 - 1],
    ["0xffffffffffffffff", 2 ** 64 - 1],
    ["0x10000000000000000", "0x10000000000000000"],
    ["-0x8000000000000000", -(2 ** 63)],
    ["-0x8000000000000001", "-0x8000000000000001"],
    ["-5", -5],
    ["+12", 12],
    ["+0x1f", 31],
    ["-0o17", -15],
    ["0B11", 3],
    ["0O7", 7],
    ["-0b11", -3],
    ["0b101", 5],
    ["010000", 4096],
    ["07", 7],
    ["0", 0],
    ["00", 0],
    ["08", 8],
    ["09", 9],
    ["0o8", "0o8"],
    ["0b", "0b"],
    ["0b2", "0b2"],
    ["0x", "0x"],
    ["1_000", 1000],
    ["0_7", 7],
    ["+1_2", 12],
    ["1__", 1],
    ["_1", "_1"],
    ["1_0.5", 10.5],
    // Floats: a leading dot, exponents, and out of range (Go's ParseFloat fails: the scalar stays a string).
    [".5", 0.5],
    [".5e3", 500],
    [".5E-3", 0.0005],
    [".x", ".x"],
    [".", "."],
    [".e3", ".e3"],
    ["+.5", 0.5],
    ["1.", 1],
    ["-1.5e+3", -1500],
    ["1e", "1e"],
    ["0.5.", "0.5."],
    ["3.14159", 3.14159],
    [".25", 0.25],
    [".25e-12", 0.25e-12],
    ["12e34", 12e34],
    ["1E+5", 1e5],
    ["-.5", -0.5],
    ["-.25", -0.25],
    ["+.125e1", 1.25],
    ["+1e3", 1000],
    ["e3", "e3"],
    ["1.5.", "1.5."],
    ["1e308", 1e308],
    ["1e-400", 0],
    ["1e400", "1e400"],
    ["-1e400", "-1e400"],
    ["1.8e308", "1.8e308"],
    [".5e400", ".5e400"],
    ["-.5e400", "-.5e400"],
    ["-1_0e400", "-1_0e400"],
    ["+", "+"],
    ["-abc", "-abc"],
    ["abc", "abc"],
    ["1:20", "1:20"],
    ["1-2", "1-2"],
    // Timestamps: the day must exist (29 February only in a leap year), the time needs a zone after T.
    ["2024-02-29", TS],
    ["2026-02-29", "2026-02-29"],
    ["2026-12-31", TS],
    ["2026-00-10", "2026-00-10"],
    ["2026-13-01", "2026-13-01"],
    ["2026-01-00", "2026-01-00"],
    ["2026-01-31", TS],
    ["2026-01-32", "2026-01-32"],
    ["2026-04-31", "2026-04-31"],
    ["2026-1-2", TS],
    ["2026-1-2T3:04:05Z", TS],
    ["2026-01-02T10:00:00.5+02:00", TS],
    ["2026-01-02t10:00:00-01:30", TS],
    ["2026-01-02 10:00:00.25", TS],
    ["2026-01-02 10:00:00", TS],
    ["2026-01-02T10:00:00.123Z", TS],
    ["2026-01-02T1:2:3Z", TS],
    ["2026-01-02T10:00:00+2:00", "2026-01-02T10:00:00+2:00"],
    ["2026-01-02 10:00", "2026-01-02 10:00"],
    ["2026-01-02T10:00:00", "2026-01-02T10:00:00"],
    ["2026-01-02X10:00:00Z", "2026-01-02X10:00:00Z"],
    ["2026-01-02T10:00:00+0200", "2026-01-02T10:00:00+0200"],
    ["0099-01-01", TS],
    ["0000-01-01", TS],
    ["0004-02-29", TS],
    ["0100-02-29", "0100-02-29"],
    ["0001-02-29", "0001-02-29"],
    ["12026-01-01", "12026-01-01"],
    ["2026-01-01x", "2026-01-01x"],
];

function typed(v: unknown): unknown {
    if (v instanceof Timestamp) return TS;
    if (v && typeof v === "object" && "$timestamp" in v) return TS;
    if (v && typeof v === "object" && "$float" in v) return { "+Inf": Infinity, "-Inf": -Infinity, NaN }[(v as { $float: string }).$float];
    return v;
}

test("the port of yaml.v3's resolver at the edges: 64-bit limits, floats out of range, days that do not exist", () => {
    for (const [s, want] of V3) assert.deepEqual(typed(v3Resolve(s)), want, `${JSON.stringify(s)}`);
    assert.equal(String(v3Resolve("2026-01-01")), "timestamp 2026-01-01");
});

const v3 = yamlV3();

test("those readings are the real yaml.v3's", { skip: v3.skip }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml11-edges-"));
    try {
        const file = path.join(dir, "edges.yaml");
        fs.writeFileSync(file, V3.map(([s], i) => `k${i}: ${s}\n`).join(""));
        const real = v3.read!(file) as Record<string, unknown>;
        for (const [i, [s, want]] of V3.entries()) assert.deepEqual(typed(real[`k${i}`]), want, `yaml.v3 reads ${JSON.stringify(s)}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("an ambiguous value is refused naming its key path and what each reader makes of it", () => {
    const text = [
        "config:",
        "  a:when: 2026-01-01T10:00:00",
        "  a:flag: yes",
        "  a:octal: 0o17",
        "  a:count: 1_000",
        "  a:nan: .nan",
        "  a:ninf: -.inf",
        "  a:big: 1.8e308",
        '  a:quoted: "010000"',
        "  a:single: '0b101'",
        "  a:tagged: !!str 010000",
        "  a:folded: 2026-",
        "    01-01",
        "  a:nest:",
        "    - x:",
        "        2: 010",
        "    - [1, 0b11]",
        "  7: 010",
        "  a:fine: webapp",
        "  a:number: 4096",
        "",
    ].join("\n");
    assert.deepEqual(readingProblems(parseDocument(text)), [
        'a:when: 2026-01-01T10:00:00 is ambiguous: YAML 1.2 (project-vm) reads "2026-01-01T10:00:00", a YAML 1.1 reader reads timestamp 2026-01-01T10:00:00.000Z; write it unambiguously (quoted: "2026-01-01T10:00:00")',
        'a:flag: yes is ambiguous: YAML 1.2 (project-vm) reads "yes", a YAML 1.1 reader reads true; write it unambiguously (quoted: "yes")',
        'a:octal: 0o17 is ambiguous: YAML 1.2 (project-vm) reads 15, a YAML 1.1 reader reads "0o17"; write it unambiguously (e.g. 15, or quoted if it is text)',
        'a:count: 1_000 is ambiguous: YAML 1.2 (project-vm) reads "1_000", Pulumi (yaml.v3) reads 1000; write it unambiguously (quoted: "1_000")',
        "a:nan: .nan is not a finite number, which Pulumi cannot store (it fails to load the stack file); write a number, or quote it if it is text",
        "a:ninf: -.inf is not a finite number, which Pulumi cannot store (it fails to load the stack file); write a number, or quote it if it is text",
        "a:big: 1.8e308 is not a finite number, which Pulumi cannot store (it fails to load the stack file); write a number, or quote it if it is text",
        "a:nest[0].x.2: 010 is ambiguous: YAML 1.2 (project-vm) reads 10, Pulumi (yaml.v3) reads 8; write it unambiguously (e.g. 10, or quoted if it is text)",
        'a:nest[1][1]: 0b11 is ambiguous: YAML 1.2 (project-vm) reads "0b11", Pulumi (yaml.v3) reads 3; write it unambiguously (quoted: "0b11")',
        "7: 010 is ambiguous: YAML 1.2 (project-vm) reads 10, Pulumi (yaml.v3) reads 8; write it unambiguously (e.g. 10, or quoted if it is text)",
    ]);
    assert.deepEqual(readingProblems(parseDocument("config: []\n")), [], "no config map: nothing to read");
    assert.deepEqual(readingProblems(parseDocument("config: 010\n")), []);
    assert.deepEqual(readingProblems(parseDocument("encryptionsalt: 010\nother: 0b11\n")), [], "only config: is read");
    assert.deepEqual(
        readingProblems(
            parseDocument('config:\n  a:b: 1.5\n  a:c: -.5\n  a:d: 0\n  a:e: {x: null}\n  a:f: true\n  a:g: "null"\n  a:h: [~]\n'),
        ),
        [],
        "values every reader agrees on (a null inside a value is that value's)",
    );
});

test("a key given no value is refused, named: Pulumi hands the program an empty string, not the default", () => {
    const noValue = (key: string) =>
        `${key} has no value, which Pulumi hands the program as "" (not its default); give it a value, or remove the line`;
    assert.deepEqual(
        readingProblems(parseDocument("config:\n  a:empty:\n  a:tilde: ~\n  a:null: null\n  a:Null: Null\n  a:fine: 1\n  a:last:")),
        [noValue("a:empty"), noValue("a:tilde"), noValue("a:null"), noValue("a:Null"), noValue("a:last")],
    );
});

test("how a reading is shown", () => {
    assert.equal(showReading(null), "null");
    assert.equal(showReading("010"), '"010"');
    assert.equal(showReading(""), '""');
    assert.equal(showReading(NaN), "NaN (not a number)");
    assert.equal(showReading(Infinity), "Infinity (infinity)");
    assert.equal(showReading(-Infinity), "-Infinity (infinity)");
    assert.equal(showReading(4096), "4096");
    assert.equal(showReading(0), "0");
    assert.equal(showReading(new Date(Date.UTC(2026, 0, 1))), "timestamp 2026-01-01T00:00:00.000Z");
    assert.equal(showReading(new Timestamp("2026-01-01")), "timestamp 2026-01-01");
    assert.equal(showReading(true), "true");
});

test("what the CLI writes: quoted exactly when some reader would read something else", () => {
    for (const s of [
        "010000",
        "0b101",
        "1_000",
        "yes",
        "2026-01-01",
        "2026-01-01T10:00:00",
        ".nan",
        "1e400",
        "1:20",
        "null",
        "",
        "true",
        "0o17",
        "4096",
        "2026-02-29",
    ]) {
        assert.ok(needsQuotes(s), `${JSON.stringify(s)} needs quotes`);
        const doc = new Document({ v: stringNode(s) });
        assert.equal(parse(doc.toString()).v, s, `${s} reads back`);
        assert.equal(parse(doc.toString(), { version: "1.1" }).v, s, `${s} reads back in YAML 1.1`);
        assert.equal(doc.toString(), `v: ${JSON.stringify(s)}\n`);
    }
    for (const s of ["webapp", "100G", "a1", "tRUE", "-abc", "1-2"]) {
        assert.ok(!needsQuotes(s), `${s} stays plain`);
        assert.equal(new Document({ v: stringNode(s) }).toString(), `v: ${s}\n`);
    }
});

test("quoting what the CLI made: plain strings that need it get double quotes; quoted ones and numbers are left as they are", () => {
    const doc = parseDocument("a: yes\nb: 'no'\nc: \"on\"\nd: 4096\ne: webapp\nf: [0b101, x]\n");
    quoteAmbiguous(doc.contents!);
    // `yes` was read as the string "yes" (YAML 1.2): it is quoted; 'no' keeps its single quotes.
    assert.equal(doc.toString(), 'a: "yes"\nb: \'no\'\nc: "on"\nd: 4096\ne: webapp\nf: [ "0b101", x ]\n');
    const single = new Scalar("yes");
    single.type = Scalar.QUOTE_SINGLE;
    quoteAmbiguous(new Document({ s: single }).contents!);
    assert.equal(single.type, Scalar.QUOTE_SINGLE);
});
