// `npm run test:mutation`'s test runner (test/mutation/fastFirstRunner.mjs): a mutant's test files
// run fastest first, by the times of the dry run, which another worker process finds in the file.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore: a plain ES module, loaded by Stryker itself
import { fastFirst, fastFirstRunner } from "./mutation/fastFirstRunner.mjs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-fastfirst-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in for the tap runner: its dry run took `times`; it records the files each mutant run is given. */
function tapRunner(times: Record<string, number>, status = "complete") {
    const given: string[][] = [];
    return {
        given,
        capabilities: () => ({ reloadEnvironment: true }),
        dryRun: async () => ({ status, tests: Object.entries(times).map(([id, timeSpentMs]) => ({ id, timeSpentMs })) }),
        mutantRun: async (o: { testFilter?: string[] }) => {
            given.push(o.testFilter ?? ["(all)"]);
            return { status: "survived" };
        },
    };
}

test("fastFirst: the fastest file first; one without a time last; equal times keep their order", () => {
    const times = { "a.test.ts": 30_000, "b.test.ts": 900, "c.test.ts": 900, "d.test.ts": 5 };
    assert.deepEqual(fastFirst(["a.test.ts", "x.test.ts", "b.test.ts", "c.test.ts", "d.test.ts"], times), [
        "d.test.ts",
        "b.test.ts",
        "c.test.ts",
        "a.test.ts",
        "x.test.ts",
    ]);
    assert.deepEqual(fastFirst(["c.test.ts", "b.test.ts"], times), ["c.test.ts", "b.test.ts"]);
    assert.deepEqual(fastFirst(["a.test.ts", "b.test.ts"], {}), ["a.test.ts", "b.test.ts"], "no times: the order given");
});

test("a mutant's files run fastest first, by the dry run's times, in the worker that ran it and in another", async () => {
    const timesFile = path.join(dir, "times.json");
    const times = { "backup.cli.test.ts": 31_000, "names.test.ts": 400, "lock.test.ts": 2_000 };
    const first = tapRunner(times);
    const runner = fastFirstRunner(first, timesFile);
    await runner.dryRun({});
    await runner.mutantRun({ testFilter: ["backup.cli.test.ts", "lock.test.ts", "names.test.ts"] });
    await runner.mutantRun({});
    assert.deepEqual(first.given, [["names.test.ts", "lock.test.ts", "backup.cli.test.ts"], ["(all)"]]);

    const other = tapRunner({});
    await fastFirstRunner(other, timesFile).mutantRun({ testFilter: ["backup.cli.test.ts", "names.test.ts"] });
    assert.deepEqual(other.given, [["names.test.ts", "backup.cli.test.ts"]], "a worker without a dry run reads the times");
});

test("a dry run that did not complete leaves no times: the files keep the order given", async () => {
    const timesFile = path.join(dir, "failed.json");
    const inner = tapRunner({ "slow.test.ts": 9_000, "fast.test.ts": 1 }, "error");
    const runner = fastFirstRunner(inner, timesFile);
    await runner.dryRun({});
    await runner.mutantRun({ testFilter: ["slow.test.ts", "fast.test.ts"] });
    assert.equal(fs.existsSync(timesFile), false);
    assert.deepEqual(inner.given, [["slow.test.ts", "fast.test.ts"]]);
});
