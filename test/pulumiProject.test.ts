// Pulumi.yaml and the stack files as the Pulumi CLI will load them.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { CONFIG_KEYS, DEFAULTS, NAMESPACE, parseConfig, rawConfig } from "../components/config";
import { REPO, schemaValidator } from "./support/schemas";
import { stackConfig, stackFile } from "./support/stack";

const project: Record<string, any> = parse(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8"));

test("Pulumi.yaml passes the schema the Pulumi CLI checks it against", (t) => {
    const validate = schemaValidator("pulumi-project.json", new Ajv2020({ strict: false, allErrors: true }), (r) => t.skip(r));
    if (!validate) return;
    assert.ok(validate(project), JSON.stringify(validate.errors, null, 1));
    // Not a rubber stamp: an object-typed declaration is what the CLI refuses.
    assert.equal(validate({ ...project, config: { projects: { type: "object" } } }), false);
});

test("Pulumi.yaml names the project, its runtime and entry point", () => {
    assert.equal(project.name, NAMESPACE);
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.main, "index.ts");
});

test("every declared key is one the program reads, documented, with the program's default", () => {
    for (const [key, decl] of Object.entries<any>(project.config)) {
        assert.ok((CONFIG_KEYS as readonly string[]).includes(key), `${key} is read by the program`);
        assert.ok(decl.description?.length > 20, `${key} has a description`);
    }
    for (const [key, decl] of Object.entries<any>(project.config)) {
        assert.deepEqual(decl.default, (DEFAULTS as Record<string, unknown>)[key], `${key}'s default is the program's`);
    }
    assert.ok(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8").includes(DEFAULTS.baseImage), "the default URL is documented");
    assert.equal(project.config.sshPublicKeys.default, undefined, "sshPublicKeys is required");
});

test("a key declared without a default is one the program requires: Pulumi refuses a stack without it", () => {
    // Pulumi treats a declared key without a default as required and will not even preview a stack
    // that lacks it (the shipped stacks once could not be previewed: baseImage was declared so).
    const required = Object.entries<any>(project.config)
        .filter(([, decl]) => decl.default === undefined)
        .map(([key]) => key);
    assert.deepEqual(required, ["sshPublicKeys"]);
    const settings = { ...stackConfig("storage") };
    delete settings[`${NAMESPACE}:sshPublicKeys`];
    assert.throws(() => parseConfig(rawConfig(settings)), /sshPublicKeys/);
    for (const key of ["baseImage", "baseImageSha512", "baseImages", "projects", "tailscale", "network", "hostCapacity"]) {
        assert.ok(!(key in project.config), `${key} is optional, so undeclared`);
    }
});

for (const stack of ["storage", "raider"]) {
    test(`Pulumi.${stack}.yaml sets only known keys and is a valid config`, () => {
        for (const key of Object.keys(stackFile(stack))) {
            const [ns, name] = key.split(":");
            if (ns === NAMESPACE) assert.ok((CONFIG_KEYS as readonly string[]).includes(name), `${key} is read by the program`);
            else assert.equal(ns, "tailscale", `${key}: only the Tailscale provider's own keys besides ours`);
        }
        const s = parseConfig(rawConfig(stackConfig(stack)));
        assert.ok(s.projects.length >= 2);
        assert.equal(s.libvirtUri, `qemu+ssh://admin@${stack}/system`);
    });
}
