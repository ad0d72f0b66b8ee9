// A stack of the real program for the engine suite: a throw-away project folder (the program's
// files linked, Pulumi.yaml copied, the stack file written here; the checkout's own stack files are
// never touched), driven by the real engine against the real libvirtd.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { Engine } from "./engine";
import { REPO } from "./schemas";

/** What the program's folder holds that a run needs. */
const PROGRAM_FILES = ["index.ts", "components", "cloud-init", "host-scripts", "sdks", "node_modules", "package.json", "tsconfig.json"];

/** One Pulumi command's outcome. */
export interface PulumiRun {
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

export class EngineStack {
    readonly dir: string;
    readonly logFile: string;

    /**
     * @param engine the hermetic engine
     * @param name the stack's name
     * @param env extra environment of every Pulumi run (e.g. the provider's domain type)
     */
    constructor(
        readonly engine: Engine,
        readonly name: string,
        readonly extraEnv: NodeJS.ProcessEnv = {},
    ) {
        this.dir = fs.mkdtempSync(path.join(engine.home, "project-"));
        for (const f of PROGRAM_FILES) fs.symlinkSync(path.join(REPO, f), path.join(this.dir, f));
        fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(this.dir, "Pulumi.yaml"));
        this.logFile = path.join(engine.home, `${name}.log`);
    }

    get stackFile(): string {
        return path.join(this.dir, `Pulumi.${this.name}.yaml`);
    }

    /** `pulumi stack init`, then the stack file's config set to `config` (keys with their namespace). */
    init(config: Record<string, unknown>): void {
        this.engine.pulumi(this.dir, "stack", "init", this.name);
        this.setConfig(config);
    }

    /** Rewrites the stack file's config, keeping what Pulumi keeps there (the encryption salt, secrets set). */
    setConfig(config: Record<string, unknown>): void {
        const current = fs.existsSync(this.stackFile) ? (parse(fs.readFileSync(this.stackFile, "utf8")) ?? {}) : {};
        const secrets = Object.fromEntries(
            Object.entries<any>(current.config ?? {}).filter(([, v]) => v && typeof v === "object" && "secure" in v),
        );
        fs.writeFileSync(this.stackFile, stringify({ ...current, config: { ...secrets, ...config } }));
    }

    /** `pulumi config set --secret`. */
    setSecret(key: string, value: string): void {
        this.engine.pulumi(this.dir, "config", "set", "--secret", "--stack", this.name, key, value);
    }

    /** Runs `pulumi <args> --stack <name>`; its output is appended to the log file. */
    async run(args: string[], opts: { interruptOn?: RegExp; env?: NodeJS.ProcessEnv } = {}): Promise<PulumiRun> {
        const started = Date.now();
        fs.appendFileSync(this.logFile, `\n$ pulumi ${args.join(" ")}\n`);
        const r = await this.engine.runAsync(this.dir, [...args, "--stack", this.name], {
            env: { ...this.extraEnv, ...opts.env },
            log: (chunk) => fs.appendFileSync(this.logFile, chunk),
            interruptOn: opts.interruptOn,
        });
        return { ...r, seconds: (Date.now() - started) / 1000 };
    }

    /** Like run, but throws with the output's tail unless it succeeds. */
    async ok(args: string[]): Promise<PulumiRun> {
        const r = await this.run(args);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
        return r;
    }

    /** `pulumi up --yes`, throwing unless it succeeds. */
    up(...extra: string[]): Promise<PulumiRun> {
        return this.ok(["up", "--yes", "--skip-preview", ...extra]);
    }

    /** The stack's outputs (secrets shown). */
    outputs(): Record<string, any> {
        return JSON.parse(this.engine.pulumi(this.dir, "stack", "output", "--json", "--show-secrets", "--stack", this.name));
    }

    /** The state file as the backend keeps it (secrets encrypted). */
    rawState(): string {
        const root = path.join(this.engine.home, "backend", ".pulumi", "stacks");
        const files = (function walk(d: string): string[] {
            return fs
                .readdirSync(d, { withFileTypes: true })
                .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
        })(root).filter((f) => path.basename(f) === `${this.name}.json`);
        if (files.length !== 1) throw new Error(`expected one state file of ${this.name}, found ${files.length}`);
        return fs.readFileSync(files[0], "utf8");
    }

    /**
     * The resources in the state (`pulumi stack export`). `plain`: secrets decrypted — every save
     * of the state (a failed `up` too) encrypts them anew, so only their values can be compared.
     */
    resources(plain = false): { urn: string; type: string; id?: string; inputs?: any; outputs?: any; retainOnDelete?: boolean }[] {
        const args = ["stack", "export", "--stack", this.name, ...(plain ? ["--show-secrets"] : [])];
        return JSON.parse(this.engine.pulumi(this.dir, ...args)).deployment.resources ?? [];
    }
}

/** The resource changes a `pulumi preview --json` plans, by URN: "create", "update", "replace", "delete", "same", …. */
export function plannedSteps(previewJson: string): Map<string, string> {
    const steps = (JSON.parse(previewJson).steps ?? []) as { op: string; urn: string }[];
    return new Map(steps.map((s) => [s.urn, s.op]));
}
