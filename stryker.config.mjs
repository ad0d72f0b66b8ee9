// StrykerJS for components/ and cli/, driven by test/mutation/run.ts (`npm run test:mutation`),
// which sets the files to mutate, the test files that can reach them and the incremental file
// per area through the environment. Each test file is one "test" to the tap runner: a mutant runs
// only the files whose run executed its code. Run it alone: `npx stryker run` mutates every file.
const env = process.env;
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
    // The tap runner, with each mutant's test files run fastest first (test/mutation/fastFirstRunner.mjs).
    testRunner: "pvms-tap",
    tap: {
        testFiles: env.PVMS_MUTATION_TESTS ? env.PVMS_MUTATION_TESTS.split(",") : ["test/*.test.ts"],
        // tsx loads the TypeScript; node:test prints TAP; the hook records which mutants a file reaches.
        nodeArgs: ["--import", "tsx", "--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
        forceBail: true,
    },
    // The built CLI (dist/), which the process-level tests run, is built from the mutated code, so
    // a mutant reaches those processes too (they inherit the active mutant's id).
    buildCommand: "npm run build",
    checkers: ["typescript"],
    // --sample (test/mutation/run.ts): only the sampled mutants, not those nested in their nodes.
    plugins: ["@stryker-mutator/*", "./test/mutation/sampleIgnorer.mjs", "./test/mutation/fastFirstRunner.mjs"],
    ignorers: env.PVMS_MUTATION_SAMPLE ? ["pvms-sample"] : [],
    tsconfigFile: "tsconfig.json",
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    mutate: env.PVMS_MUTATION_MUTATE ? env.PVMS_MUTATION_MUTATE.split(",") : ["components/**/*.ts", "cli/**/*.ts"],
    coverageAnalysis: "perTest",
    incremental: true,
    incrementalFile: env.PVMS_MUTATION_INCREMENTAL ?? "reports/stryker-incremental/all.json",
    reporters: ["json", "progress"],
    jsonReporter: { fileName: env.PVMS_MUTATION_REPORT ?? "reports/mutation/all.json" },
    concurrency: Number(env.PVMS_MUTATION_CONCURRENCY ?? 2),
    timeoutMS: 30000,
    // The dry run runs every test file once: 4 minutes here alone, past Stryker's default 5 on a
    // loaded machine (another run beside it).
    dryRunTimeoutMinutes: 20,
    timeoutFactor: 2,
    // Left out of the sandbox: build output and caches. e2e/ and nix/ stay: unit tests read them
    // (domainShape.test.ts builds an e2e guest's XML, nix.test.ts reads the module and flake).
    ignorePatterns: ["dist", "engine", "reports", ".project-vm", "examples/**/*.lock"],
    tempDirName: ".stryker-tmp",
    cleanTempDir: true,
};
