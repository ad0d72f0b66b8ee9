// Pulumi's own reading of the stack files, by the real Pulumi CLI (built by engine/build.sh):
// what the program will be given must be what `project-vm` saw when it checked and wrote the
// file. Pulumi reads stack files with Go's yaml.v3, which keeps YAML 1.1 forms the CLI's YAML 1.2
// reader does not; the files shipped, the files the CLI writes, and hand-written look-alikes are
// read by both, and each reading either agrees or the CLI refuses the file naming the key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ConfigError, parseConfig, rawConfig, Settings } from "../../components/config";
import { StackFile, UsageError } from "../../cli/stacks";
import { buildEngine, Engine } from "../support/engine";
import { World } from "../support/cli";
import { REPO } from "../support/schemas";

let engine: Engine | undefined;
let skipped: string | undefined;
before(() => {
    const bin = buildEngine((r) => (skipped = r));
    if (bin) engine = new Engine(bin);
});
after(() => engine?.cleanup());

/** The program's settings from Pulumi's reading of the file. */
function pulumiSettings(dir: string, host: string): Settings {
    return parseConfig(rawConfig(engine!.programConfig(dir, host)));
}

/** The CLI's settings of the file, or the problem it reports. */
function cliSettings(dir: string, host: string): Settings | Error {
    try {
        return new StackFile(dir, host).settings();
    } catch (e) {
        if (e instanceof ConfigError || e instanceof UsageError) return e;
        throw e;
    }
}

test("the shipped stack files: Pulumi gives the program what the CLI reads", (t) => {
    if (!engine) return t.skip(skipped);
    for (const host of ["storage", "raider"]) {
        const started = Date.now();
        assert.deepEqual(cliSettings(REPO, host), pulumiSettings(REPO, host), host);
        console.log(`timing: pulumi config --json of ${host} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
});

test("names the CLI writes are read by Pulumi as the same strings, YAML 1.1 look-alikes included", async (t) => {
    if (!engine) return t.skip(skipped);
    const w = new World();
    t.after(() => w.cleanup());
    // Room for every project: no capacity limit in this copy.
    w.writeStack("storage", w.stackText("storage").replace(/^  project-vms:hostCapacity:\n(    .*\n)+/m, ""));
    const names = ["0b101", "2026-01-01", "0x1f", "0o17", "010", "1e3", "yes", "no", "on", "off", "y", "n", "null", "true", "12-30"];
    for (const name of names) {
        assert.equal(await w.run("create", "-H", "storage", name, "--no-nix"), 0, `create ${name}: ${w.errText()}`);
    }
    const cli = cliSettings(w.dir, "storage");
    assert.ok(!(cli instanceof Error), String(cli));
    const pulumi = pulumiSettings(w.dir, "storage");
    assert.deepEqual(pulumi.projects.map((p) => p.name), [...cli.projects.map((p) => p.name)]);
    assert.deepEqual(pulumi, cli);
});

test("hand-written look-alikes: the CLI agrees with Pulumi's reading or refuses, naming the key", (t) => {
    if (!engine) return t.skip(skipped);
    const w = new World();
    t.after(() => w.cleanup());
    const original = w.stackText("storage");
    // Each case adds one field to the second entry (webapp, which sets none).
    const cases = [
        "memory: 010000", "memory: 0x4000", "memory: 0o20000", "memory: 16_384", "memory: 8G", "cpus: 0b1000", "cpus: 1_0",
        "disk: 1:20", "disk: .inf", "disk: 0x10G", "running: yes", "running: off", "running: Y", "autostart: n",
        "purge: on", "base: 2026-11-01", "base: 2026.11", "base: ~", "features: {nix: no}",
    ];
    for (const field of cases) {
        w.writeStack("storage", original.replace(/^(\s+)- name: webapp$/m, `$1- name: webapp\n$1  ${field}`));
        const key = `projects[1].${field.split(":")[0]}`;
        const cli = cliSettings(w.dir, "storage");
        let pulumi: Settings | Error;
        try {
            pulumi = pulumiSettings(w.dir, "storage");
        } catch (e) {
            pulumi = e as Error;
        }
        if (cli instanceof Error) {
            assert.ok(cli.message.includes(key), `${field}: the CLI's refusal names ${key}: ${cli.message}`);
        } else {
            assert.ok(!(pulumi instanceof Error), `${field}: the CLI accepts what Pulumi's reading refuses: ${String(pulumi)}`);
            assert.deepEqual(cli, pulumi, `${field}: the CLI reads it as Pulumi does`);
        }
    }
});
