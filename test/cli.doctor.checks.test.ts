// Every check `project-vm doctor` makes, as a user reads it: each tool asked for its version the
// way that tool answers (and what it is needed for when it is missing), the plugins at the SDKs'
// versions, and per host its stack in the backend, its required keys, its stack file, SSH keys,
// libvirt and Tailscale credentials, each with what was found.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { pluginChecks, requiredPlugins, versionLine } from "../cli/commands";
import { main } from "../cli/main";
import { RunResult } from "../cli/run";
import { ownSshKey, World, worldFor } from "./support/cli";

/** How each tool answers the one way of asking its version (as the real ones: anything else is a usage error). */
const VERSIONS: Record<string, [string[], string]> = {
    pulumi: [["version"], "v3.274.1\n"],
    virsh: [["--version"], "10.10.0\n"],
    mkisofs: [["--version"], "genisoimage 1.1.11 (Linux)\n"],
    ssh: [["-V"], "OpenSSH_9.9p1 Debian-3, OpenSSL 3.4.0 22 Oct 2024\n"],
    jq: [["--version"], "jq-1.7.1\n"],
    curl: [["--version"], "curl 8.11.1 (x86_64-pc-linux-gnu)\nRelease-Date: 2024-12-11\n"],
};

/** Runs `doctor --json` in `w` with tools that answer as above (`missing` ones not found); resolves to its code and checks. */
async function doctor(
    w: World,
    args: string[] = [],
    missing: string[] = [],
    more: (cmd: string, args: string[]) => RunResult | undefined = () => undefined,
) {
    const deps = w.deps();
    const inner = deps.runTool;
    deps.runTool = async (cmd, a) => {
        const given = more(cmd, a);
        if (given) return given;
        if (missing.includes(cmd)) return { code: 127, stdout: "", stderr: `${cmd}: not found` };
        // The real pulumi without a command prints its help.
        if (cmd === "pulumi" && a.length === 0)
            return { code: 0, stdout: "Pulumi - Modern Infrastructure as Code\n\nUsage:\n  pulumi [command]\n", stderr: "" };
        const v = VERSIONS[cmd];
        if (v && a.join(" ") === v[0].join(" ")) return { code: 0, stdout: cmd === "ssh" ? "" : v[1], stderr: cmd === "ssh" ? v[1] : "" };
        // A tool asked another way refuses, as pulumi does a one-word command other than version.
        if (v && cmd === "pulumi" && a.length === 1)
            return { code: 255, stdout: "", stderr: `error: unknown command "${a[0]}" for "pulumi"\n` };
        if (v && cmd !== "pulumi")
            return { code: 1, stdout: "", stderr: `${cmd}: unrecognized option '${a.join(" ")}'\nUsage: ${cmd} [OPTION]...\n` };
        return inner(cmd, a);
    };
    w.out.length = 0;
    const code = await main([...args, "doctor", "--json"], deps);
    const { ok, checks } = JSON.parse(w.out.join("\n")) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    assert.equal(ok, code === 0);
    return { code, checks: checks.map((c) => [c.ok ? "ok" : "FAIL", c.name, c.detail]) };
}

/** `w`'s stack files with a key of one's own and, where `credentials` says, Tailscale API credentials. */
function setUp(w: World, credentials: Record<string, string> = { storage: "  tailscale:apiKey:\n    secure: v1:abc\n" }) {
    for (const h of ["storage", "raider"].filter((h) => fs.existsSync(path.join(w.dir, `Pulumi.${h}.yaml`)))) {
        w.writeStack(h, `${w.stackText(h).replace(/ssh-ed25519 \S+ admin@workstation/, ownSshKey())}${credentials[h] ?? ""}`);
    }
}

