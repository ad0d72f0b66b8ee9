// The CLI (YAML 1.2, the `yaml` package) and Pulumi (Go's gopkg.in/yaml.v3, which still reads
// YAML 1.1 forms such as 010000, 0b101, 1_000 and timestamps) must see the same stack file. What
// the CLI writes reads the same to YAML 1.1, YAML 1.2, the CLI and the real yaml.v3; a value
// already in the file that they read differently is refused, naming the key and both readings.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { projectNameProblem } from "../components/config";
import { StackFile } from "../cli/stacks";
import { Timestamp, v3Resolve } from "../cli/yaml11";
import { World } from "./support/cli";
import { yamlV3 } from "./support/yamlv3";

/** Strings that some YAML reader may take for a number, bool, null, timestamp or float. */
const LOOKALIKES = [
    "010000",
    "0b101",
    "-0b11",
    "0o17",
    "0O17",
    "0x1f",
    "0X1F",
    "+12",
    "-0",
    "09",
    "08",
    "0.",
    "1_000",
    "1__0",
    "1e3",
    "1E3",
    ".5",
    ".inf",
    ".Inf",
    "-.inf",
    "+.INF",
    ".nan",
    ".NaN",
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "True",
    "TRUE",
    "false",
    "FALSE",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "on",
    "On",
    "off",
    "OFF",
    "y",
    "Y",
    "n",
    "N",
    "1:20",
    "190:20:30",
    "-1:20",
    "2026-01-01",
    "2026-1-2",
    "2026-01-01T10:00:00Z",
    "2026-01-01t10:00:00+02:00",
    "2026-01-01 10:00:00",
    "2026-02-30",
    "2026-13-01",
    "2026-11",
    "2026.11",
    "1.2.3",
    "0b2",
    "0x",
    "1-2",
    "123456789012345678901",
    "<<",
    "=",
    "webapp",
    "100G",
    "a1",
    "0",
    "1",
];

/** A reading, made comparable across readers: timestamps, infinities and NaN as words. */
function typed(v: unknown): unknown {
    if (v instanceof Date || v instanceof Timestamp) return "<timestamp>";
    if (typeof v === "number")
        return Number.isNaN(v) ? "<NaN>" : v === Infinity ? "<+Inf>" : v === -Infinity ? "<-Inf>" : Object.is(v, -0) ? 0 : v;
    if (Array.isArray(v)) return v.map(typed);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if ("$timestamp" in o) return "<timestamp>";
        if ("$float" in o) return `<${o.$float}>`;
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, typed(x)]));
    }
    return v;
}

const v3 = yamlV3();

test("the CLI's port of yaml.v3's resolver reads every look-alike as the real yaml.v3 does", { skip: v3.skip }, (t) => {
    const w = new World([]);
    t.after(() => w.cleanup());
    const file = path.join(w.dir, "lookalikes.yaml");
    fs.writeFileSync(file, LOOKALIKES.map((s, i) => `k${i}: ${s}\n`).join(""));
    const real = typed(v3.read!(file)) as Record<string, unknown>;
    for (const [i, s] of LOOKALIKES.entries()) {
        assert.deepEqual(
            typed(v3Resolve(s)),
            real[`k${i}`],
            `${s}: the port reads ${String(v3Resolve(s))}, yaml.v3 ${JSON.stringify(real[`k${i}`])}`,
        );
    }
});

/** Every reading of a stack file's text: YAML 1.1, YAML 1.2, and (when there is Go) yaml.v3. */
function readings(w: World, text: string): Record<string, unknown> {
    const out: Record<string, unknown> = { "YAML 1.2": typed(parse(text)), "YAML 1.1": typed(parse(text, { version: "1.1" })) };
    if (v3.read) {
        const file = path.join(w.dir, "written.yaml");
        fs.writeFileSync(file, text);
        out["yaml.v3"] = typed(v3.read(file));
    }
    return out;
}

function sameEverywhere(w: World, text: string, pick: (config: any) => unknown, want: unknown): void {
    for (const [reader, doc] of Object.entries(readings(w, text))) {
        assert.deepEqual(pick((doc as any).config), want, `${reader} reads it as written`);
    }
}

test("create writes look-alike names so that YAML 1.1, YAML 1.2, the CLI and yaml.v3 read the same", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    w.writeStack("storage", w.stackText("storage").replace(/^( {4}cpus:) 14$/m, "$1 64"));
    const names = LOOKALIKES.filter((s) => projectNameProblem(s) === undefined && !["webapp"].includes(s)).slice(0, 30);
    assert.ok(names.includes("0b101") && names.includes("2026-01-01") && names.includes("010000") && names.includes("yes"));
    for (const name of names) assert.equal(await w.run("create", "-H", "storage", name, "1024", "1"), 0, `create ${name}: ${w.errText()}`);
    const want = ["myapp", "webapp", ...names];
    const text = w.stackText("storage");
    sameEverywhere(w, text, (c) => c["project-vms:projects"].map((p: any) => p.name), want);
    assert.deepEqual(
        new StackFile(w.dir, "storage").settings().projects.map((p) => p.name),
        want,
        "the CLI's own reading",
    );
    assert.match(text, /- name: "0b101"\n/);
    assert.match(text, /- name: a1\n/, "a name nobody can misread stays plain");
});

