// The host stacks as files: where the Pulumi project is, which hosts it has, and one stack file
// read and edited with the yaml Document API — comments, key order and formatting kept — checked
// with the program's own validation before anything is written, and written atomically.
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, isMap, isScalar, isSeq, parse, parseDocument, YAMLMap, YAMLSeq } from "yaml";
import { ConfigError, NAMESPACE, parseConfig, ProjectEntry, rawConfig, Settings, tailscaleProviderConfig } from "../components/config";
import { flatConfigValue, yamlErrorText } from "./stackText";

export { flatConfigValue };
import { quoteAmbiguous, readingProblems } from "./yaml11";

/** A mistake of the user's: printed without a stack trace, exit code 2, nothing changed. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** The key of the projects list in a stack file. */
export const PROJECTS_KEY = `${NAMESPACE}:projects`;

/** Whether `dir` holds this Pulumi project (a Pulumi.yaml named project-vms). */
export function isProjectDir(dir: string): boolean {
    try {
        return parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))?.name === NAMESPACE;
    } catch {
        return false;
    }
}

/**
 * The Pulumi project folder the CLI works on: `--dir`, else $PROJECT_VMS_DIR, else the nearest
 * folder at or above the working directory holding it, else the one the CLI was installed from.
 */
export function findProjectDir(opts: { dir?: string; env: NodeJS.ProcessEnv; cwd: string; installedAt: string }): string {
    const given = opts.dir ?? opts.env.PROJECT_VMS_DIR;
    if (given) {
        const dir = path.resolve(opts.cwd, given);
        if (!isProjectDir(dir)) {
            throw new UsageError(
                `${dir} is not the project-vms Pulumi project (no Pulumi.yaml with name: ${NAMESPACE})` +
                    (opts.dir ? " (given with --dir)" : " (given in PROJECT_VMS_DIR)"),
            );
        }
        return dir;
    }
    for (let dir = path.resolve(opts.cwd); ; dir = path.dirname(dir)) {
        if (isProjectDir(dir)) return dir;
        if (path.dirname(dir) === dir) break;
    }
    if (isProjectDir(opts.installedAt)) return opts.installedAt;
    throw new UsageError(`cannot find the project-vms Pulumi project: run in its folder, or give --dir or PROJECT_VMS_DIR`);
}

/** The host stacks of the project: one `Pulumi.<host>.yaml` each, sorted. */
export function listHosts(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.([A-Za-z0-9_-]+)\.yaml$/.exec(f)?.[1])
        .filter((h): h is string => h !== undefined)
        .sort();
}

/** The host stack to work on: `--host`, else $PROJECT_VM_HOST, else the only one there is. */
export function pickHost(hosts: string[], opts: { host?: string; env: NodeJS.ProcessEnv; remembered?: string }): string {
    const given = opts.host ?? opts.env.PROJECT_VM_HOST ?? opts.remembered;
    if (given !== undefined) {
        if (!hosts.includes(given)) {
            const from =
                opts.host !== undefined
                    ? ""
                    : opts.env.PROJECT_VM_HOST !== undefined
                      ? " (from PROJECT_VM_HOST)"
                      : " (remembered by 'project-vm use')";
            throw new UsageError(
                `no host stack '${given}'${from}: ` +
                    (hosts.length ? `the hosts are ${hosts.join(", ")}` : "there is no Pulumi.<host>.yaml"),
            );
        }
        return given;
    }
    if (hosts.length === 1) return hosts[0];
    if (hosts.length === 0) throw new UsageError("there is no host stack (Pulumi.<host>.yaml) in the project");
    throw new UsageError(
        `there are ${hosts.length} hosts (${hosts.join(", ")}): pick one with --host <host>, PROJECT_VM_HOST, or once for all with 'project-vm use <host>'`,
    );
}

/** The user's settings file of project-vm: `$XDG_CONFIG_HOME/project-vm/config.json` (~/.config/…). */
export function userConfigPath(env: NodeJS.ProcessEnv): string | undefined {
    const base = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, ".config") : undefined);
    return base ? path.join(base, "project-vm", "config.json") : undefined;
}

