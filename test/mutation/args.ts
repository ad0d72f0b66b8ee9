// The arguments of `npm run test:mutation` (test/mutation/run.ts). A whole TypeScript area is
// sampled unless --all says otherwise: its thousands of mutants are hours on two cores, a sample
// of 100 about half an hour. The sample's seed defaults to the day (UTC, YYYYMMDD): a rerun the
// same day repeats it (and Stryker's incremental file skips what it tried), and another day draws
// afresh, so a sample whose survivors were since killed by new tests does not go on standing for
// the area.
import * as fs from "node:fs";
import * as path from "node:path";

/** The areas Stryker mutates. */
export const TS_AREAS = ["components", "cli"];

/** The sample of a TypeScript area: how many mutants, drawn by which seed. */
export interface Sample {
    size: number;
    seed: number;
}

/** What a run does. */
export interface MutationArgs {
    /** Parallel runs. */
    concurrency: number;
    /** Areas, or files of one, relative to the repository. */
    targets: string[];
    /** The test files Stryker runs, when named (--tests). */
    tests?: string[];
    /** The sample of the TypeScript targets it names; undefined: every mutant. */
    sample?: Sample;
    /** The TypeScript targets sampled: whole areas by default, single files too with --sample. */
    sampled: string[];
}

/** Whether `file` is the area (or folder) `area` or lies in it. */
export function isIn(file: string, area: string): boolean {
    return file === area || file.startsWith(`${area}/`);
}

/** The sample size of a whole TypeScript area when --sample does not say. */
export const DEFAULT_SAMPLE = 100;

/** The default seed of `today`: its UTC date as YYYYMMDD. */
export function seedOf(today: Date): number {
    return Number(today.toISOString().slice(0, 10).replace(/-/g, ""));
}

/** Parses `list` (the arguments after `--`); `areas` are the known areas, files under `repo`. */
export function mutationArgs(list: string[], repo: string, areas: readonly string[], today = new Date()): MutationArgs {
    let concurrency = 2;
    let tests: string[] | undefined;
    let sample: string | undefined;
    let seed: string | undefined;
    let all = false;
    const targets: string[] = [];
    const value = (i: number, flag: string) => {
        if (i >= list.length) throw new Error(`${flag} takes a value`);
        return list[i];
    };
    for (let i = 0; i < list.length; i++) {
        const [flag, inline] = list[i].startsWith("--") && list[i].includes("=") ? list[i].split(/=(.*)/s) : [list[i], undefined];
        const take = () => inline ?? value(++i, flag);
        if (flag === "--sample") sample = take();
        else if (flag === "--seed") seed = take();
        else if (flag === "--concurrency") concurrency = Number(take());
        else if (flag === "--tests") tests = take().split(",");
        else if (flag === "--all" && inline === undefined) all = true;
        else if (flag.startsWith("-"))
            throw new Error(`${list[i]}: not an option (--sample N, --seed S, --all, --concurrency N, --tests a,b)`);
        else targets.push(list[i].replace(/\/$/, ""));
    }
    if (!(concurrency >= 1)) throw new Error("--concurrency takes a number of at least 1");
    if (sample !== undefined && !/^[1-9][0-9]*$/.test(sample))
        throw new Error(`--sample takes a whole number of at least 1, not ${JSON.stringify(sample)}`);
    if (seed !== undefined && !/^[0-9]+$/.test(seed)) throw new Error(`--seed takes a whole number, not ${JSON.stringify(seed)}`);
    if (all && sample !== undefined) throw new Error("--all tries every mutant: it takes no --sample");
    if (all && seed !== undefined) throw new Error("--all tries every mutant: it takes no --seed");
    const chosen = targets.length === 0 ? [...areas] : targets;
    for (const t of chosen) {
        const known = areas.some((a) => isIn(t, a));
        if (!known || !fs.existsSync(path.join(repo, t))) throw new Error(`${t}: not an area (${areas.join(", ")}) nor a file in one`);
    }
    for (const t of tests ?? []) {
        const file = path.join(repo, t);
        if (t === "" || !fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Error(`--tests: no file ${JSON.stringify(t)}`);
    }
    const ts = chosen.filter((t) => TS_AREAS.some((a) => isIn(t, a)));
    const sampled = all ? [] : sample !== undefined ? ts : ts.filter((t) => TS_AREAS.includes(t));
    if (sampled.length === 0 && (sample !== undefined || seed !== undefined))
        throw new Error(`--${sample !== undefined ? "sample" : "seed"} draws from the TypeScript areas, and none is named`);
    const size = sample !== undefined ? Number(sample) : DEFAULT_SAMPLE;
    return {
        concurrency,
        targets: chosen,
        ...(tests ? { tests } : {}),
        ...(sampled.length > 0 ? { sample: { size, seed: seed !== undefined ? Number(seed) : seedOf(today) } } : {}),
        sampled,
    };
}
