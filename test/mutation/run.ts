// `npm run test:mutation [-- AREA|FILE ...] [--sample N] [--seed S] [--all] [--concurrency N] [--tests FILE,...]`:
// mutation testing, one score per area (arguments: test/mutation/args.ts).
//   components, cli            StrykerJS (stryker.config.mjs) over the unit tests that import them
//   host-scripts, cloud-init/scripts   the hand-made mutants of test/mutation/shell-mutants.json
// An argument may be a single file of an area (cli/lock.ts, host-scripts/backup.sh). No argument:
// all four areas. Stryker runs every unit test file that imports the mutated code, directly or not
// (each mutant only the files whose run reached it); --tests names the test files instead (faster
// while iterating on one file; a narrower set can only score lower). Stryker's incremental file is kept per set of arguments under
// reports/stryker-incremental/ (gitignored: a local cache of this checkout's last run), so a rerun
// only tries the mutants whose code or tests changed. Mutants that cannot change behaviour are
// listed with the reason in test/mutation/equivalent.json and left out of the score (by file, mutator and
// text; an entry with a `line` only there, when the same text elsewhere in the file is not equivalent).
// A whole TypeScript area is sampled (100 mutants, --sample N for another size; --all for every
// one: thousands, hours on two cores), drawn uniformly by a seed (test/mutation/sample.ts; the
// day's by default), and its score given as an estimate with its 95 % interval.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { isIn, mutationArgs, Sample, TS_AREAS } from "./args";
import { testsReaching } from "./graph";
import { babelSite, listMutants, mutateRange, pick, reportKey, siteKey, wilson } from "./sample";
import { loadShellMutants, runShellMutants, SHELL_AREAS, Outcome } from "./shell";

const REPO = path.resolve(__dirname, "..", "..");

