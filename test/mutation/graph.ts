// Which unit test files can reach a source file: the relative imports (`from`, `import()`,
// `require()`) of test/, components/, cli/ and index.ts, followed transitively. Stryker's dry run
// then only runs those files (each is one "test" to the tap runner, and its coverage picks the
// files each mutant runs).
import * as fs from "node:fs";
import * as path from "node:path";

const IMPORT = /(?:from\s+|import\(\s*|require\(\s*)"(\.{1,2}\/[^"]+)"/g;

function resolve(from: string, spec: string): string | undefined {
    const base = path.resolve(path.dirname(from), spec);
    for (const candidate of [base, `${base}.ts`, path.join(base, "index.ts")]) {
        if (candidate.endsWith(".ts") && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
    }
    return undefined;
}

function imports(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(IMPORT)].map((m) => resolve(file, m[1])).filter((f): f is string => f !== undefined);
}

/** The test/*.test.ts files (relative to `repo`) that import any of `sources` (relative), directly or not. */
export function testsReaching(repo: string, sources: string[]): string[] {
    const targets = new Set(sources.map((s) => path.resolve(repo, s)));
    const tests = fs
        .readdirSync(path.join(repo, "test"))
        .filter((f) => f.endsWith(".test.ts"))
        .map((f) => path.join(repo, "test", f));
    return tests
        .filter((t) => {
            const seen = new Set<string>([t]);
            const queue = [t];
            while (queue.length > 0) {
                const file = queue.shift() as string;
                if (targets.has(file)) return true;
                for (const dep of imports(file))
                    if (!seen.has(dep)) {
                        seen.add(dep);
                        queue.push(dep);
                    }
            }
            return false;
        })
        .map((t) => path.relative(repo, t))
        .sort();
}
