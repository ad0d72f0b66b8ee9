// The prepared layer's recipe and names: what the builder is given, what decides a new layer, and
// which layers a stack needs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { describe, test } from "node:test";
import Ajv04 from "ajv-draft-04";
import { parse } from "yaml";
import { CLOUD_INIT_DIR, GUEST_SCRIPT_DIR } from "../components/cloudInit";
import { Features } from "../components/config";
import { isPreparedOf, layerName, layersOf, preparedVolumeName, recipeKey, renderRecipe } from "../components/prepare";
import { systemDiskTrigger } from "../components/projectVm";
import { schemaValidator } from "./support/schemas";

const ALL: Features = { nix: true, tailscale: true, claudeCode: true };
const NONE: Features = { nix: false, tailscale: false, claudeCode: false };

describe("the builder's recipe", () => {
    test("installs the base packages and each feature's software, with no account, and carries the seal", () => {
        const { userData } = renderRecipe({ features: ALL, aptCheckValidUntil: true });
        assert.match(userData, /^#cloud-config\n/, "cloud-init takes user data for cloud-config only by this first line");
        const doc = parse(userData, { version: "1.1" });
        assert.deepEqual(doc.users, [], "no account: a project's first boot makes the developer's");
        assert.equal(doc.package_update, true);
        for (const p of ["docker.io", "git", "qemu-guest-agent", "xz-utils", "nodejs", "npm"]) assert.ok(doc.packages.includes(p), p);
        assert.equal(doc.runcmd[0], "set -e", "a failing install ends the script (and the build)");
        assert.deepEqual(
            doc.runcmd[1],
            ["systemctl", "start", "qemu-guest-agent.service"],
            "the agent first: the host waits for it, and udev saw its port before the package was there",
        );
        assert.deepEqual(
            doc.runcmd.slice(2).map((c: string[]) => path.basename(c[0])),
            ["nix-install.sh", "tailscale-install.sh", "claude-code.sh"],
        );
        const files = new Map<string, any>(doc.write_files.map((f: any) => [f.path, f]));
        assert.ok(files.has("/etc/project-vms/builder"), "the marker seal.sh requires");
        const seal = files.get(`${GUEST_SCRIPT_DIR}/seal.sh`);
        assert.equal(seal.encoding, "gz+b64");
        assert.equal(
            zlib.gunzipSync(Buffer.from(seal.content, "base64")).toString("utf8"),
            fs.readFileSync(path.join(CLOUD_INIT_DIR, "scripts", "seal.sh"), "utf8"),
        );
        assert.equal(files.get(`${GUEST_SCRIPT_DIR}/seal.sh`).permissions, "0755");
        assert.ok(
            !doc.runcmd.slice(1).some((c: string[]) => c[0].endsWith("seal.sh")),
            "sealing is the host's step, after cloud-init has finished",
        );
        const none = parse(renderRecipe({ features: NONE, aptCheckValidUntil: false }).userData, { version: "1.1" });
        assert.deepEqual(none.runcmd, ["set -e", ["systemctl", "start", "qemu-guest-agent.service"]]);
        assert.ok(!none.packages.includes("nodejs"));
        assert.match(none.apt.conf, /Check-Valid-Until "false"/);
    });

    test("validates against cloud-init's schema", (t) => {
        const validate = schemaValidator("cloud-init-schema-cloud-config-v1.json", new Ajv04({ strict: false, allErrors: true }), (r) =>
            t.skip(r),
        );
        if (!validate) return;
        for (const features of [ALL, NONE]) {
            const doc = parse(renderRecipe({ features, aptCheckValidUntil: false }).userData, { version: "1.1" });
            assert.ok(validate(doc), JSON.stringify(validate.errors));
        }
    });

    test("holds nothing of a stack or a project, and is the same for the same recipe", () => {
        const a = renderRecipe({ features: ALL, aptCheckValidUntil: true });
        assert.deepEqual(renderRecipe({ features: { ...ALL }, aptCheckValidUntil: true }), a, "pure: same recipe, same text, same hash");
        for (const s of ["ssh-ed25519", "ssh_authorized_keys", "tskey", "/home/dev", "hostname: project-"])
            assert.ok(!a.userData.includes(s), s);
        assert.match(a.instanceId, /^project-vms-builder-[0-9a-f]{12}$/);
        assert.equal(parse(a.metaData, { version: "1.1" })["instance-id"], a.instanceId);
    });

    test("a change of the recipe, of a feature or of a script it carries is a new layer", () => {
        const hash = renderRecipe({ features: ALL, aptCheckValidUntil: true }).hash;
        assert.notEqual(renderRecipe({ features: { ...ALL, nix: false }, aptCheckValidUntil: true }).hash, hash);
        assert.notEqual(renderRecipe({ features: ALL, aptCheckValidUntil: false }).hash, hash);
        const copy = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-recipe-"));
        try {
            fs.cpSync(CLOUD_INIT_DIR, copy, { recursive: true });
            fs.appendFileSync(path.join(copy, "scripts", "claude-code.sh"), "# changed\n");
            assert.notEqual(renderRecipe({ features: ALL, aptCheckValidUntil: true }, copy).hash, hash);
            assert.equal(
                renderRecipe({ features: { ...ALL, claudeCode: false }, aptCheckValidUntil: true }, copy).hash,
                renderRecipe({ features: { ...ALL, claudeCode: false }, aptCheckValidUntil: true }).hash,
                "a script the recipe does not carry changes nothing",
            );
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });
});

describe("layers and their names", () => {
    test("a layer is named after its base image and recipe hash, and known as that base's", () => {
        const name = preparedVolumeName("debian-testing-2026-11.qcow2", "0123456789ab");
        assert.equal(name, "debian-testing-2026-11-prepared-0123456789ab.qcow2");
        assert.ok(isPreparedOf(name, "debian-testing-2026-11.qcow2"));
        assert.ok(!isPreparedOf(name, "debian-testing-2026-1.qcow2"), "not a prefix match");
        assert.ok(!isPreparedOf("debian-testing-2026-11.qcow2", "debian-testing-2026-11.qcow2"));
        assert.ok(!isPreparedOf("debian-testing-2026-11-prepared-xyz.qcow2", "debian-testing-2026-11.qcow2"));
    });

    test("a stack needs one layer per base version and feature set its projects start on; none when prepare is off", () => {
        const projects = [
            { base: "2026-10", features: ALL },
            { features: ALL },
            { features: { ...ALL } },
            { features: { ...ALL, nix: false } },
        ];
        const uses = layersOf(projects, "2026-11", true, true);
        assert.deepEqual(uses.map(layerName), [
            "2026-10-nix+tailscale+claudeCode",
            "2026-11-nix+tailscale+claudeCode",
            "2026-11-tailscale+claudeCode",
        ]);
        assert.deepEqual(layersOf(projects, "2026-11", true, false), []);
        assert.equal(recipeKey(NONE), "none");
    });

    test("a system disk is rebuilt only when its entry's base changes", () => {
        const p = { base: undefined } as any;
        assert.equal(systemDiskTrigger(p), "unpinned");
        assert.equal(systemDiskTrigger({ ...p, base: "2026-11" }), "base:2026-11");
        assert.notEqual(systemDiskTrigger({ ...p, base: "2026-10" }), systemDiskTrigger({ ...p, base: "2026-11" }));
    });
});