/** The host remembered by `project-vm use`, if any. */
export function rememberedHost(env: NodeJS.ProcessEnv): string | undefined {
    const file = userConfigPath(env);
    if (!file) return undefined;
    try {
        const host = JSON.parse(fs.readFileSync(file, "utf8"))?.host;
        return typeof host === "string" && /^[A-Za-z0-9_-]+$/.test(host) ? host : undefined;
    } catch {
        return undefined;
    }
}

/** Remembers `host` as the default (undefined forgets it). */
export function rememberHost(env: NodeJS.ProcessEnv, host: string | undefined): string {
    const file = userConfigPath(env);
    if (!file) throw new UsageError("cannot remember a host: neither XDG_CONFIG_HOME nor HOME is set");
    let config: Record<string, unknown> = {};
    try {
        config = JSON.parse(fs.readFileSync(file, "utf8")) ?? {};
    } catch {
        // a new file
    }
    config.host = host; // undefined forgets it: JSON.stringify leaves such a key out
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
    return file;
}

/** The declared defaults of Pulumi.yaml as the CLI hands them to a program: `project-vms:<key>` → string. */
export function projectDefaults(dir: string): Record<string, string> {
    const project = parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
    const out: Record<string, string> = {};
    // Pulumi.yaml is the project's (named project-vms): a map, its config: optional.
    for (const [k, decl] of Object.entries<unknown>(project.config ?? {})) {
        if (decl && typeof decl === "object" && "default" in decl) out[`${project.name}:${k}`] = flatConfigValue(decl.default);
    }
    return out;
}

/** The stack file of a host. */
export function stackFilePath(dir: string, host: string): string {
    return path.join(dir, `Pulumi.${host}.yaml`);
}

/** The fields of a project entry the CLI writes, as the stack file holds them (see PROJECT_OPTIONS). */
export type EntryFields = Omit<ProjectEntry, "name">;

/** One host's stack file, parsed as a YAML document so that edits keep everything else. */
export class StackFile {
    readonly path: string;
    private doc: Document;
    private original: string;
    /** The file's line ending (the one most of its lines have), kept for every line written. */
    private eol: "\n" | "\r\n";
    /** Whether the file starts with a byte order mark (kept). */
    private bom: boolean;

    constructor(
        readonly dir: string,
        readonly host: string,
    ) {
        this.path = stackFilePath(dir, host);
        this.original = fs.readFileSync(this.path, "utf8");
        [this.doc, this.bom, this.eol] = this.parse(this.original);
    }

    private parse(text: string): [Document, boolean, "\n" | "\r\n"] {
        const bom = text.startsWith("\uFEFF");
        const body = bom ? text.slice(1) : text;
        const crlf = body.split("\r\n").length - 1;
        const eol = crlf > 0 && crlf >= body.split("\n").length - 1 - crlf ? "\r\n" : "\n";
        const doc = parseDocument(body);
        if (doc.errors.length > 0) throw new UsageError(`${this.path} is not valid YAML: ${yamlErrorText(doc.errors[0], body)}`);
        return [doc, bom, eol];
    }

    /**
     * Writes `text` as the whole file, byte for byte (the file as it was before a change), after
     * the same checks as `save`: valid for the program, and the file not changed meanwhile.
     */
    restore(text: string, what: string): void {
        [this.doc, this.bom, this.eol] = this.parse(text);
        this.check(what);
        writeAtomically(this.path, text);
        this.original = text;
    }

    /** The stack's `config:` map as plain values. */
    private config(): Record<string, unknown> {
        const config = this.doc.toJS()?.config;
        return config && typeof config === "object" ? config : {};
    }

    /** What the program would be given: Pulumi.yaml's defaults overlaid with this file. */
    private programConfig(): Record<string, string> {
        const out = projectDefaults(this.dir);
        // A key without a value is refused before this (readingProblems): every value is one.
        for (const [k, v] of Object.entries(this.config())) out[k] = flatConfigValue(v);
        return out;
    }

