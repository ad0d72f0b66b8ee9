// Configuration validation as a pure function: what a user writes in a stack file and what they
// are told when it is wrong.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULTS, formatSize, parseConfig, parseSize, publicKeyProblem, rawConfig } from "../components/config";
import { config, KEY, problems } from "./support/configInput";

const RSA =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDGOq1z1f1Ab7Jf4c1mC0eKf4Rz1rjHq3bC3f0g3f2vUOLVtBq5m6vKqk1q1lS3l4xq8o8nWm3nq2dJ8g9x7YbC2d2j6d0m2Y8yq1nVxG9qG8j0n6q6jv1fWl1XyQJ0t4m1C3VnqR7a6WZ8d1H1o2m3b4z1y5Yb2Q== me@laptop";

describe("a valid config", () => {
    test("applies every default", () => {
        const s = parseConfig(config());
        assert.equal(s.libvirtUri, "qemu:///system");
        assert.equal(s.storageDir, "/var/lib/project-vms");
        assert.equal(s.baseImages.length, 1);
        assert.equal(s.baseImages[0].url, DEFAULTS.baseImage);
        assert.match(s.baseImages[0].version, /^url-[0-9a-f]{8}$/);
        assert.equal(s.baseImages[0].volume, `debian-testing-${s.baseImages[0].version}.qcow2`);
        assert.equal(s.systemDiskSize.bytes, 20 * 1024 ** 3);
        assert.deepEqual(s.network, { kind: "nat", name: "project-vms", cidr: "10.17.0.0/24" });
        assert.deepEqual(s.tailscale, { enabled: true, tailnet: "bat-boa.ts.net", tags: ["tag:project-vm"] });
        assert.equal(s.aptCheckValidUntil, true);
        const [p] = s.projects;
        assert.equal(p.hostname, "project-myapp");
        assert.equal(p.memory, 4096);
        assert.equal(p.cpus, 2);
        assert.equal(p.disk.bytes, 50 * 1024 ** 3);
        assert.equal(p.running, true);
        assert.equal(p.autostart, true);
        assert.deepEqual(p.features, { nix: true, tailscale: true, claudeCode: true });
    });

    test("takes the seed CLI's create <name> [memory] [cpus] [disk] as an entry", () => {
        const s = parseConfig(config({ projects: [{ name: "myapp", memory: 16384, cpus: 8, disk: "100G" }] }));
        assert.deepEqual(
            { memory: s.projects[0].memory, cpus: s.projects[0].cpus, disk: s.projects[0].disk.bytes },
            { memory: 16384, cpus: 8, disk: 100 * 1024 ** 3 },
        );
    });

    test("stack defaults apply to entries that do not set their own", () => {
        const s = parseConfig(
            config({ defaultMemory: 8192, defaultCpus: 4, defaultDisk: "200G", projects: [{ name: "a" }, { name: "b", cpus: 1 }] }),
        );
        assert.deepEqual(
            s.projects.map((p) => [p.memory, p.cpus, formatSize(p.disk.bytes)]),
            [
                [8192, 4, "200G"],
                [8192, 1, "200G"],
            ],
        );
    });

    test("reads values as the Pulumi CLI passes them (strings, JSON for lists and objects)", () => {
        const raw = rawConfig({
            "project-vms:libvirtUri": "qemu+ssh://admin@storage/system",
            "project-vms:defaultMemory": "8192",
            "project-vms:aptCheckValidUntil": "false",
            "project-vms:sshPublicKeys": JSON.stringify([KEY]),
            "project-vms:tailscale": JSON.stringify({ enabled: false }),
            "project-vms:projects": JSON.stringify([{ name: "webapp" }]),
            "tailscale:apiKey": "not ours",
        });
        const s = parseConfig(raw);
        assert.equal(s.libvirtUri, "qemu+ssh://admin@storage/system");
        assert.equal(s.projects[0].memory, 8192);
        assert.equal(s.aptCheckValidUntil, false);
        assert.equal(s.tailscale.enabled, false);
        assert.equal(s.projects[0].features.tailscale, false, "a stack without Tailscale gives projects without it");
    });

    test("network: an existing libvirt network or a host bridge instead of the program's own", () => {
        assert.deepEqual(parseConfig(config({ network: { name: "default" } })).network, { kind: "network", name: "default" });
        assert.deepEqual(parseConfig(config({ network: { bridge: "br0" } })).network, { kind: "bridge", bridge: "br0" });
        assert.deepEqual(parseConfig(config({ network: { cidr: "192.168.150.0/24" } })).network, {
            kind: "nat",
            name: "project-vms",
            cidr: "192.168.150.0/24",
        });
    });

    test("only the projects set to run count against the host's capacity", () => {
        const s = parseConfig(
            config({
                hostCapacity: { memory: 16384, cpus: 8 },
                projects: [
                    { name: "a", memory: 12288, cpus: 6 },
                    { name: "b", memory: 12288, cpus: 6, running: false },
                ],
            }),
        );
        assert.deepEqual(s.hostCapacity, { memory: 16384, cpus: 8 });
        assert.equal(s.projects[1].running, false);
    });

    test("projects keep their disk unless marked purge; VMs get 180 s to shut down", () => {
        const s = parseConfig(config({ projects: [{ name: "a" }, { name: "b", purge: true }] }));
        assert.deepEqual(
            s.projects.map((p) => p.purge),
            [false, true],
        );
        assert.equal(s.shutdownTimeout, 180);
    });

    test("base images: a new URL is a new version; versioned images, newest last; projects may pin one", () => {
        const a = parseConfig(config({ baseImage: "https://cloud.debian.org/images/cloud/forky/a.qcow2" })).baseImages[0].version;
        const b = parseConfig(config({ baseImage: "https://cloud.debian.org/images/cloud/forky/b.qcow2" })).baseImages[0].version;
        assert.notEqual(a, b, "changing baseImage adds a version instead of rewriting one");
        const s = parseConfig(
            config({
                baseImages: [
                    { version: "2026-10", url: "https://cloud.debian.org/images/cloud/forky/10.qcow2" },
                    { version: "2026-11", url: "https://cloud.debian.org/images/cloud/forky/11.qcow2" },
                ],
                projects: [{ name: "old", base: "2026-10" }, { name: "new" }],
            }),
        );
        assert.deepEqual(
            s.baseImages.map((i) => [i.version, i.volume]),
            [
                ["2026-10", "debian-testing-2026-10.qcow2"],
                ["2026-11", "debian-testing-2026-11.qcow2"],
            ],
        );
        assert.deepEqual(
            s.projects.map((p) => p.base),
            ["2026-10", undefined],
        );
    });

    test("a stack with no projects is valid (host resources only)", () => {
        assert.deepEqual(parseConfig(config({ projects: undefined })).projects, []);
    });

    test("a project name of 55 characters fits a 63-character hostname", () => {
        const name = "a".repeat(55);
        assert.equal(parseConfig(config({ projects: [{ name }] })).projects[0].hostname.length, 63);
    });
});

