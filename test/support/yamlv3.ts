// Pulumi's own YAML reader in the tests: test/yamlv3 (Go, gopkg.in/yaml.v3 v3.0.1) built once
// into a cache folder with `go build`. Without Go the tests that need it are skipped, saying so —
// except under CI=true, where a missing or failing Go is an error.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "./schemas";

const SOURCE = path.join(REPO, "test", "yamlv3");

/** What yaml.v3 decodes a file into, as JSON (time.Time as {"$timestamp"}, ±Inf/NaN as {"$float"}). */
export type YamlV3 = (file: string) => unknown;

let built: { read?: YamlV3; skip?: string } | undefined;

/** The yaml.v3 reader, or why it is not there (a reason to skip with). Throws under CI=true instead of skipping. */
export function yamlV3(): { read?: YamlV3; skip?: string } {
    if (built) return built;
    const hash = createHash("sha256");
    for (const f of ["go.mod", "go.sum", "main.go"]) hash.update(fs.readFileSync(path.join(SOURCE, f)));
    const bin = path.join(os.tmpdir(), `project-vms-yamlv3-${hash.digest("hex").slice(0, 16)}`);
    if (!fs.existsSync(bin)) {
        const tmp = `${bin}.${process.pid}`;
        const r = spawnSync("go", ["build", "-o", tmp, "."], {
            cwd: SOURCE,
            encoding: "utf8",
            env: { ...process.env, GOFLAGS: "-mod=readonly" },
        });
        const why = r.error
            ? `go is not on PATH (${(r.error as NodeJS.ErrnoException).code})`
            : r.status !== 0
              ? `go build of test/yamlv3 failed: ${r.stderr.trim()}`
              : undefined;
        if (why) {
            if (process.env.CI === "true") throw new Error(`${why}: the yaml.v3 checks must run in CI`);
            return (built = { skip: `${why}; the checks against Pulumi's YAML reader (yaml.v3) need Go` });
        }
        fs.renameSync(tmp, bin);
    }
    const read: YamlV3 = (file) => {
        const r = spawnSync(bin, [file], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`yaml.v3 cannot read ${file}: ${r.stderr.trim()}`);
        return JSON.parse(r.stdout);
    };
    return (built = { read });
}