    /**
     * The validated settings, or a ConfigError naming every problem. A value that Pulumi (yaml.v3,
     * with its YAML 1.1 forms) would read otherwise than the CLI (YAML 1.2) is a problem too: what
     * the CLI shows and checks is then what Pulumi applies.
     */
    settings(): Settings {
        const ambiguous = readingProblems(this.doc);
        if (ambiguous.length > 0) throw new ConfigError(ambiguous);
        const all = this.programConfig();
        return parseConfig(rawConfig(all), tailscaleProviderConfig(all));
    }

    /** The names of the project entries as written (also when the config has problems). */
    projectNames(): string[] {
        const list = this.config()[PROJECTS_KEY];
        return Array.isArray(list) ? list.map((e) => e?.name).filter((n): n is string => typeof n === "string") : [];
    }

    /** Whether the file sets `key` (namespaced, e.g. `tailscale:apiKey`). */
    has(key: string): boolean {
        return key in this.config();
    }

    /** The project list, if the file has one (none, or an empty value: undefined). */
    private projects(): YAMLSeq | undefined {
        // A config that is no map has no list (getIn answers undefined through a scalar).
        const seq = this.doc.getIn(["config", PROJECTS_KEY], true);
        if (isSeq(seq)) return seq;
        if (seq !== undefined && !(isScalar(seq) && seq.value === null)) {
            throw new UsageError(`${PROJECTS_KEY} in ${this.path} is not a list`);
        }
        return undefined;
    }

    /** The `config:` map, made (empty) when the file has none. */
    private configMap(): void {
        if (!isMap(this.doc.get("config"))) this.doc.set("config", this.doc.createNode({}));
    }

    private entry(name: string): YAMLMap {
        const found = this.projects()?.items.find((e) => isMap(e) && e.get("name") === name);
        if (!isMap(found)) throw new UsageError(this.noSuchProject(name));
        return found;
    }

    /** The message for a name that is not a project of this host. */
    noSuchProject(name: string): string {
        const names = this.projectNames();
        return (
            `there is no project '${name}' on host ${this.host}` +
            (names.length ? ` (its projects: ${names.join(", ")})` : " (it has no projects yet)")
        );
    }

    /** Whether the host has a project entry of this name. */
    hasProject(name: string): boolean {
        return this.projectNames().includes(name);
    }

    /** Appends a project entry. */
    addProject(name: string, fields: EntryFields): void {
        if (this.hasProject(name)) throw new UsageError(`project '${name}' already exists on host ${this.host}`);
        // createNode leaves out the fields given as undefined (keepUndefined is off).
        const node = this.doc.createNode({ name, ...fields });
        quoteAmbiguous(node); // a name such as 0b101 or 2026-01-01 is read as a string by every reader
        const list = this.projects();
        if (list) list.add(node);
        else {
            this.configMap();
            this.doc.setIn(["config", PROJECTS_KEY], this.doc.createNode([node]));
        }
    }

    /** Sets fields of a project entry; null removes a field, undefined leaves it as it is. */
    setFields(name: string, fields: Partial<Record<keyof EntryFields, unknown>>): void {
        const entry = this.entry(name);
        for (const [k, v] of Object.entries(fields)) {
            if (v === null) entry.delete(k);
            else if (v !== undefined) {
                const node = this.doc.createNode(v);
                quoteAmbiguous(node);
                entry.set(k, node);
            }
        }
    }

    /**
     * Sets the base image list. A stack that names one image with the `baseImage` shorthand gets
     * `baseImages`, its image first under the version name it already has (its volume's name).
     */
    setBaseImages(images: { version: string; url: string; sha512?: string }[]): void {
        this.configMap();
        this.doc.deleteIn(["config", `${NAMESPACE}:baseImage`]);
        this.doc.deleteIn(["config", `${NAMESPACE}:baseImageSha512`]);
        const node = this.doc.createNode(
            images.map((b) => (b.sha512 ? { version: b.version, url: b.url, sha512: b.sha512 } : { version: b.version, url: b.url })),
        );
        quoteAmbiguous(node); // versions such as 2026-11-01 stay strings for every reader
        this.doc.setIn(["config", `${NAMESPACE}:baseImages`], node);
    }

