// Each option is declared once (components/configOptions.ts): a new one is added by touching its
// declaration plus its use. These tests hold every other place to the declarations.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import {
    BACKUP_OPTIONS,
    BASE_IMAGE_OPTIONS,
    CAPACITY_OPTIONS,
    CONFIG_KEYS,
    ConfigError,
    DEFAULTS,
    NAMESPACE,
    NETWORK_OPTIONS,
    OptionDecl,
    parseConfig,
    PROJECT_OPTIONS,
    rawConfig,
    STACK_OPTIONS,
    TAILSCALE_API_OPTIONS,
    TAILSCALE_OPTIONS,
} from "../components/config";
import { Reader, readOptions } from "../components/configReader";
import { declaredInPulumiYaml, pulumiYamlText } from "../components/pulumiYaml";
import { World } from "./support/cli";
import { REPO } from "./support/schemas";
import { stackConfig } from "./support/stack";

const pulumiYaml = fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8");

test("Pulumi.yaml is what the declarations make: run `npm run gen:pulumi-yaml` after changing an option", () => {
    assert.equal(pulumiYaml, pulumiYamlText(), "Pulumi.yaml differs from the declarations; run npm run gen:pulumi-yaml");
});

test("every stack option is a known key, with its declared default in DEFAULTS, and in Pulumi.yaml: declared, or documented in its comment", () => {
    const declared = parse(pulumiYaml).config as Record<string, any>;
    for (const [key, d] of Object.entries<OptionDecl>(STACK_OPTIONS)) {
        assert.ok((CONFIG_KEYS as readonly string[]).includes(key), key);
        assert.deepEqual((DEFAULTS as Record<string, unknown>)[key], d.default, `${key}'s default`);
        if (declaredInPulumiYaml(d)) {
            assert.deepEqual(declared[key].default, d.default, `${key}'s default in Pulumi.yaml`);
            assert.ok(declared[key].description.includes(d.description.replace(/\.$/, "")), `${key}'s description in Pulumi.yaml`);
        } else {
            assert.ok(!(key in declared), `${key} is not declared`);
            assert.match(pulumiYaml, new RegExp(`^# {3}${key}: `, "m"), `${key} is documented in Pulumi.yaml's comment`);
        }
        for (const child of Object.keys(d.options ?? {})) {
            assert.match(pulumiYaml, new RegExp(`^# {5}${child}: `, "m"), `${key}.${child} is documented in Pulumi.yaml's comment`);
        }
    }
});

test("every plain stack option that is a setting as it is comes out of parseConfig with its declared default", () => {
    // A stack that sets only what has no default.
    const s = parseConfig({ sshPublicKeys: rawConfig(stackConfig("storage")).sshPublicKeys, tailscale: { enabled: false } }) as Record<
        string,
        any
    >;
    const inherited = Object.values<OptionDecl>(PROJECT_OPTIONS).map((d) => d.inherits);
    let checked = 0;
    for (const [key, d] of Object.entries<OptionDecl>(STACK_OPTIONS)) {
        if (
            d.default === undefined ||
            d.partOf ||
            inherited.includes(key) ||
            !["string", "boolean", "integer", "memory", "size"].includes(d.kind)
        )
            continue;
        assert.deepEqual(d.kind === "size" ? s[key].text : s[key], d.default, key);
        checked++;
    }
    assert.ok(checked >= 7, `${checked} options checked`);
});

test("every stack option has its row in the README's configuration table", () => {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    for (const key of Object.keys(STACK_OPTIONS)) assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
});

test("a project's options: each in `config --json` and `config`, with its stack default where it inherits one", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    assert.equal(await w.run("config", "-H", "storage", "webapp", "--json"), 0, w.errText());
    const c = JSON.parse(w.out.join("\n"));
    w.out.length = 0;
    assert.equal(await w.run("config", "-H", "storage", "webapp"), 0, w.errText());
    for (const [key, d] of Object.entries<OptionDecl>(PROJECT_OPTIONS)) {
        assert.ok(key in c, `${key} in config --json`);
        assert.ok(
            w.out.some((line) => line.startsWith(`${key}:`)),
            `${key} in config`,
        );
        if (d.inherits)
            assert.match(pulumiYaml, new RegExp(`^# {5}${key}: .*default: the stack's ${d.inherits}`, "m"), `${key} documents its default`);
    }
});