describe("sizes", () => {
    test("take K/M/G/T binary suffixes", () => {
        assert.equal(parseSize("100G")!.bytes, 100 * 1024 ** 3);
        assert.equal(parseSize("512M")!.bytes, 512 * 1024 ** 2);
        assert.equal(parseSize("2T")!.bytes, 2 * 1024 ** 4);
        assert.equal(parseSize("64k")!.bytes, 64 * 1024);
        assert.equal(parseSize("100GiB")!.bytes, 100 * 1024 ** 3);
    });
    test("refuse what is not a size", () => {
        for (const bad of ["100", "G", "1.5G", "-1G", "10X", "ten G", ""]) assert.equal(parseSize(bad), undefined, bad);
    });
});

describe("SSH public keys", () => {
    test("real keys pass", () => {
        assert.equal(publicKeyProblem(KEY), undefined);
        assert.equal(publicKeyProblem(RSA), undefined);
    });
    test("a blob whose embedded type differs from the declared one is refused", () => {
        assert.match(publicKeyProblem(KEY.replace("ssh-ed25519", "ssh-rsa"))!, /not a ssh-rsa key/);
        assert.match(publicKeyProblem("ssh-ed25519 AAAAC3Nz me@x")!, /not a ssh-ed25519 key/, "a truncated blob");
    });
});