test("doctor on a host set up as it should be: every check passes and says what it found", async (t) => {
    const w = worldFor(t);
    setUp(w, { storage: "  tailscale:apiKey:\n    secure: v1:abc\n" });
    w.host.define("project-myapp", { state: "running" });
    const { code, checks } = await doctor(w, ["-H", "storage"]);
    assert.deepEqual(checks, [
        ["ok", "node", `v${process.versions.node}`],
        ["ok", "pulumi", "v3.274.1"],
        ["ok", "virsh", "10.10.0"],
        ["ok", "mkisofs", "genisoimage 1.1.11 (Linux)"],
        ["ok", "ssh", "OpenSSH_9.9p1 Debian-3, OpenSSL 3.4.0 22 Oct 2024"],
        ["ok", "jq", "jq-1.7.1"],
        ["ok", "curl", "curl 8.11.1 (x86_64-pc-linux-gnu)"],
        ["ok", "pulumi-language-nodejs", "/opt/pulumi/bin/pulumi-language-nodejs"],
        ["ok", "storage: Pulumi stack", "in the backend"],
        ["ok", "storage: required config", "every key Pulumi.yaml requires is set"],
        ["ok", "storage: stack file", "2 project(s), libvirt qemu+ssh://admin@storage/system"],
        ["ok", "storage: SSH keys", "1 key(s) may log in as dev"],
        ["ok", "storage: libvirt", "qemu+ssh://admin@storage/system answers (1 domain(s))"],
        ["ok", "storage: Tailscale API credentials", "set in the stack file"],
    ]);
    assert.equal(code, 0);
});

test("doctor names what each missing tool is needed for", async (t) => {
    const w = worldFor(t);
    setUp(w);
    const { code, checks } = await doctor(w, ["-H", "storage"], ["pulumi", "virsh", "mkisofs", "ssh", "jq", "curl"]);
    assert.equal(code, 1);
    assert.deepEqual(checks.slice(1, 7), [
        ["FAIL", "pulumi", "not found: needed for applying the stacks (https://www.pulumi.com/docs/install/)"],
        ["FAIL", "virsh", "not found: needed for the host scripts and live state (libvirt client)"],
        ["FAIL", "mkisofs", "not found: needed for the libvirt provider's cloud-init ISO (cdrkit/genisoimage)"],
        ["FAIL", "ssh", "not found: needed for logging in, and qemu+ssh libvirt URIs (OpenSSH client)"],
        ["FAIL", "jq", "not found: needed for the host scripts"],
        ["FAIL", "curl", "not found: needed for removing a VM's machine from the tailnet"],
    ]);
});

test("the language host counts as found only when the search succeeded and named a file", async (t) => {
    const w = worldFor(t);
    setUp(w);
    for (const [answer, found] of [
        [{ code: 0, stdout: "  /usr/lib/pulumi/pulumi-language-nodejs  \n", stderr: "" }, "/usr/lib/pulumi/pulumi-language-nodejs"],
        [{ code: 0, stdout: " \n", stderr: "" }, undefined],
        [{ code: 1, stdout: "/usr/lib/pulumi/pulumi-language-nodejs\n", stderr: "" }, undefined],
    ] as const) {
        const { checks } = await doctor(w, ["-H", "storage"], [], (cmd) => (cmd === "sh" ? answer : undefined));
        const host = checks.find((c) => c[1] === "pulumi-language-nodejs")!;
        assert.deepEqual(
            host,
            found
                ? ["ok", "pulumi-language-nodejs", found]
                : [
                      "FAIL",
                      "pulumi-language-nodejs",
                      "not found on PATH nor beside pulumi: the Node.js language host runs the program (bash engine/build.sh builds it)",
                  ],
            JSON.stringify(answer),
        );
    }
});

test("a backend whose stack list fails says nothing of the stacks, even with JSON on its output", async (t) => {
    const w = worldFor(t);
    setUp(w);
    const { checks } = await doctor(w, ["-H", "storage"], [], (cmd, a) =>
        cmd === "pulumi" && a[0] === "stack" ? { code: 255, stdout: "[]", stderr: "error: could not reach the backend\n" } : undefined,
    );
    assert.equal(
        checks.find((c) => c[1] === "storage: Pulumi stack"),
        undefined,
    );
});

test("the only host's stack missing from the backend is a failure, not a note", async (t) => {
    const w = worldFor(t, ["storage"]);
    setUp(w);
    w.backendStacks = [];
    const { code, checks } = await doctor(w);
    assert.equal(code, 1);
    assert.deepEqual(
        checks.find((c) => c[1] === "storage: Pulumi stack"),
        [
            "FAIL",
            "storage: Pulumi stack",
            `not in the backend you are logged in to: pulumi stack init storage --cwd ${w.dir} (or pulumi login to the backend that holds it)`,
        ],
    );
});

