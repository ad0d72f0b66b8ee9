// The shell mutants of test/mutation/shell-mutants.json, each tried in a copy of the repository
// (node_modules linked): the script's text with `find` (which must occur exactly once, so that a
// stale entry fails loudly) replaced by `replace`, then the entry's test files run. A mutant is
// killed when they fail or time out, survived when they pass.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** `only`: a --test-name-pattern narrowing the test files to the tests about the script (a speed-up: the score can only be lower for it). */
export interface ShellMutant {
    id: string;
    file: string;
    find: string;
    replace: string;
    tests: string[];
    only?: string;
}
export interface Outcome {
    id: string;
    file: string;
    area: string;
    status: "Killed" | "Timeout" | "Survived";
    description: string;
}

export const SHELL_AREAS = ["host-scripts", "cloud-init/scripts"];

export function loadShellMutants(repo: string): ShellMutant[] {
    const list = JSON.parse(fs.readFileSync(path.join(repo, "test/mutation/shell-mutants.json"), "utf8")) as ShellMutant[];
    const ids = new Set<string>();
    for (const m of list) {
        if (ids.has(m.id)) throw new Error(`shell mutant ${m.id} is listed twice`);
        ids.add(m.id);
        const text = fs.readFileSync(path.join(repo, m.file), "utf8");
        const count = text.split(m.find).length - 1;
        if (count !== 1)
            throw new Error(
                `shell mutant ${m.id}: ${JSON.stringify(m.find)} occurs ${count} times in ${m.file} (exactly once expected): update the entry`,
            );
        for (const t of m.tests) if (!fs.existsSync(path.join(repo, t))) throw new Error(`shell mutant ${m.id}: no test file ${t}`);
    }
    return list;
}

let REPO_OF_SANDBOXES = ".";

function sandbox(repo: string): string {
    REPO_OF_SANDBOXES = repo;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-shell-mutants-"));
    const skip = new Set([".git", "node_modules", "reports", ".stryker-tmp", ".project-vm", ".e2e-cache"]);
    for (const entry of fs.readdirSync(repo)) {
        if (skip.has(entry)) continue;
        fs.cpSync(path.join(repo, entry), path.join(dir, entry), { recursive: true, verbatimSymlinks: true });
    }
    fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

function runFile(
    dir: string,
    test: string,
    only: string | undefined,
    timeoutMs: number,
): Promise<{ ok: boolean; timedOut: boolean; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(
            "node",
            ["--import", "tsx", "--test", "--test-reporter=dot", ...(only ? [`--test-name-pattern=${only}`] : []), test],
            {
                cwd: dir,
                detached: true,
                // The sandbox is not beside ../shared/schemas: tests needing them would skip.
                env: {
                    ...process.env,
                    CI: process.env.CI ?? "",
                    PROJECT_VMS_SCHEMAS: process.env.PROJECT_VMS_SCHEMAS ?? path.resolve(REPO_OF_SANDBOXES, "..", "shared", "schemas"),
                },
            },
        );
        let output = "";
        child.stdout.on("data", (d) => {
            output += d;
        });
        child.stderr.on("data", (d) => {
            output += d;
        });
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            try {
                process.kill(-(child.pid as number), "SIGKILL");
            } catch {
                /* gone */
            }
        }, timeoutMs);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ ok: code === 0 && !timedOut, timedOut, output });
        });
    });
}

/** The test files one after the other, stopping at the first that fails (the mutant is killed then). */
async function runTests(
    dir: string,
    tests: string[],
    only: string | undefined,
    timeoutMs: number,
): Promise<{ ok: boolean; timedOut: boolean; ms: number; output: string }> {
    const started = Date.now();
    for (const test of tests) {
        const r = await runFile(dir, test, only, Math.max(1000, timeoutMs - (Date.now() - started)));
        if (!r.ok) return { ...r, ms: Date.now() - started };
    }
    return { ok: true, timedOut: false, ms: Date.now() - started, output: "" };
}

/** What a mutant's outcome depends on: the entry, the scripts, the test files and their support. */
function fingerprint(repo: string, m: ShellMutant): string {
    const h = createHash("sha256").update(JSON.stringify(m));
    const files = [
        m.file,
        path.join(path.dirname(m.file), "lib.sh"),
        ...m.tests,
        "components/hostCommands.ts",
        ...fs.readdirSync(path.join(repo, "test/support")).map((f) => path.join("test/support", f)),
    ];
    for (const f of files.sort()) {
        const full = path.join(repo, f);
        if (fs.existsSync(full) && fs.statSync(full).isFile()) h.update(f).update(fs.readFileSync(full));
    }
    return h.digest("hex");
}