describe("bad config: every problem named by key and value", () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ["uppercase project name", config({ projects: [{ name: "MyApp" }] }), /projects\[0\]\.name "MyApp" must be a DNS label/],
        ["underscore in name", config({ projects: [{ name: "my_app" }] }), /projects\[0\]\.name "my_app" must be a DNS label/],
        ["name ending in a hyphen", config({ projects: [{ name: "app-" }] }), /projects\[0\]\.name "app-"/],
        [
            "name too long for a hostname",
            config({ projects: [{ name: "a".repeat(56) }] }),
            /projects\[0\]\.name .* is 56 characters; at most 55/,
        ],
        ["reserved name", config({ projects: [{ name: "base" }] }), /projects\[0\]\.name "base" is reserved/],
        ["missing name", config({ projects: [{ memory: 4096 }] }), /projects\[0\]\.name is required/],
        [
            "duplicate names",
            config({ projects: [{ name: "app" }, { name: "app" }] }),
            /projects\[1\]\.name "app" is already used by projects\[0\]/,
        ],
        [
            "memory too small",
            config({ projects: [{ name: "app", memory: 256 }] }),
            /projects\[0\]\.memory is 256 MiB; it must be between 1024 and/,
        ],
        [
            "memory not a number",
            config({ projects: [{ name: "app", memory: "lots" }] }),
            /projects\[0\]\.memory must be MiB \(e\.g\. 8192\) or a size with a unit \(e\.g\. 8G\), got "lots"/,
        ],
        ["cpus zero", config({ projects: [{ name: "app", cpus: 0 }] }), /projects\[0\]\.cpus is 0; it must be between 1 and 256/],
        ["cpus fractional", config({ projects: [{ name: "app", cpus: 1.5 }] }), /projects\[0\]\.cpus must be a whole number, got 1.5/],
        [
            "disk without unit",
            config({ projects: [{ name: "app", disk: 100 }] }),
            /projects\[0\]\.disk must be a size .* got 100 \(a number needs a unit\)/,
        ],
        ["disk unparsable", config({ projects: [{ name: "app", disk: "100 gigs" }] }), /projects\[0\]\.disk must be a size/],
        [
            "disk too small",
            config({ projects: [{ name: "app", disk: "512M" }] }),
            /projects\[0\]\.disk is "512M"; it must be between 1G and/,
        ],
        ["system disk too small", config({ systemDiskSize: "4G" }), /systemDiskSize is "4G"; it must be between 8G and/],
        ["default memory too big", config({ defaultMemory: 4 * 1024 * 1024 }), /defaultMemory is 4194304 MiB/],
        ["no ssh keys", config({ sshPublicKeys: [] }), /sshPublicKeys must list at least one SSH public key/],
        ["ssh keys missing", config({ sshPublicKeys: undefined }), /sshPublicKeys must list at least one/],
        ["ssh keys not a list", config({ sshPublicKeys: KEY }), /sshPublicKeys must be a list/],
        [
            "malformed key",
            config({ sshPublicKeys: [KEY, "ssh-ed25519 not-base64!"] }),
            /sshPublicKeys\[1\] has a key blob that is not base64/,
        ],
        ["unknown key type", config({ sshPublicKeys: ["ssh-foo AAAA me"] }), /sshPublicKeys\[0\] has unknown key type "ssh-foo"/],
        ["private key pasted", config({ sshPublicKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] }), /sshPublicKeys\[0\] is a private key/],
        [
            "tailscale without tailnet",
            config({ tailscale: { enabled: true } }),
            /tailscale\.tailnet is required while tailscale\.enabled is true/,
        ],
        ["bad tailnet", config({ tailscale: { tailnet: "bat boa" } }), /tailscale\.tailnet must be the tailnet's DNS name/],
        [
            "bad tag",
            config({ tailscale: { tailnet: "bat-boa.ts.net", tags: ["project-vm"] } }),
            /tailscale\.tags\[0\] must be a tag like tag:project-vm, got "project-vm"|tailscale\.tags\[0\] must be a tag/,
        ],
        ["no tags", config({ tailscale: { tailnet: "bat-boa.ts.net", tags: [] } }), /tailscale\.tags must name at least one tag/],
        [
            "tailscale feature on a stack without tailscale",
            config({ tailscale: { enabled: false }, projects: [{ name: "app", features: { tailscale: true } }] }),
            /projects\[0\]\.features\.tailscale is true but tailscale\.enabled is false/,
        ],
        [
            "feature not a boolean",
            config({ projects: [{ name: "app", features: { nix: "yes please" } }] }),
            /projects\[0\]\.features\.nix must be true or false/,
        ],
        [
            "unknown feature",
            config({ projects: [{ name: "app", features: { docker: false } }] }),
            /projects\[0\]\.features\.docker is not a known key/,
        ],
        [
            "typo in a project key",
            config({ projects: [{ name: "app", memmory: 8192 }] }),
            /projects\[0\]\.memmory is not a known key \(did you mean 'memory'\?\)/,
        ],
        [
            "typo in a stack key",
            config({ sshPublicKey: [KEY] }),
            /project-vms:sshPublicKey is not a known key \(did you mean 'sshPublicKeys'\?\)/,
        ],
        ["projects not a list", config({ projects: { name: "app" } }), /projects must be a list/],
        ["project entry not an object", config({ projects: ["app"] }), /projects\[0\] must be an object/],
        ["relative storageDir", config({ storageDir: "vms" }), /storageDir "vms" must be an absolute path/],
        ["bad libvirt URI", config({ libvirtUri: "storage" }), /libvirtUri must be qemu:\/\/\/system, .*got "storage"/],
        ["bad base image", config({ baseImage: "debian.qcow2" }), /baseImage must be an https:\/\/ URL or an absolute path/],
        ["bad CIDR", config({ network: { cidr: "10.17.0.0/33" } }), /network\.cidr "10\.17\.0\.0\/33" must be an IPv4 CIDR/],
        [
            "bridge and network together",
            config({ network: { bridge: "br0", name: "default" } }),
            /network sets bridge together with name or cidr/,
        ],
        [
            "own network named beyond an interface name",
            config({ network: { name: "project-vms-network", cidr: "10.18.0.0/24" } }),
            /network\.name names the program's own NAT network and its bridge, so it must be a Linux interface name \(at most 15 characters\)/,
        ],
        [
            "purge not a boolean",
            config({ projects: [{ name: "app", purge: "yes" }] }),
            /projects\[0\]\.purge must be true or false, got "yes"/,
        ],
        ["ready timeout too long", config({ readyTimeout: 99999 }), /readyTimeout is 99999 seconds; it must be between 60 and 14400/],
        ["shutdown timeout too short", config({ shutdownTimeout: 1 }), /shutdownTimeout is 1 seconds; it must be between 10 and 3600/],
        ["host capacity incomplete", config({ hostCapacity: { memory: 65536 } }), /hostCapacity needs both memory \(MiB\) and cpus/],
        [
            "host capacity exceeded",
            config({
                hostCapacity: { memory: 8192, cpus: 16 },
                projects: [
                    { name: "a", memory: 8192 },
                    { name: "b", memory: 4096 },
                ],
            }),
            /hostCapacity is 8192 MiB of memory, but the running projects need 12288 MiB \(a 8192 MiB\/2 vCPUs, b 4096 MiB\/2 vCPUs\)/,
        ],
        [
            "host cpus exceeded",
            config({
                hostCapacity: { memory: 65536, cpus: 4 },
                projects: [
                    { name: "a", cpus: 4 },
                    { name: "b", cpus: 2 },
                ],
            }),
            /hostCapacity is 4 vCPUs, but the running projects need 6/,
        ],
        [
            "unknown base version",
            config({ projects: [{ name: "app", base: "2020-01" }] }),
            /projects\[0\]\.base "2020-01" is not a base image version; known: url-/,
        ],
        [
            "both baseImage and baseImages",
            config({
                baseImage: "https://cloud.debian.org/images/cloud/forky/a.qcow2",
                baseImages: [{ version: "v1", url: "https://cloud.debian.org/images/cloud/forky/b.qcow2" }],
            }),
            /baseImage is set together with baseImages/,
        ],
        [
            "duplicate base version",
            config({
                baseImages: [
                    { version: "v1", url: "https://cloud.debian.org/images/cloud/forky/a.qcow2" },
                    { version: "v1", url: "https://cloud.debian.org/images/cloud/forky/b.qcow2" },
                ],
            }),
            /baseImages\[1\]\.version "v1" is listed twice/,
        ],
        // Its image would be named like a layer of version 2026-11: base prune of 2026-11 deleted it once.
        [
            "base version named like a layer",
            config({
                baseImages: [
                    { version: "2026-11", url: "https://cloud.debian.org/images/cloud/forky/a.qcow2" },
                    { version: "2026-11-prepared-0123456789ab", url: "https://cloud.debian.org/images/cloud/forky/b.qcow2" },
                ],
            }),
            /baseImages\[1\]\.version must not end like a prepared layer's name \(-prepared-<12 hex digits>\), got "2026-11-prepared-0123456789ab"/,
        ],
        [
            "bad base version",
            config({ baseImages: [{ version: "Nov 2026", url: "https://cloud.debian.org/images/cloud/forky/a.qcow2" }] }),
            /baseImages\[0\]\.version must be lowercase letters/,
        ],
        ["empty baseImages", config({ baseImages: [] }), /baseImages must list at least one/],
        [
            "running not a boolean",
            config({ projects: [{ name: "app", running: "maybe" }] }),
            /projects\[0\]\.running must be true or false, got "maybe"/,
        ],
    ];
    for (const [what, raw, expected] of cases) {
        test(what, () => {
            const found = problems(raw);
            assert.ok(
                found.some((p) => expected.test(p)),
                `none of\n  ${found.join("\n  ")}\nmatches ${expected}`,
            );
            for (const p of found) assert.match(p, /^project-vms:/, "every message names its key");
        });
    }

    test("finds every problem in one pass", () => {
        const found = problems({
            sshPublicKeys: [],
            tailscale: { tailnet: "no dots" },
            projects: [{ name: "Bad" }, { name: "ok", memory: 1 }, { name: "ok" }],
            systemDiskSize: "1G",
        });
        for (const key of [
            "sshPublicKeys",
            "tailscale.tailnet",
            "projects[0].name",
            "projects[1].memory",
            "projects[2].name",
            "systemDiskSize",
        ]) {
            assert.ok(
                found.some((p) => p.startsWith(`project-vms:${key} `)),
                `no problem reported for ${key}: ${found.join(" | ")}`,
            );
        }
    });

    test("the error message lists the problems for the user, one per line", () => {
        try {
            parseConfig(config({ projects: [{ name: "A" }, { name: "b", cpus: 0 }] }));
            assert.fail("no error");
        } catch (e) {
            assert.match(
                (e as Error).message,
                /^The stack's configuration has 2 problems:\n {2}- project-vms:projects\[0\]\.name .*\n {2}- project-vms:projects\[1\]\.cpus /,
            );
        }
    });
});