test("a host picked with PROJECT_VM_HOST is the only one checked, and checked fully", async (t) => {
    const w = worldFor(t);
    setUp(w);
    w.backendStacks = ["storage"];
    w.env.PROJECT_VM_HOST = "raider";
    const { checks } = await doctor(w);
    assert.deepEqual(
        checks.filter((c) => c[1].includes(": ")).map((c) => c.slice(0, 2)),
        [
            ["FAIL", "raider: Pulumi stack"],
            ["ok", "raider: required config"],
            ["ok", "raider: stack file"],
            ["ok", "raider: SSH keys"],
            ["ok", "raider: libvirt"],
            ["FAIL", "raider: Tailscale API credentials"],
        ],
    );
});

test("every key Pulumi requires and every problem of a stack file are named, and the other host is still checked", async (t) => {
    const w = worldFor(t);
    setUp(w, {});
    w.writeStack(
        "raider",
        w
            .stackText("raider")
            .replace(/^  project-vms:sshPublicKeys:\n(    - .*\n)+/m, "")
            .replace(/^  project-vms:libvirtUri: .*\n/m, "  project-vms:memory: lots\n  project-vms:vcpu: -1\n"),
    );
    // A project whose Pulumi.yaml requires two keys, both missing.
    const project = path.join(w.dir, "Pulumi.yaml");
    fs.writeFileSync(project, fs.readFileSync(project, "utf8").replace(/^config:\n/m, "config:\n  owner:\n    type: string\n"));
    const { checks } = await doctor(w);
    const of = (name: string) => checks.find((c) => c[1] === name);
    assert.deepEqual(of("raider: required config"), [
        "FAIL",
        "raider: required config",
        "Pulumi refuses to run without project-vms:owner, project-vms:sshPublicKeys in Pulumi.raider.yaml",
    ]);
    const file = of("raider: stack file")!;
    assert.equal(file[0], "FAIL");
    // Each problem whole, one after the other.
    const known =
        "known: libvirtUri, storageDir, baseImage, baseImageSha512, baseImages, sshPublicKeys, defaultMemory, defaultCpus, defaultDisk, systemDiskSize, network, tailscale, aptCheckValidUntil, prepare, shutdownTimeout, readyTimeout, hostCapacity, backups, projects";
    assert.equal(
        file[2],
        `project-vms:memory is not a known key; ${known}; project-vms:vcpu is not a known key; ${known}; ` +
            "project-vms:sshPublicKeys must list at least one SSH public key (e.g. the content of ~/.ssh/id_ed25519.pub): without one nobody can log in as dev",
    );
    assert.equal(of("raider: libvirt"), undefined, "a stack file that cannot be read ends its host's checks");
    assert.equal(of("storage: stack file")![0], "ok");
});

test("a stack file that is no YAML is its host's failed check; the other host is still checked", async (t) => {
    const w = worldFor(t);
    setUp(w);
    w.writeStack("raider", "config:\n  a: 1\n  a: 2\n");
    const { checks } = await doctor(w);
    assert.deepEqual(
        checks.filter((c) => c[1].startsWith("raider: ")),
        [
            [
                "FAIL",
                "raider: stack file",
                `${path.join(w.dir, "Pulumi.raider.yaml")} is not valid YAML: line 3, column 3: the key 'a' is given twice in one map: "  a: 2"`,
            ],
        ],
    );
    assert.equal(checks.find((c) => c[1] === "storage: libvirt")![0], "ok");
});

test("Tailscale credentials: an API key, or an OAuth client's id and secret both; one of the two is not enough", async (t) => {
    const id = "  tailscale:oauthClientId: k123\n";
    const secret = "  tailscale:oauthClientSecret:\n    secure: v1:abc\n";
    for (const [given, ok] of [
        [id + secret, true],
        [id, false],
        [secret, false],
    ] as const) {
        const v = worldFor(t);
        setUp(v, { storage: given });
        const { checks } = await doctor(v, ["-H", "storage"]);
        assert.equal(checks.find((c) => c[1] === "storage: Tailscale API credentials")![0], ok ? "ok" : "FAIL", given);
    }
});