/** Runs `mutants` with `concurrency` sandboxes; the test sets are first run unmutated (they must pass). */
export async function runShellMutants(
    repo: string,
    all: ShellMutant[],
    concurrency: number,
    log: (line: string) => void,
): Promise<Outcome[]> {
    // The incremental file: a mutant whose fingerprint is unchanged keeps its last outcome.
    const cacheFile = path.join(repo, "reports/shell-incremental.json");
    const cache: Record<string, Outcome & { fingerprint: string }> = fs.existsSync(cacheFile)
        ? JSON.parse(fs.readFileSync(cacheFile, "utf8"))
        : {};
    const kept: Outcome[] = [];
    // Taken before anything runs: what the sandboxes copy is what the outcome is recorded for.
    const prints = new Map(all.map((m) => [m.id, fingerprint(repo, m)]));
    const mutants = all.filter((m) => {
        const c = cache[m.id];
        if (c && c.fingerprint === prints.get(m.id)) {
            kept.push(c);
            return false;
        }
        return true;
    });
    if (kept.length > 0) log(`${kept.length} mutants unchanged since the last run (reports/shell-incremental.json): their outcome kept`);
    const save = (o: Outcome, m: ShellMutant) => {
        cache[m.id] = { ...o, fingerprint: prints.get(m.id) as string };
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        fs.writeFileSync(cacheFile, JSON.stringify(cache, null, 1));
    };
    if (mutants.length === 0) return kept.map(({ id, file, area, status, description }) => ({ id, file, area, status, description }));
    const boxes = Array.from({ length: Math.max(1, Math.min(concurrency, mutants.length)) }, () => sandbox(repo));
    try {
        const baseline = new Map<string, number>();
        const keyOf = (m: ShellMutant) => `${m.tests.join(" ")}${m.only ? ` --test-name-pattern=${m.only}` : ""}`;
        // The unmutated scripts must pass each set of tests (run in the sandboxes side by side).
        const sets = [...new Map(mutants.map((x) => [keyOf(x), x])).values()];
        await Promise.all(
            boxes.map(async (box) => {
                for (let m = sets.shift(); m; m = sets.shift()) {
                    const r = await runTests(box, m.tests, m.only, 15 * 60_000);
                    if (!r.ok) throw new Error(`the unmutated scripts fail ${keyOf(m)}:\n${r.output.slice(-3000)}`);
                    baseline.set(keyOf(m), r.ms);
                    log(`baseline ${keyOf(m)}: ${(r.ms / 1000).toFixed(1)} s`);
                }
            }),
        );
        const outcomes: Outcome[] = [];
        let next = 0;
        await Promise.all(
            boxes.map(async (box) => {
                while (next < mutants.length) {
                    const m = mutants[next++];
                    const file = path.join(box, m.file);
                    const original = fs.readFileSync(file, "utf8");
                    fs.writeFileSync(
                        file,
                        original.replace(m.find, () => m.replace),
                    );
                    const r = await runTests(box, m.tests, m.only, 3 * (baseline.get(keyOf(m)) ?? 60_000) + 30_000);
                    fs.writeFileSync(file, original);
                    const status = r.timedOut ? "Timeout" : r.ok ? "Survived" : "Killed";
                    const area = SHELL_AREAS.find((a) => m.file.startsWith(`${a}/`)) as string;
                    const outcome: Outcome = {
                        id: m.id,
                        file: m.file,
                        area,
                        status,
                        description: `${JSON.stringify(m.find)} → ${JSON.stringify(m.replace)}`,
                    };
                    outcomes.push(outcome);
                    save(outcome, m);
                    log(`${status.padEnd(8)} ${m.id} (${(r.ms / 1000).toFixed(1)} s)`);
                }
            }),
        );
        return [...outcomes, ...kept.map(({ id, file, area, status, description }) => ({ id, file, area, status, description }))].sort(
            (a, b) => a.id.localeCompare(b.id),
        );
    } finally {
        for (const box of boxes) spawnSync("rm", ["-rf", box]);
    }
}