    /** Removes a project entry (and the comments written above it). */
    removeProject(name: string): void {
        const seq = this.projects()!;
        const index = seq.items.indexOf(this.entry(name));
        seq.items.splice(index, 1);
        // The yaml package keeps the comment above the first item on the list itself: it is that item's.
        if (index === 0) seq.commentBefore = undefined;
    }

    /** The file as it would be written now (with its own line endings and byte order mark). */
    text(): string {
        const text = this.doc.toString({ lineWidth: 0 });
        return (this.bom ? "\uFEFF" : "") + (this.eol === "\r\n" ? text.replace(/\r?\n/g, "\r\n") : text);
    }

    /**
     * Checks the edited config with the program's validation and writes it atomically (a temporary
     * file beside it, renamed over it). Throws a UsageError listing the problems, writing nothing.
     */
    save(what: string): void {
        this.check(what);
        const text = this.text();
        writeAtomically(this.path, text);
        this.original = text;
    }

    private check(what: string): void {
        try {
            this.settings();
        } catch (e) {
            if (e instanceof ConfigError) {
                throw new UsageError(`${what}: not done, ${path.basename(this.path)} is unchanged. ${e.message}`);
            }
            throw e;
        }
        if (fs.readFileSync(this.path, "utf8") !== this.original) {
            throw new UsageError(`${this.path} changed while ${what} was being prepared; nothing written, run it again`);
        }
    }
}

/** The file system calls writeAtomically makes (tests hand in one that fails midway). */
export type AtomicFs = Pick<
    typeof fs,
    | "realpathSync"
    | "statSync"
    | "accessSync"
    | "openSync"
    | "writeSync"
    | "fsyncSync"
    | "fchmodSync"
    | "fchownSync"
    | "closeSync"
    | "renameSync"
    | "rmSync"
>;

/**
 * Writes a file by renaming a complete temporary copy over it: readers see the old file or the
 * new one, never a part. Through a symlink the target is written (the temporary copy beside it);
 * mode (group-write too) and, where allowed, owner are kept; a read-only file is refused
 * (a UsageError, nothing written); on any failure the temporary copy is removed.
 */
export function writeAtomically(file: string, text: string, fsx: AtomicFs = fs): void {
    const target = fsx.realpathSync(file);
    const st = fsx.statSync(target);
    let writable = (st.mode & 0o222) !== 0;
    try {
        fsx.accessSync(target, fs.constants.W_OK);
    } catch {
        writable = false;
    }
    if (!writable) {
        throw new UsageError(
            `${file}${target !== file ? ` (${target})` : ""} is read-only (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}); ` +
                `nothing written. Make it writable (chmod u+w) to change it with project-vm.`,
        );
    }
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    let fd: number | undefined;
    try {
        fsx.rmSync(tmp, { force: true });
        fd = fsx.openSync(tmp, "wx", 0o600);
        try {
            fsx.fchownSync(fd, st.uid, st.gid);
        } catch {
            // not ours to give away: the copy stays ours
        }
        fsx.fchmodSync(fd, st.mode & 0o7777); // exactly, whatever the umask
        const bytes = Buffer.from(text, "utf8");
        for (let done = 0; done < bytes.length;) done += fsx.writeSync(fd, bytes, done, bytes.length - done);
        fsx.fsyncSync(fd);
        fsx.closeSync(fd);
        fd = undefined;
        fsx.renameSync(tmp, target);
    } catch (e) {
        if (fd !== undefined) {
            try {
                fsx.closeSync(fd);
            } catch {
                // already failing
            }
        }
        fsx.rmSync(tmp, { force: true });
        throw e;
    }
    try {
        // The rename itself survives a crash once the folder is on disk.
        const dirFd = fsx.openSync(path.dirname(target), "r");
        try {
            fsx.fsyncSync(dirFd);
        } finally {
            fsx.closeSync(dirFd);
        }
    } catch {
        // not supported here: the rename is still atomic
    }
}
