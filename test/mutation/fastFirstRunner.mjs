// A Stryker test runner, `pvms-tap`: the tap runner, with each mutant's test files run fastest
// first. The tap runner runs a mutant's files one after the other and stops at the first that fails
// (forceBail), in the order Stryker's coverage lists them, which is glob's order: nearly name order.
// The slowest files (backup.cli, backup.safety, backup.script: 30-60 s each here) came first for
// most cli mutants, though a file of a second would have killed them. The dry run runs every file
// once; their times are written to PVMS_MUTATION_TIMES (the workers that run mutants are other
// processes) and each mutant's files are then run in the order of those times. Whether a mutant is
// detected does not depend on the order (a file that fails fails in any order); which file Stryker
// names as its killer, and whether a timeout or a failure comes first, may.
import * as fs from "node:fs";
import { commonTokens, declareFactoryPlugin, PluginKind, tokens } from "@stryker-mutator/api/plugin";
import { createTapTestRunnerFactory } from "@stryker-mutator/tap-runner";

/**
 * `files` ordered by `times` (milliseconds by file), fastest first; a file without a time goes
 * last; files of equal time (or none) keep their order.
 */
export function fastFirst(files, times) {
    const time = (file) => (typeof times[file] === "number" ? times[file] : Number.POSITIVE_INFINITY);
    return files
        .map((file, index) => ({ file, index }))
        .sort((a, b) => time(a.file) - time(b.file) || a.index - b.index)
        .map(({ file }) => file);
}

/** The file times of a dry run's result: `{ [file]: milliseconds }`. */
export function timesOf(dryRunResult) {
    if (dryRunResult.status !== "complete") return undefined;
    return Object.fromEntries(dryRunResult.tests.map((t) => [t.id, t.timeSpentMs]));
}

/** The tap runner `inner`, with each mutant's files in the order of the times kept in `timesFile`. */
export function fastFirstRunner(inner, timesFile) {
    let times;
    const known = () => {
        if (times === undefined && timesFile && fs.existsSync(timesFile)) {
            times = JSON.parse(fs.readFileSync(timesFile, "utf8"));
        }
        return times ?? {};
    };
    return {
        capabilities: () => inner.capabilities(),
        init: () => inner.init?.(),
        dispose: () => inner.dispose?.(),
        async dryRun(options) {
            const result = await inner.dryRun(options);
            const measured = timesOf(result);
            if (measured && timesFile) {
                times = measured;
                fs.writeFileSync(timesFile, JSON.stringify(measured));
            }
            return result;
        },
        mutantRun(options) {
            if (!options.testFilter) return inner.mutantRun(options);
            return inner.mutantRun({ ...options, testFilter: fastFirst(options.testFilter, known()) });
        },
    };
}

function createFastFirstRunner(injector) {
    return fastFirstRunner(createTapTestRunnerFactory()(injector), process.env.PVMS_MUTATION_TIMES);
}
createFastFirstRunner.inject = tokens(commonTokens.injector);

export const strykerPlugins = [declareFactoryPlugin(PluginKind.TestRunner, "pvms-tap", createFastFirstRunner)];
