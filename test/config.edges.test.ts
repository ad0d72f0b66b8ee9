// Edges of the stack config a user meets by accident: an empty `name:`, `version:`, `baseImages:`
// or `baseImageSha512:` (YAML's null), a key pasted with spaces around it, a misspelt key near a
// known one or not, a missing or bad URL of a baseImages entry, values as Pulumi hands them on (the
// strings "true" and "false", a number as digits), and provider settings that are not strings.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULTS, parseConfig } from "../components/config";
import { config, KEY, problems } from "./support/configInput";

test("an entry written `name:` with nothing after it (null) is refused, named, not skipped", () => {
    assert.deepEqual(problems(config({ projects: [{ name: "myapp" }, { name: null, memory: 8192 }] })), [
        "project-vms:projects[1].name is required (the project name, e.g. myapp)",
    ]);
});

test("`baseImages:` with nothing after it (null) is unset: the default image", () => {
    const s = parseConfig(config({ baseImages: null }));
    assert.deepEqual(
        s.baseImages.map((b) => b.url),
        [DEFAULTS.baseImage],
    );
});

test("a baseImages entry without a url, or with a bad one, is named by its entry", () => {
    const debian = "https://cloud.debian.org/images/cloud/forky/a.qcow2";
    assert.deepEqual(problems(config({ baseImages: [{ version: "v1", url: debian }, { version: "v2" }, { version: "v3", url: null }] })), [
        "project-vms:baseImages[1].url is required",
        "project-vms:baseImages[2].url is required",
    ]);
    assert.deepEqual(
        problems(
            config({
                baseImages: [
                    { version: "v1", url: debian },
                    { version: "v2", url: "ftp://example.org/b.qcow2" },
                ],
            }),
        ),
        [
            'project-vms:baseImages[1].url must be an https:// URL or an absolute path (or file:///path) of a qcow2 image, got "ftp://example.org/b.qcow2"',
        ],
    );
});

test("an SSH key pasted with spaces around it is used without them", () => {
    const s = parseConfig(config({ sshPublicKeys: [`  ${KEY}  `, ` ${KEY.replace("admin", "other")}`] }));
    assert.deepEqual(s.sshPublicKeys, [KEY, KEY.replace("admin", "other")]);
});

test("a misspelt key gets a suggestion within two edits, and none from a longer word that ends like a key", () => {
    const one = (key: string) => problems(config({ projects: [{ name: "myapp", [key]: 1 }] }))[0];
    assert.match(one("memroy"), /projects\[0\]\.memroy is not a known key \(did you mean 'memory'\?\)/);
    assert.match(one("Memory"), /did you mean 'memory'\?/, "a key in another case");
    assert.match(one("cpu"), /did you mean 'cpus'\?/);
    // Three edits from `memory`, though it ends with it; `autostart` is not `restart`.
    assert.doesNotMatch(one("bigmemory"), /did you mean/);
    assert.doesNotMatch(one("restart"), /did you mean/);
});

test("a baseImages entry written `version:` with nothing after it is refused, named", () => {
    const debian = "https://cloud.debian.org/images/cloud/forky/a.qcow2";
    assert.deepEqual(problems(config({ baseImages: [{ version: null, url: debian }] })), [
        'project-vms:baseImages[0].version is required, e.g. "2026-11"',
    ]);
});

test("baseImageSha512 beside baseImages is refused (each image has its own); left empty, it is unset", () => {
    const debian = "https://cloud.debian.org/images/cloud/forky/a.qcow2";
    assert.deepEqual(problems(config({ baseImages: [{ version: "v1", url: debian }], baseImageSha512: "ab".repeat(64) })), [
        "project-vms:baseImageSha512 goes with baseImage; give each of baseImages its own sha512",
    ]);
    const settings = parseConfig(config({ baseImages: [{ version: "v1", url: debian }], baseImageSha512: null }));
    assert.deepEqual(
        settings.baseImages.map((b) => b.version),
        ["v1"],
        "`baseImageSha512:` left empty (null) is unset",
    );
});

test("a top-level boolean as Pulumi hands it (the string true or false) is that boolean", () => {
    assert.equal(parseConfig(config({ aptCheckValidUntil: "false" })).aptCheckValidUntil, false);
    assert.equal(parseConfig(config({ aptCheckValidUntil: "true" })).aptCheckValidUntil, true);
});

