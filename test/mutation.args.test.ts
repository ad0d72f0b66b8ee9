// `npm run test:mutation`'s arguments: a whole TypeScript area is sampled by default, with the
// day's seed (so a sample whose survivors were killed since does not go on standing for the area),
// and mistakes are refused by name.
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import { mutationArgs, seedOf } from "./mutation/args";

const REPO = path.resolve(__dirname, "..");
const AREAS = ["components", "cli", "host-scripts", "cloud-init/scripts"];
const DAY = new Date("2026-12-07T23:59:00Z");
const parse = (...list: string[]) => mutationArgs(list, REPO, AREAS, DAY);

test("no argument: every area, the TypeScript ones sampled (100, the day's seed)", () => {
    assert.deepEqual(parse(), { concurrency: 2, targets: AREAS, sample: { size: 100, seed: 20261207 }, sampled: ["components", "cli"] });
    assert.equal(seedOf(new Date("2027-01-02T00:00:00Z")), 20270102, "another day, another sample");
    assert.deepEqual(parse("cli/").sample, { size: 100, seed: 20261207 });
});

test("--all tries every mutant; a single file or a shell area is not sampled unless asked", () => {
    assert.deepEqual([parse("--all").sample, parse("--all").sampled], [undefined, []]);
    assert.equal(parse("cli/lock.ts").sample, undefined);
    assert.equal(parse("host-scripts").sample, undefined);
    assert.deepEqual(parse("components", "cli/lock.ts").sampled, ["components"], "the area sampled, the file whole");
    assert.deepEqual(parse("components", "cli/lock.ts", "--sample", "5"), {
        concurrency: 2,
        targets: ["components", "cli/lock.ts"],
        sample: { size: 5, seed: 20261207 },
        sampled: ["components", "cli/lock.ts"],
    });
});

test("--sample, --seed, --concurrency and --tests, in either form", () => {
    assert.deepEqual(parse("components", "--sample=40", "--seed", "3", "--concurrency=1", "--tests", "test/names.test.ts"), {
        concurrency: 1,
        targets: ["components"],
        tests: ["test/names.test.ts"],
        sample: { size: 40, seed: 3 },
        sampled: ["components"],
    });
});

test("mistakes are refused, naming the argument", () => {
    assert.throws(() => parse("--sample", "0"), /--sample takes a whole number of at least 1, not "0"/);
    assert.throws(() => parse("--seed", "x"), /--seed takes a whole number, not "x"/);
    assert.throws(() => parse("--all", "--sample", "9"), /--all tries every mutant: it takes no --sample/);
    assert.throws(() => parse("--concurrency", "0"), /--concurrency takes a number of at least 1/);
    assert.throws(() => parse("--sample"), /--sample takes a value/);
    assert.throws(() => parse("--smaple", "9"), /--smaple: not an option/);
    assert.throws(() => parse("lib"), /lib: not an area \(components, cli, host-scripts, cloud-init\/scripts\) nor a file in one/);
    assert.throws(() => parse("cli/nope.ts"), /cli\/nope\.ts: not an area/);
    assert.throws(() => parse("cli", "--tests", "test/nope.test.ts"), /--tests: no file "test\/nope\.test\.ts"/);
    assert.throws(() => parse("cli", "--tests", "test/names.test.ts,,test/config.test.ts"), /--tests: no file ""/);
    assert.throws(() => parse("cli", "--tests", "test"), /--tests: no file "test"/, "a folder is not a test file");
    assert.throws(() => parse("--all", "--seed", "4"), /--all tries every mutant: it takes no --seed/);
    assert.throws(() => parse("host-scripts", "--sample", "5"), /--sample draws from the TypeScript areas, and none is named/);
    assert.throws(() => parse("cli/lock.ts", "--seed", "5"), /--seed draws from the TypeScript areas, and none is named/);
});