test("create pins look-alike base versions quoted; resize writes plain numbers every reader agrees on", async (t) => {
    for (const version of ["2026-01-01", "010", "2026.11", "1e3", "0x1f", "yes"]) {
        const w = new World(["storage"]);
        t.after(() => w.cleanup());
        w.writeStack(
            "storage",
            w
                .stackText("storage")
                .replace(
                    "  project-vms:storageDir:",
                    [
                        "  project-vms:baseImages:",
                        `    - version: "${version}"`,
                        "      url: https://cloud.debian.org/images/cloud/forky/image.qcow2",
                        "  project-vms:storageDir:",
                    ].join("\n"),
                ),
        );
        assert.equal(await w.run("create", "-H", "storage", "pinned", "1024", "1"), 0, w.errText());
        assert.equal(
            await w.run("resize", "-H", "storage", "pinned", "--memory", "2048", "--cpus", "2", "--disk", "60G", "--yes"),
            0,
            w.errText(),
        );
        const entry = { name: "pinned", memory: 2048, cpus: 2, disk: "60G", base: version };
        sameEverywhere(w, w.stackText("storage"), (c) => c["project-vms:projects"][2], entry);
        assert.equal(new StackFile(w.dir, "storage").settings().projects[2].base, version);
    }
});

test("every look-alike string the CLI writes into an entry reads back as that string in YAML 1.1, 1.2 and yaml.v3", (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const stack = new StackFile(w.dir, "storage");
    stack.addProject("probe", {});
    for (const s of LOOKALIKES) {
        stack.setFields("probe", { base: s });
        sameEverywhere(w, stack.text(), (c) => c["project-vms:projects"][2].base, s);
    }
});

test("a value already in the file that YAML 1.1/yaml.v3 and YAML 1.2 read differently is refused, naming the key and both readings", async (t) => {
    const cases: { edit: (text: string) => string; problem: RegExp; v3?: [(c: any) => unknown, unknown] }[] = [
        {
            edit: (s) => s.replace("      memory: 16384", "      memory: 010000"),
            problem:
                /project-vms:projects\[0\]\.memory: 010000 is ambiguous: YAML 1\.2 \(project-vm\) reads 10000, Pulumi \(yaml\.v3\) reads 4096; write it unambiguously/,
            v3: [(c) => c["project-vms:projects"][0].memory, 4096],
        },
        {
            edit: (s) => s.replace("    - name: webapp", "    - name: 0b101"),
            problem:
                /project-vms:projects\[1\]\.name: 0b101 is ambiguous: YAML 1\.2 \(project-vm\) reads "0b101", Pulumi \(yaml\.v3\) reads 5; write it unambiguously \(quoted: "0b101"\)/,
            v3: [(c) => c["project-vms:projects"][1].name, 5],
        },
        {
            edit: (s) => s.replace("  project-vms:defaultMemory: 4096", "  project-vms:defaultMemory: 010000"),
            problem: /project-vms:defaultMemory: 010000 is ambiguous: YAML 1\.2 \(project-vm\) reads 10000, Pulumi \(yaml\.v3\) reads 4096/,
            v3: [(c) => c["project-vms:defaultMemory"], 4096],
        },
        {
            edit: (s) => s.replace("      cpus: 8", "      cpus: .inf"),
            problem: /project-vms:projects\[0\]\.cpus: \.inf is not a finite number, which Pulumi cannot store/,
            v3: [(c) => c["project-vms:projects"][0].cpus, "<+Inf>"],
        },
        {
            edit: (s) => s.replace("      disk: 100G", "      disk: 100G\n      base: 2026-01-01"),
            problem:
                /project-vms:projects\[0\]\.base: 2026-01-01 is ambiguous: YAML 1\.2 \(project-vm\) reads "2026-01-01", Pulumi \(yaml\.v3\) reads timestamp 2026-01-01/,
            v3: [(c) => c["project-vms:projects"][0].base, "<timestamp>"],
        },
        {
            edit: (s) => s.replace("    tags:\n      - tag:project-vm", "    tags:\n      - 1:20"),
            problem:
                /project-vms:tailscale\.tags\[0\]: 1:20 is ambiguous: YAML 1\.2 \(project-vm\) reads "1:20", a YAML 1\.1 reader reads 80/,
        },
    ];
    for (const c of cases) {
        const w = new World(["storage"]);
        t.after(() => w.cleanup());
        const text = c.edit(w.stackText("storage"));
        assert.notEqual(text, w.stackText("storage"), "the case edits the file");
        w.writeStack("storage", text);
        if (c.v3 && v3.read) {
            const file = path.join(w.dir, "Pulumi.storage.yaml");
            assert.deepEqual(c.v3[0]((typed(v3.read(file)) as any).config), c.v3[1], "yaml.v3 does read it otherwise");
        }
        assert.equal(await w.run("create", "-H", "storage", "other"), 2);
        assert.match(w.errText(), c.problem);
        assert.match(w.errText(), /Pulumi\.storage\.yaml: The stack's configuration has 1 problem:/);
        assert.equal(w.stackText("storage"), text, "nothing written");
        assert.equal(w.applies.length, 0);
        w.err.length = 0;
        assert.equal(await w.run("list", "-H", "storage"), 0);
        assert.match(w.errText(), c.problem, "list says it too");
    }
});