test("the plugins the SDKs ask for: resource plugins only, at their version without its v, dev builds too", (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-sdks-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sdk = (name: string, pulumi: object) => {
        fs.mkdirSync(path.join(dir, "node_modules", "@pulumi", name), { recursive: true });
        fs.writeFileSync(
            path.join(dir, "node_modules", "@pulumi", name, "package.json"),
            JSON.stringify({ name: `@pulumi/${name}`, pulumi }),
        );
    };
    sdk("libvirt", { resource: true, version: "v0.5.4" });
    sdk("command", { resource: true, version: "1.2.1-dev.0" });
    sdk("tailscale", { resource: false, version: "0.27.1" });
    assert.deepEqual(
        [...requiredPlugins(dir)],
        [
            ["libvirt", "0.5.4"],
            ["command", "1.2.1-dev.0"],
        ],
    );
    sdk("tailscale", { resource: true });
    assert.deepEqual([...requiredPlugins(dir)].length, 2, "no version, nothing to ask for");
    fs.writeFileSync(path.join(dir, "node_modules", "@pulumi", "tailscale", "package.json"), JSON.stringify({ name: "@pulumi/tailscale" }));
    assert.deepEqual([...requiredPlugins(dir)].length, 2, "no plugin at all");
});

test("a tool's version is its first line, trimmed; genisoimage's decoy banner is skipped; no output is none", () => {
    assert.equal(versionLine("\n  OpenSSH_9.9p1, OpenSSL 3.4.0  \n"), "OpenSSH_9.9p1, OpenSSL 3.4.0");
    // genisoimage 1.1.11's answer, as Debian's prints it.
    const genisoimage = [
        "mkisofs 2.01 is not what you see here. This line is only a fake for too clever",
        "GUIs and other frontend applications. In fact, this program is:",
        "genisoimage 1.1.11 (Linux)",
    ].join("\n");
    assert.equal(versionLine(genisoimage), "genisoimage 1.1.11 (Linux)");
    assert.equal(versionLine(""), "");
});

test("an installed plugin counts at the exact version asked for, dev builds too; the wrong ones are all named", () => {
    const ls = (...versions: string[]) => JSON.stringify(versions.map((version) => ({ name: "command", kind: "resource", version })));
    const wanted = new Map([["command", "1.2.1-dev.0"]]);
    assert.deepEqual(pluginChecks(ls("1.2.1-dev.0"), wanted), [{ name: "plugin command", ok: true, detail: "v1.2.1-dev.0" }]);
    assert.deepEqual(pluginChecks(ls("v1.2.1-dev.0"), wanted)[0].ok, true);
    assert.deepEqual(pluginChecks(ls("1.0.0", "1.1.0"), wanted)[0].detail.split(":")[0], "only v1.0.0, v1.1.0");
    assert.deepEqual(pluginChecks("not json", wanted)[0].detail.split(":")[0], "not installed");
});

test("a host whose VMs stay off the tailnet needs no Tailscale credentials", async (t) => {
    const w = worldFor(t, ["storage"]);
    setUp(w, {});
    w.writeStack("storage", w.stackText("storage").replace("    enabled: true\n", "    enabled: false\n"));
    const { code, checks } = await doctor(w);
    assert.deepEqual(
        checks.filter((c) => c[1].startsWith("storage: ")).map((c) => c[1]),
        ["storage: Pulumi stack", "storage: required config", "storage: stack file", "storage: SSH keys", "storage: libvirt"],
    );
    assert.equal(code, 0);
});

test("a tool that is there but cannot be run fails, with the system's reason", async (t) => {
    const w = worldFor(t);
    setUp(w);
    const { checks } = await doctor(w, ["-H", "storage"], [], (cmd) =>
        cmd === "jq" ? { code: 126, stdout: "", stderr: "Error: spawn jq EACCES" } : undefined,
    );
    assert.deepEqual(
        checks.find((c) => c[1] === "jq"),
        ["FAIL", "jq", "found but cannot be run (Error: spawn jq EACCES): needed for the host scripts"],
    );
    const silent = await doctor(w, ["-H", "storage"], [], (cmd) => (cmd === "jq" ? { code: 126, stdout: "", stderr: "" } : undefined));
    assert.deepEqual(
        silent.checks.find((c) => c[1] === "jq"),
        ["FAIL", "jq", "found but cannot be run (no reason given): needed for the host scripts"],
    );
});
