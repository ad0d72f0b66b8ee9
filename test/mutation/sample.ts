// A seeded, uniform sample of an area's mutants, for an area score in the time a whole run cannot
// take here (`npm run test:mutation -- --sample N`). Stryker's own instrumenter lists every mutant
// of the files (the same mutators and the same places as `stryker run`); a seeded shuffle picks N;
// each is handed back to Stryker as a mutate range of its own node, so Stryker tries it (and any
// mutant nested inside that node, which the score leaves out: only the sampled ones count). The
// score is then an estimate, given with its 95 % Wilson interval.
import * as fs from "node:fs";
import * as path from "node:path";

/** One mutant as Stryker's instrumenter places it: 0-based lines and columns, like its API. */
export interface MutantSite {
    /** The file, relative to the repository. */
    file: string;
    /** Stryker's mutator name (`EqualityOperator`, `BlockStatement`, ...). */
    mutatorName: string;
    /** The code that replaces the node. */
    replacement: string;
    /** Where the mutated node starts: 0-based line, 0-based column. */
    start: { line: number; column: number };
    /** Where it ends (exclusive column). */
    end: { line: number; column: number };
}

/** Stryker's instrumenter, with a logger that says nothing. */
export async function instrumenter() {
    const { Instrumenter } = await import("@stryker-mutator/instrumenter");
    const quiet = { isDebugEnabled: () => false, debug: () => undefined, info: () => undefined };
    return new Instrumenter(quiet as never);
}

/** Every mutant Stryker would make in `files` (relative to `repo`), with its default mutators. */
export async function listMutants(repo: string, files: string[]): Promise<MutantSite[]> {
    const result = await (
        await instrumenter()
    ).instrument(
        files.map((f) => ({ name: path.join(repo, f), content: fs.readFileSync(path.join(repo, f), "utf8"), mutate: true })),
        { plugins: null, excludedMutations: [], ignorers: [] },
    );
    return result.mutants
        .filter((m) => m.status === undefined)
        .map((m) => ({
            file: path.relative(repo, m.fileName),
            mutatorName: m.mutatorName,
            replacement: m.replacement,
            start: { line: m.location.start.line, column: m.location.start.column },
            end: { line: m.location.end.line, column: m.location.end.column },
        }));
}

/** A small seeded generator (mulberry32): the same seed gives the same sample on every machine. */
function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** `n` of `items` picked uniformly without repeats (all of them when there are no more), by `seed`. */
export function pick<T>(items: readonly T[], n: number, seed: number): T[] {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--sample takes a whole number of at least 1, not ${n}`);
    const copy = [...items];
    const next = random(seed);
    const count = Math.min(n, copy.length);
    for (let i = 0; i < count; i++) {
        const j = i + Math.floor(next() * (copy.length - i));
        [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, count);
}

/** Stryker's `mutate` entry for exactly the site's node: `file:line:column-line:column`, lines 1-based. */
export function mutateRange(site: MutantSite): string {
    return `${site.file}:${site.start.line + 1}:${site.start.column}-${site.end.line + 1}:${site.end.column}`;
}

/** The site as sampleIgnorer.mjs reads it: the absolute file, Babel's 1-based lines and 0-based columns. */
export function babelSite(repo: string, site: MutantSite) {
    return {
        file: path.join(repo, site.file),
        start: { line: site.start.line + 1, column: site.start.column },
        end: { line: site.end.line + 1, column: site.end.column },
    };
}

/** The key that finds a site in Stryker's JSON report, whose lines and columns are 1-based. */
export function reportKey(file: string, line1: number, column1: number, mutatorName: string, replacement: string): string {
    return `${file}:${line1}:${column1}:${mutatorName}:${replacement}`;
}

/** The same key for a listed site. */
export function siteKey(site: MutantSite): string {
    return reportKey(site.file, site.start.line + 1, site.start.column + 1, site.mutatorName, site.replacement);
}

/**
 * The 95 % Wilson score interval of `killed` out of `n`, in percent: where the area's true score
 * lies, 19 times out of 20, when the `n` were drawn uniformly from it.
 */
export function wilson(killed: number, n: number): { low: number; high: number } {
    if (n === 0) return { low: 0, high: 100 };
    const z = 1.959964;
    const p = killed / n;
    const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
    const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
    return { low: 100 * Math.max(0, centre - half), high: 100 * Math.min(1, centre + half) };
}
