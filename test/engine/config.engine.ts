// Pulumi's own reading of the stack files, by the real Pulumi CLI (built by engine/build.sh):
// what the program will be given must be what `project-vm` saw when it checked and wrote the
// file. Pulumi reads stack files with Go's yaml.v3, which keeps YAML 1.1 forms the CLI's YAML 1.2
// reader does not; the files shipped, the files the CLI writes, and hand-written look-alikes are
// read by both, and each reading either agrees or the CLI refuses the file naming the key.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { ConfigError, parseConfig, rawConfig, Settings, tailscaleProviderConfig } from "../../components/config";
import { StackFile, UsageError } from "../../cli/stacks";
import { buildEngine, Engine } from "../support/engine";
import { World } from "../support/cli";
import { EXAMPLES, REPO } from "../support/schemas";

let engine: Engine | undefined;
let skipped: string | undefined;
/** A project folder with the shipped stack files (examples/) beside Pulumi.yaml. */
let shipped = "";

before(() => {
    const bin = buildEngine((r) => (skipped = r));
    if (!bin) return;
    engine = new Engine(bin);
    shipped = fs.mkdtempSync(path.join(engine.home, "shipped-"));
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(shipped, "Pulumi.yaml"));
    for (const host of ["storage", "raider"])
        fs.copyFileSync(path.join(EXAMPLES, `Pulumi.${host}.yaml`), path.join(shipped, `Pulumi.${host}.yaml`));
});
after(() => engine?.cleanup());

/** The program's settings from Pulumi's reading of the file, as index.ts makes them. */
function programSettings(all: Record<string, string>): Settings {
    return parseConfig(rawConfig(all), tailscaleProviderConfig(all));
}

/** The program's settings from Pulumi's reading of the file (on a copy). */
function pulumiSettings(dir: string, host: string): Settings {
    return programSettings(engine!.programConfig(dir, host));
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
        assert.deepEqual(cliSettings(shipped, host), pulumiSettings(shipped, host), host);
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
    assert.deepEqual(
        pulumi.projects.map((p) => p.name),
        [...cli.projects.map((p) => p.name)],
    );
    assert.deepEqual(pulumi, cli);
});

test("hand-written look-alikes: the CLI agrees with Pulumi's reading or refuses, naming the key", (t) => {
    if (!engine) return t.skip(skipped);
    const w = new World();
    t.after(() => w.cleanup());
    const original = w.stackText("storage");
    // Each case adds one field to the second entry (webapp, which sets none).
    const cases = [
        "memory: 010000",
        "memory: 0x4000",
        "memory: 0o20000",
        "memory: 16_384",
        "memory: 8G",
        "cpus: 0b1000",
        "cpus: 1_0",
        "disk: 1:20",
        "disk: .inf",
        "disk: 0x10G",
        "running: yes",
        "running: off",
        "running: Y",
        "autostart: n",
        "purge: on",
        "base: 2026-11-01",
        "base: 2026.11",
        "base: ~",
        "features: {nix: no}",
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

test("an unquoted date, as Pulumi hands it to the program, gets the hint to quote it", (t) => {
    if (!engine) return t.skip(skipped);
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const text = w.stackText("storage").replace(/^(\s+)- name: webapp$/m, "$1- name: webapp\n$1  base: 2026-11-01");
    w.writeStack("storage", text);
    assert.throws(
        () => pulumiSettings(w.dir, "storage"),
        (e: Error) =>
            e instanceof ConfigError &&
            e.problems.includes(
                'project-vms:projects[1].base is 2026-11-01 written without quotes, which YAML reads as a date; quote it: "2026-11-01"',
            ),
    );
});

test("a key given no value: Pulumi hands the program an empty string, and the CLI refuses it, naming the key", (t) => {
    if (!engine) return t.skip(skipped);
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const original = w.stackText("storage");
    // Each a top-level key the CLI would otherwise have read as absent (its default applying).
    for (const [line, key] of [
        ["project-vms:shutdownTimeout:", "project-vms:shutdownTimeout"],
        ["project-vms:aptCheckValidUntil: ~", "project-vms:aptCheckValidUntil"],
        ["project-vms:readyTimeout: null", "project-vms:readyTimeout"],
    ]) {
        w.writeStack("storage", original.replace(/^(  project-vms:projects:)$/m, `  ${line}\n$1`));
        assert.equal(engine.programConfig(w.dir, "storage")[key], "", `${line}: Pulumi hands ""`);
        assert.throws(() => pulumiSettings(w.dir, "storage"), ConfigError, `${line}: the program refuses what Pulumi hands it`);
        const cli = cliSettings(w.dir, "storage");
        assert.ok(cli instanceof ConfigError, `${line}: the CLI refuses it too`);
        assert.ok(
            cli.problems.some((p) => p.startsWith(`${key} has no value`)),
            `${line}: ${cli.message}`,
        );
    }
});

test("the CLI's edits keep what Pulumi wrote: its encryption salt and secrets still decrypt", async (t) => {
    if (!engine) return t.skip(skipped);
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    // The first run as the README says: stack init (a passphrase salt in the file), then secrets.
    engine.pulumi(w.dir, "stack", "init", "storage");
    engine.pulumi(w.dir, "config", "set", "--secret", "--stack", "storage", "tailscale:apiKey", "tskey-api-k123");
    engine.pulumi(w.dir, "config", "set", "--stack", "storage", "tailscale:tailnet", "bat-boa.ts.net");
    const salt = /^encryptionsalt: .*$/m.exec(w.stackText("storage"))?.[0];
    assert.ok(salt, "pulumi stack init wrote an encryption salt");
    assert.match(w.stackText("storage"), /tailscale:apiKey:\n\s+secure: v1:/);

    assert.equal(await w.run("create", "-H", "storage", "blog", "8G", "2", "20G"), 0, w.errText());
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.equal(/^encryptionsalt: .*$/m.exec(w.stackText("storage"))?.[0], salt, "the salt is kept");
    assert.equal(
        engine.pulumi(w.dir, "config", "get", "--stack", "storage", "tailscale:apiKey").trim(),
        "tskey-api-k123",
        "the secret still decrypts",
    );
    const pulumi = programSettings(engine.programConfigInPlace(w.dir, "storage"));
    const cli = cliSettings(w.dir, "storage");
    assert.ok(!(cli instanceof Error), String(cli));
    assert.deepEqual(cli, pulumi, "what the CLI wrote is what Pulumi gives the program");
    assert.deepEqual(
        pulumi.projects.map((p) => [p.name, p.memory, p.running]),
        [
            ["myapp", 16384, true],
            ["webapp", 4096, false],
            ["blog", 8192, true],
        ],
    );
    w.out.length = 0;
    assert.equal(await w.run("doctor", "--json"), 1);
    const creds = JSON.parse(w.out.join("\n")).checks.find((c: { name: string }) => c.name === "storage: Tailscale API credentials");
    assert.equal(creds.ok, true, "doctor sees the secret Pulumi set");
});