test("memory takes one grammar in the stack file and the CLI: MiB, or a size with a unit", async () => {
    const { parseMemory } = await import("../cli/commands");
    for (const [v, mib] of [
        [8192, 8192],
        ["8192", 8192],
        ["8G", 8192],
        ["1536M", 1536],
        ["1T", 1024 * 1024],
    ] as const) {
        const s = parseConfig(
            config({
                defaultMemory: v,
                hostCapacity: { memory: v === "1T" ? "2T" : "64G", cpus: 64 },
                projects: [{ name: "app", memory: v }],
            }),
        );
        assert.equal(s.projects[0].memory, mib, `memory: ${v}`);
        assert.equal(parseMemory(String(v)), mib, `project-vm … ${v}`);
    }
    assert.throws(
        () => parseConfig(config({ projects: [{ name: "app", memory: "1536K" }] })),
        /projects\[0\]\.memory must be MiB .*got "1536K"/,
    );
    assert.throws(
        () => parseConfig(config({ projects: [{ name: "app", memory: "512M" }] })),
        /projects\[0\]\.memory is "512M" \(512 MiB\); it must be between 1024 and 1048576 MiB/,
    );
});

test("backups: a key of the stack like any other, defaults applied, bad values named", () => {
    const s = parseConfig(config({}));
    assert.deepEqual(s.backups, { dir: "/var/lib/project-vms/_backups", keepDaily: 7, keepWeekly: 4, keepLast: 3, fullEvery: 7 });
    assert.equal(parseConfig(config({ backups: { dir: "/mnt/nas/vm-backups", keepDaily: 14 } })).backups.dir, "/mnt/nas/vm-backups");
    assert.throws(() => parseConfig(config({ backups: { dir: "relative/x" } })), /project-vms:backups\.dir/);
    assert.throws(
        () => parseConfig(config({ backups: { keepDialy: 3 } })),
        /project-vms:backups\.keepDialy is not a known key \(did you mean .keepDaily.\?\)/,
    );
});