interface Equivalents {
    shell: Record<string, string>;
    /** `line` (optional) when the same text is mutated elsewhere in the file and only this one is equivalent. */
    stryker: { file: string; line?: number; mutator: string; original: string; replacement: string; why: string }[];
}
interface StrykerMutant {
    id: string;
    mutatorName: string;
    replacement?: string;
    status: string;
    location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

function areaOf(file: string): string {
    return [...SHELL_AREAS, ...TS_AREAS].find((a) => isIn(file, a)) as string;
}

function originalText(source: string, m: StrykerMutant): string {
    const lines = source.split("\n");
    const { start, end } = m.location;
    if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
    return [
        lines[start.line - 1].slice(start.column - 1),
        ...lines.slice(start.line, end.line - 1),
        lines[end.line - 1].slice(0, end.column - 1),
    ].join("\n");
}

/** The TypeScript files of a target (an area or one file), relative to the repository. */
function filesOf(target: string): string[] {
    if (!TS_AREAS.includes(target)) return [target];
    return fs
        .readdirSync(path.join(REPO, target), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => path.join(target, f))
        .sort();
}

async function runStryker(targets: string[], concurrency: number, only: string[] | undefined, sample: Sample | undefined) {
    const sources = targets.flatMap(filesOf);
    let mutate = targets.map((t) => (TS_AREAS.includes(t) ? `${t}/**/*.ts` : t));
    let sampled: Set<string> | undefined;
    const sites: object[] = [];
    if (sample) {
        sampled = new Set();
        const ranges: string[] = [];
        for (const t of targets) {
            const all = await listMutants(REPO, filesOf(t));
            const picked = pick(all, sample.size, sample.seed);
            console.log(`sample: ${picked.length} of the ${all.length} mutants of ${t} (seed ${sample.seed})`);
            for (const site of picked) {
                sampled.add(siteKey(site));
                ranges.push(mutateRange(site));
                sites.push(babelSite(REPO, site));
            }
        }
        mutate = ranges;
    }
    const tests = only ?? testsReaching(REPO, sources);
    const slug = [
        ...targets,
        ...(only ? ["tests", ...only.map((t) => path.basename(t, ".test.ts"))] : []),
        ...(sample ? [`sample${sample.size}`, `seed${sample.seed}`] : []),
    ]
        .join("+")
        .replace(/[^A-Za-z0-9.+-]+/g, "_");
    const report = `reports/mutation/${slug}.json`;
    const sampleFile = path.join(REPO, `reports/mutation/${slug}.sample.json`);
    fs.mkdirSync(path.dirname(sampleFile), { recursive: true });
    if (sample) fs.writeFileSync(sampleFile, JSON.stringify(sites));
    console.log(
        `stryker: mutating ${sample ? `${mutate.length} sampled places in ` : ""}${targets.join(", ")} against ${tests.length} test files`,
    );
    const r = spawnSync(path.join(REPO, "node_modules/.bin/stryker"), ["run"], {
        cwd: REPO,
        stdio: "inherit",
        env: {
            ...process.env,
            PVMS_MUTATION_MUTATE: mutate.join(","),
            PVMS_MUTATION_TESTS: tests.join(","),
            PVMS_MUTATION_INCREMENTAL: `reports/stryker-incremental/${slug}.json`,
            PVMS_MUTATION_REPORT: report,
            PVMS_MUTATION_CONCURRENCY: String(concurrency),
            // Where the dry run leaves each test file's time, for fastFirstRunner.mjs.
            PVMS_MUTATION_TIMES: path.join(REPO, `reports/mutation/${slug}.times.json`),
            ...(sample ? { PVMS_MUTATION_SAMPLE: sampleFile } : {}),
            // The sandbox is not beside ../shared/schemas: without this the program's tests skip.
            PROJECT_VMS_SCHEMAS: process.env.PROJECT_VMS_SCHEMAS ?? path.resolve(REPO, "..", "shared", "schemas"),
        },
    });
    if (r.status !== 0) throw new Error(`stryker failed (exit ${r.status})`);
    const json = JSON.parse(fs.readFileSync(path.join(REPO, report), "utf8")) as {
        files: Record<string, { source: string; mutants: StrykerMutant[] }>;
    };
    const outcomes: Outcome[] = [];
    for (const [file, { source, mutants }] of Object.entries(json.files)) {
        const rel = path.isAbsolute(file) ? path.relative(REPO, file) : file;
        for (const m of mutants) {
            if (!["Killed", "Timeout", "Survived", "NoCoverage"].includes(m.status)) continue;
            // A sampled node's range also holds the mutants nested in it: Stryker tries them, the score leaves them out.
            const key = reportKey(rel, m.location.start.line, m.location.start.column, m.mutatorName, m.replacement ?? "");
            if (sampled && !sampled.has(key)) continue;
            const original = originalText(source, m);
            outcomes.push({
                id: `${rel}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName}`,
                file: rel,
                area: areaOf(rel),
                status: m.status === "NoCoverage" ? "Survived" : (m.status as Outcome["status"]),
                description: `${JSON.stringify(original.length > 80 ? `${original.slice(0, 77)}...` : original)} → ${JSON.stringify(m.replacement ?? "")}${m.status === "NoCoverage" ? " (no test reaches it)" : ""}`,
                ...{ original, replacement: m.replacement ?? "", mutator: m.mutatorName, line: m.location.start.line },
            } as Outcome);
        }
    }
    return outcomes;
}

function isEquivalent(o: Outcome, eq: Equivalents): string | undefined {
    if (SHELL_AREAS.includes(o.area)) return eq.shell[o.id];
    const x = o as Outcome & { original: string; replacement: string; mutator: string; line: number };
    return eq.stryker.find(
        (e) =>
            e.file === x.file &&
            (e.line === undefined || e.line === x.line) &&
            e.mutator === x.mutator &&
            e.original === x.original &&
            e.replacement === x.replacement,
    )?.why;
}

async function main() {
    const { concurrency, targets, tests, sample, sampled } = mutationArgs(process.argv.slice(2), REPO, [...TS_AREAS, ...SHELL_AREAS]);
    if (sample)
        console.log(
            `sampled: ${sampled.join(", ")}, ${sample.size} mutants each, seed ${sample.seed} (repeat with --seed ${sample.seed}; --all for every mutant)`,
        );
    const started = Date.now();
    const eq = JSON.parse(fs.readFileSync(path.join(REPO, "test/mutation/equivalent.json"), "utf8")) as Equivalents;
    const outcomes: Outcome[] = [];
    const tsTargets = targets.filter((t) => TS_AREAS.includes(areaOf(t)));
    const shTargets = targets.filter((t) => SHELL_AREAS.includes(areaOf(t)));
    if (shTargets.length > 0) {
        const mutants = loadShellMutants(REPO).filter((m) => shTargets.some((t) => isIn(m.file, t)));
        console.log(`shell: ${mutants.length} mutants of ${shTargets.join(", ")}`);
        outcomes.push(...(await runShellMutants(REPO, mutants, concurrency, (l) => console.log(`  ${l}`))));
    }
    // A sample is tried one target at a time: Stryker keeps its results only when a run ends, so a
    // run stopped in the second target keeps the first's (a sample of 100 from each of components
    // and cli, in one run, had not ended after 80 minutes here).
    for (const t of sampled) outcomes.push(...(await runStryker([t], concurrency, tests, sample)));
    const whole = tsTargets.filter((t) => !sampled.includes(t));
    if (whole.length > 0) outcomes.push(...(await runStryker(whole, concurrency, tests, undefined)));

    const areas = [...new Set(targets.map(areaOf))];
    const summary: Record<string, unknown> = {};
    console.log(`\nmutation score (equivalent mutants left out), ${targets.join(" ")}:`);
    let failed = false;
    for (const area of areas) {
        const mine = outcomes.filter((o) => o.area === area);
        const equivalent = mine.filter((o) => isEquivalent(o, eq) !== undefined);
        const counted = mine.filter((o) => isEquivalent(o, eq) === undefined);
        const killed = counted.filter((o) => o.status !== "Survived").length;
        const survivors = counted.filter((o) => o.status === "Survived");
        const score = counted.length === 0 ? 100 : (100 * killed) / counted.length;
        // A sampled area fails when the whole interval is under 90 %: a sample's own score moves
        // with the draw (a true 92 % gives under 90 in about one draw of six).
        const isSampled = targets.filter((t) => areaOf(t) === area).every((t) => sampled.includes(t));
        const estimate = isSampled ? wilson(killed, counted.length) : undefined;
        failed ||= estimate ? estimate.high < 90 : score < 90;
        console.log(
            `  ${area.padEnd(20)} ${score.toFixed(1).padStart(5)} %  killed ${killed} of ${counted.length} (${equivalent.length} equivalent)` +
                (estimate ? `, a sample: the area's score is ${estimate.low.toFixed(1)}–${estimate.high.toFixed(1)} % (95 %)` : ""),
        );
        for (const s of survivors) console.log(`      survived ${s.id}: ${s.description}`);
        summary[area] = {
            score: Number(score.toFixed(1)),
            killed,
            counted: counted.length,
            equivalent: equivalent.length,
            ...(estimate ? { sample: sample, interval95: [Number(estimate.low.toFixed(1)), Number(estimate.high.toFixed(1))] } : {}),
            survivors: survivors.map((s) => `${s.id}: ${s.description}`),
        };
    }
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    console.log(`  (${minutes} min)`);
    fs.mkdirSync(path.join(REPO, "reports/mutation"), { recursive: true });
    fs.writeFileSync(
        path.join(REPO, "reports/mutation/summary.json"),
        `${JSON.stringify({ targets, minutes: Number(minutes), areas: summary }, null, 2)}\n`,
    );
    if (failed) process.exitCode = 1;
}

main().catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 2;
});
