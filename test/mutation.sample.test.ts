// `npm run test:mutation -- --sample N`: the sample is uniform and repeatable, the interval is
// Wilson's, and Stryker's instrumenter, given a sampled node as its range and the sample ignorer,
// makes that node's mutants and none of those nested in it.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { babelSite, instrumenter, listMutants, MutantSite, mutateRange, pick, siteKey, wilson } from "./mutation/sample";
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore: a plain ES module, loaded by Stryker itself
import { holds, sampleIgnorer } from "./mutation/sampleIgnorer.mjs";

const SOURCE = [
    "export function grade(score: number): string {",
    "    if (score >= 90) {",
    '        return "good";',
    "    }",
    '    return score > 50 ? "fair" : "poor";',
    "}",
    "",
].join("\n");

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function repoWith(source: string): string {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-sample-"));
    made.push(repo);
    fs.mkdirSync(path.join(repo, "cli"));
    fs.writeFileSync(path.join(repo, "cli", "grade.ts"), source);
    return repo;
}

test("pick: the same seed draws the same sample, another seed another, never an item twice", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = pick(items, 10, 7);
    assert.deepEqual(pick(items, 10, 7), a);
    assert.notDeepEqual(pick(items, 10, 8), a);
    assert.equal(new Set(a).size, 10);
    assert.deepEqual(
        pick(items, 80, 3).sort((x, y) => x - y),
        items,
        "asking for more than there are takes them all",
    );
    assert.throws(() => pick(items, 0, 1), /--sample takes a whole number of at least 1, not 0/);
    assert.throws(() => pick(items, 2.5, 1), /not 2.5/);
});

test("pick: every item is as likely to be drawn (3 of 10 over 3000 seeds)", () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 3000; seed++) for (const i of pick(items, 3, seed)) counts[i]++;
    // Each is drawn 900 times on average; a biased shuffle (the first or last favoured) is far off.
    for (const [i, c] of counts.entries()) assert.ok(c > 780 && c < 1020, `item ${i} drawn ${c} times of 9000`);
});

test("wilson: the 95 % interval of a sampled score", () => {
    const round = (r: { low: number; high: number }) => [Number(r.low.toFixed(1)), Number(r.high.toFixed(1))];
    assert.deepEqual(round(wilson(95, 100)), [88.8, 97.8]);
    assert.deepEqual(round(wilson(100, 100)), [96.3, 100]);
    assert.deepEqual(round(wilson(0, 10)), [0, 27.8]);
    assert.deepEqual(round(wilson(0, 0)), [0, 100], "no mutant counted says nothing");
});

test("listMutants: Stryker's mutants of a file, where Stryker puts them", async () => {
    const repo = repoWith(SOURCE);
    const all = await listMutants(repo, ["cli/grade.ts"]);
    const ge = all.filter((m) => m.mutatorName === "EqualityOperator" && m.start.line === 1);
    assert.deepEqual(ge.map((m) => m.replacement).sort(), ["score < 90", "score > 90"], "score >= 90 is mutated as Stryker does");
    assert.deepEqual(ge[0].start, { line: 1, column: 8 });
    assert.deepEqual(ge[0].end, { line: 1, column: 19 });
    assert.equal(mutateRange(ge[0]), "cli/grade.ts:2:8-2:19", "Stryker's mutate ranges count lines from 1");
    assert.equal(siteKey(ge[0]), `cli/grade.ts:2:9:EqualityOperator:${ge[0].replacement}`, "the report counts both from 1");
    assert.ok(all.some((m) => m.mutatorName === "BlockStatement"));
});

test("a sampled block is tried alone: the sample ignorer leaves out the mutants nested in it", async () => {
    const repo = repoWith(SOURCE);
    const all = await listMutants(repo, ["cli/grade.ts"]);
    const block = all.find((m) => m.mutatorName === "BlockStatement" && m.start.line === 1) as MutantSite;
    assert.ok(block, "the if's block is a mutant");
    const inside = all.filter((m) => m !== block && holds(babelSite(repo, block), babelSite(repo, m)));
    assert.ok(inside.length > 0, "the block holds other mutants (its string)");
    const sampleFile = path.join(repo, "sample.json");
    fs.writeFileSync(sampleFile, JSON.stringify([babelSite(repo, block)]));

    const range = { start: block.start, end: block.end }; // what Stryker makes of mutateRange(block)
    const result = await (
        await instrumenter()
    ).instrument([{ name: path.join(repo, "cli/grade.ts"), content: SOURCE, mutate: [range] }], {
        plugins: null,
        excludedMutations: [],
        ignorers: [sampleIgnorer(sampleFile)],
    });
    const tried = result.mutants.filter((m) => m.status === undefined);
    assert.deepEqual(
        tried.map((m) => `${m.mutatorName} ${m.location.start.line}:${m.location.start.column}`),
        ["BlockStatement 1:21"],
    );
    assert.deepEqual(
        result.mutants.filter((m) => m.status === "Ignored").map((m) => m.statusReason),
        inside.map(() => "not in the sample"),
    );

    // Without the ignorer, the range alone would try them all.
    const bare = await (
        await instrumenter()
    ).instrument([{ name: path.join(repo, "cli/grade.ts"), content: SOURCE, mutate: [range] }], {
        plugins: null,
        excludedMutations: [],
        ignorers: [],
    });
    assert.equal(bare.mutants.length, 1 + inside.length);
});