test("a memory out of range says MiB after a plain number, the MiB it came to after a size", () => {
    // Pulumi hands a top-level number on as a string of digits.
    assert.match(problems(config({ defaultMemory: "2000000" }))[0], /defaultMemory is "2000000" MiB; it must be between \d+ and \d+ MiB$/);
    assert.match(problems(config({ defaultMemory: "2000G" }))[0], /defaultMemory is "2000G" \(2048000 MiB\); it must be between/);
});

test("a Tailscale provider tailnet or API address that is not a string is refused, named", () => {
    assert.deepEqual(problems(config(), { tailnet: 5 }), ["tailscale:tailnet must be a string, got 5"]);
    assert.deepEqual(problems(config(), { baseUrl: ["https://api.tailscale.com"] }), [
        'tailscale:baseUrl must be a string, got ["https://api.tailscale.com"]',
    ]);
});

test("hostCapacity with only one of memory and cpus is refused, not ignored", () => {
    assert.deepEqual(problems(config({ hostCapacity: { cpus: 8 } })), [
        'project-vms:hostCapacity needs both memory (MiB) and cpus, got {"cpus":8}',
    ]);
    assert.deepEqual(problems(config({ hostCapacity: { memory: 8192 } })), [
        'project-vms:hostCapacity needs both memory (MiB) and cpus, got {"memory":8192}',
    ]);
});

test("a bad baseImage is reported once", () => {
    assert.deepEqual(problems(config({ baseImage: 5 })), [
        'project-vms:baseImage must be a string, got the number 5; quote it in the stack file: "5"',
    ]);
});

test("a network that is no mapping is named; a bridge beside a cidr alone is refused as beside a name", () => {
    assert.deepEqual(problems(config({ network: "nat" })), ['project-vms:network must be an object (a YAML mapping), got "nat"']);
    assert.deepEqual(problems(config({ network: { bridge: "br0", cidr: "10.1.0.0/24" } })), [
        "project-vms:network sets bridge together with name or cidr; a bridge is used as it is, so give only one",
    ]);
});

test("the host's capacity is checked over the sizes that were read: not over a bad default a project inherits", () => {
    assert.deepEqual(problems(config({ defaultCpus: "eight", hostCapacity: { memory: 1024, cpus: 1 } })), [
        'project-vms:defaultCpus must be a whole number, got "eight"',
    ]);
    const own = problems(
        config({ defaultCpus: "eight", hostCapacity: { memory: 65536, cpus: 1 }, projects: [{ name: "myapp", cpus: 2 }] }),
    );
    assert.equal(own.length, 2, own.join("\n"));
    assert.match(own[1], /^project-vms:hostCapacity is 1 vCPUs?, but the running projects need 2/);
});

test("a whole number is digits only: not hexadecimal, not a boolean", () => {
    assert.deepEqual(problems(config({ defaultCpus: "0x10" })), ['project-vms:defaultCpus must be a whole number, got "0x10"']);
    assert.deepEqual(problems(config({ defaultCpus: true })), ["project-vms:defaultCpus must be a whole number, got true"]);
    assert.equal(
        parseConfig(config({ defaultCpus: " 3 " })).projects[0].cpus,
        3,
        "digits with spaces around them, as a YAML scalar may be",
    );
});

test("a bad SSH key is shown whole up to 40 characters, and cut after 40", () => {
    assert.deepEqual(problems(config({ sshPublicKeys: ["x".repeat(40), "y".repeat(41)] })), [
        `project-vms:sshPublicKeys[0] is not '<type> <base64> [comment]': "${"x".repeat(40)}"`,
        `project-vms:sshPublicKeys[1] is not '<type> <base64> [comment]': "${"y".repeat(40)}..."`,
    ]);
});

test("a tailscale setting that is no mapping is its one problem: what depends on it is not checked against a guess", () => {
    assert.deepEqual(problems(config({ tailscale: "yes", projects: [{ name: "myapp", features: { tailscale: true } }] })), [
        'project-vms:tailscale must be an object (a YAML mapping), got "yes"',
    ]);
});