test("a new option needs only its declaration: the reader, its messages and Pulumi.yaml come from it", () => {
    const table = {
        ...STACK_OPTIONS,
        bootDelay: {
            kind: "integer",
            default: 5,
            limits: { min: 0, max: 60 },
            unit: " seconds",
            description: "Seconds a VM waits before it boots.",
        },
        hugePages: { kind: "boolean", default: false, description: "Whether the VMs' memory is backed by huge pages." },
    } as const satisfies Record<string, OptionDecl>;
    const read = (from: Record<string, unknown>) => {
        const r = new Reader();
        return { values: readOptions(r, { from, table, at: "" }), problems: r.problems };
    };
    assert.deepEqual([read({}).values.bootDelay, read({}).values.hugePages], [5, false], "the defaults");
    assert.deepEqual(read({ bootDelay: 61, hugePages: "yes" }).problems, [
        "project-vms:bootDelay is 61 seconds; it must be between 0 and 60",
        'project-vms:hugePages must be true or false, got "yes" (YAML 1.1\'s yes/no/on/off are plain strings here: write true)',
    ]);
    const generated = parse(pulumiYamlText(table)).config;
    assert.deepEqual(generated.bootDelay, {
        type: "integer",
        default: 5,
        description: "Seconds a VM waits before it boots (0 to 60 seconds).",
    });
    assert.deepEqual(generated.hugePages, {
        type: "boolean",
        default: false,
        description: "Whether the VMs' memory is backed by huge pages.",
    });
});

test("an unknown key's message lists the declared keys", () => {
    assert.throws(
        () => parseConfig(rawConfig(stackConfig("storage", { [`${NAMESPACE}:storgeDir`]: "/srv" }))),
        (e: ConfigError) =>
            e.problems.some(
                (p) =>
                    p ===
                    `project-vms:storgeDir is not a known key (did you mean 'storageDir'?); known: ${Object.keys(STACK_OPTIONS).join(", ")}`,
            ),
    );
});

/** The source files that might hold a parallel list of option names: everything but the declarations. */
function sources(): string[] {
    const files: string[] = [];
    for (const dir of ["components", "cli", "cli/commands"]) {
        for (const f of fs.readdirSync(path.join(REPO, dir))) {
            if (f.endsWith(".ts") && f !== "configOptions.ts") files.push(path.join(dir, f));
        }
    }
    files.push("index.ts");
    return files;
}

/**
 * The option names of `keys` that a list or object literal `chunk` lists: a list as quoted strings
 * (a key list), an object as keys given a literal value (a table of defaults).
 */
function listed(chunk: string, keys: string[]): string[] {
    const literal = String.raw`(-?\d[\d_*. ]*|"[^"]*"|'[^']*'|true|false)\s*[,}]`;
    const pattern = (k: string) => (chunk.startsWith("[") ? String.raw`["'\`]${k}["'\`]` : String.raw`(^|[{,\s])${k}\s*:\s*${literal}`);
    return keys.filter((k) => new RegExp(pattern(k)).test(chunk));
}

test("nothing outside the declarations lists a table's option names (a key list, or a table of defaults, of three or more)", () => {
    const tables: Record<string, Readonly<Record<string, OptionDecl>>> = {
        STACK_OPTIONS,
        PROJECT_OPTIONS,
        NETWORK_OPTIONS,
        TAILSCALE_OPTIONS,
        BASE_IMAGE_OPTIONS,
        BACKUP_OPTIONS,
        TAILSCALE_API_OPTIONS,
        CAPACITY_OPTIONS,
    };
    const found: string[] = [];
    for (const file of sources()) {
        const text = fs.readFileSync(path.join(REPO, file), "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
        // Innermost brackets and braces: list and object literals.
        for (const m of text.matchAll(/\[[^[\]{}]*\]|\{[^{}]*\}/g)) {
            for (const [name, table] of Object.entries(tables)) {
                const keys = listed(m[0], Object.keys(table));
                if (keys.length >= 3) found.push(`${file}: ${keys.join(", ")} of ${name} in ${m[0].slice(0, 80).replace(/\s+/g, " ")}`);
            }
        }
    }
    assert.deepEqual(found, []);
});

test("the check that finds parallel lists finds the ones that were written by hand", () => {
    const keys = Object.keys(PROJECT_OPTIONS);
    assert.deepEqual(listed(`["name", "memory", "cpus", "disk", "running"]`, keys), ["name", "memory", "cpus", "disk", "running"]);
    assert.deepEqual(listed(`{ memory: 4096, cpus: 2, disk: "50G", purge: p.purge }`, keys), ["memory", "cpus", "disk"]);
    assert.deepEqual(listed(`{ memory: p.memory, cpus: p.cpus, disk: p.disk.text }`, keys), [], "a use is not a list");
});
