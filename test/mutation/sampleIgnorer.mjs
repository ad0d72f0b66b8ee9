// A Stryker ignorer for `npm run test:mutation -- --sample N` (test/mutation/run.ts): Stryker is
// given each sampled mutant's node as a mutate range, which also holds every mutant nested in that
// node. This ignorer leaves out every node that holds no sampled mutant, so Stryker tries only the
// sample (and the other mutants of a sampled node itself). PVMS_MUTATION_SAMPLE names a JSON list
// of the sampled sites: `file` absolute, `start`/`end` with 1-based lines and 0-based columns, as
// Babel's `loc`.
import * as fs from "node:fs";
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

/** Whether `outer` (a Babel loc) holds `inner`, both ends included. */
export function holds(outer, inner) {
    const startsBefore =
        outer.start.line < inner.start.line || (outer.start.line === inner.start.line && outer.start.column <= inner.start.column);
    const endsAfter = outer.end.line > inner.end.line || (outer.end.line === inner.end.line && outer.end.column >= inner.end.column);
    return startsBefore && endsAfter;
}

/** The ignorer for the sites of `sampleFile`: a reason for a node that holds none of them. */
export function sampleIgnorer(sampleFile) {
    const byFile = new Map();
    for (const site of JSON.parse(fs.readFileSync(sampleFile, "utf8"))) {
        byFile.set(site.file, [...(byFile.get(site.file) ?? []), site]);
    }
    return {
        shouldIgnore(path) {
            const loc = path.node?.loc;
            const file = path.hub?.file?.opts?.filename;
            if (!loc || typeof file !== "string") return undefined;
            const sites = byFile.get(file) ?? [];
            return sites.some((site) => holds(loc, site)) ? undefined : "not in the sample";
        },
    };
}

export const strykerPlugins = process.env.PVMS_MUTATION_SAMPLE
    ? [declareValuePlugin(PluginKind.Ignore, "pvms-sample", sampleIgnorer(process.env.PVMS_MUTATION_SAMPLE))]
    : [];
