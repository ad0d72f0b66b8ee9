// The real Pulumi engine, built from the pinned wrapper modules by engine/build.sh (the CLI, the
// Node.js language host and the provider plugins), run hermetically: its own PULUMI_HOME with the
// plugins installed by engine/install-plugins.sh, a file:// backend, a test passphrase, no update
// checks, no plugin downloads and no plugins from PATH. Without Go (or, for the plugins, without
// their release sources) the engine tests skip, saying why; under CI=true they fail.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "./schemas";
import { requireTool } from "./tools";

/** A Pulumi CLI in a throw-away home and backend. */
export class Engine {
    readonly home: string;
    readonly env: NodeJS.ProcessEnv;
    private readings = 0;

    constructor(readonly bin: string) {
        this.home = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-engine-"));
        fs.mkdirSync(path.join(this.home, "backend"));
        this.env = {
            PATH: `${bin}:${process.env.PATH}`,
            HOME: this.home,
            PULUMI_HOME: path.join(this.home, "pulumi-home"),
            PULUMI_BACKEND_URL: `file://${path.join(this.home, "backend")}`,
            PULUMI_CONFIG_PASSPHRASE: "project-vms engine test",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        };
    }

    /** Installs the provider plugins into this PULUMI_HOME (engine/install-plugins.sh). */
    installPlugins(): void {
        // The build cache and Go's caches are the user's (HOME as it is); the plugins go to this PULUMI_HOME.
        const env = { ...process.env, PULUMI_HOME: this.env.PULUMI_HOME, PULUMI_SKIP_UPDATE_CHECK: "true" };
        const r = spawnSync("bash", [path.join(REPO, "engine", "install-plugins.sh")], { env, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`engine/install-plugins.sh failed (exit ${r.status}): ${r.stderr.trim()}`);
    }

    /**
     * Runs `pulumi <args> --non-interactive` in `cwd` without blocking this process (the fake
     * Tailscale API answers meanwhile); its output goes to `log` as it comes. Resolves to its exit
     * code and output; `interruptOn` sends SIGINT (twice: the second ends the CLI) once the output matches it.
     */
    runAsync(
        cwd: string,
        args: string[],
        opts: { env?: NodeJS.ProcessEnv; log?: (chunk: string) => void; interruptOn?: RegExp } = {},
    ): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            const child = spawn(path.join(this.bin, "pulumi"), [...args, "--non-interactive"], { cwd, env: { ...this.env, ...opts.env } });
            let stdout = "";
            let stderr = "";
            let interrupted = false;
            const seen = (chunk: string) => {
                opts.log?.(chunk);
                if (opts.interruptOn && !interrupted && opts.interruptOn.test(stdout + stderr)) {
                    interrupted = true;
                    child.kill("SIGINT");
                    setTimeout(() => child.kill("SIGINT"), 2000);
                }
            };
            child.stdout.on("data", (d) => {
                stdout += d;
                seen(String(d));
            });
            child.stderr.on("data", (d) => {
                stderr += d;
                seen(String(d));
            });
            child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
        });
    }

    /** Runs `pulumi <args> --non-interactive` in `cwd`; throws with its stderr when it fails. */
    pulumi(cwd: string, ...args: string[]): string {
        const r = spawnSync(path.join(this.bin, "pulumi"), [...args, "--non-interactive"], { cwd, env: this.env, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.trim()}`);
        return r.stdout;
    }

    /**
     * What the program would get from `pulumi.runtime.allConfig()` for the stack file
     * `Pulumi.<host>.yaml` in `dir`: Pulumi's own reading (project defaults included), on a copy.
     */
    programConfig(dir: string, host: string): Record<string, string> {
        // A new stack each time, so that nothing of an earlier reading stays.
        const stack = `${host}-${++this.readings}`;
        const copy = fs.mkdtempSync(path.join(this.home, "project-"));
        fs.copyFileSync(path.join(dir, "Pulumi.yaml"), path.join(copy, "Pulumi.yaml"));
        fs.copyFileSync(path.join(dir, `Pulumi.${host}.yaml`), path.join(copy, `Pulumi.${stack}.yaml`));
        this.pulumi(copy, "stack", "init", stack);
        const json = JSON.parse(this.pulumi(copy, "config", "--json", "--show-secrets", "--stack", stack)) as Record<
            string,
            { value: string }
        >;
        return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, v.value]));
    }

    /** Pulumi's reading of the stack `host` of the project in `dir`, whose stack exists already. */
    programConfigInPlace(dir: string, host: string): Record<string, string> {
        const json = JSON.parse(this.pulumi(dir, "config", "--json", "--show-secrets", "--stack", host)) as Record<
            string,
            { value: string }
        >;
        return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, v.value]));
    }

    cleanup(): void {
        fs.rmSync(this.home, { recursive: true, force: true });
    }
}

/** Where engine/build.sh finds the release sources of the plugins and the language host. */
export const ENGINE_SOURCES = process.env.PROJECT_VMS_ENGINE_SOURCES ?? path.join(REPO, "..", "shared", "engine-sources");

/**
 * Builds (or finds in the cache) the pinned engine: the CLI alone, or (`full`) with the language
 * host and the plugins. Undefined, after skip, when Go or (full) the sources are missing.
 */
export function buildEngine(skip: (reason: string) => void, full = false): string | undefined {
    if (!requireTool("go", "golang (Go 1.26 or later)", skip)) return undefined;
    if (full && !fs.existsSync(ENGINE_SOURCES)) {
        const reason = `the plugins' release sources are not at ${ENGINE_SOURCES} (set PROJECT_VMS_ENGINE_SOURCES)`;
        if (process.env.CI === "true") throw new Error(reason);
        skip(reason);
        return undefined;
    }
    const started = Date.now();
    const r = spawnSync("bash", [path.join(REPO, "engine", "build.sh"), ...(full ? [] : ["--cli-only"])], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    if (r.status !== 0) throw new Error(`engine/build.sh failed (exit ${r.status})`);
    console.log(`timing: engine build (or cache check) ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return r.stdout.trim();
}
