// Where a project is found: its MAC address per host and project, and how that MAC reaches cloud-init.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { renderCloudInit } from "../components/cloudInit";
import { macCollisions, projectMac } from "../components/names";

test("a project's MAC is stable, QEMU-prefixed, and different on each host (stack)", () => {
    assert.equal(projectMac("storage", "myapp"), projectMac("storage", "myapp"), "the same across runs: a replaced domain keeps its lease");
    assert.match(projectMac("storage", "myapp"), /^52:54(:[0-9a-f]{2}){4}$/);
    assert.notEqual(projectMac("storage", "myapp"), projectMac("raider", "myapp"), "two hosts, one project name: two MACs");
    assert.notEqual(projectMac("storage", "myapp"), projectMac("storage", "webapp"));
    assert.notEqual(projectMac("a-b", "c"), projectMac("a", "b-c"), "stack and name are not run together");
    assert.throws(() => projectMac("", "myapp"), /needs a stack/);
    const macs = new Set<string>();
    for (const stack of ["storage", "raider", "dev"]) for (let i = 0; i < 1000; i++) macs.add(projectMac(stack, `p${i}`));
    assert.equal(macs.size, 3000);
    for (const mac of macs) assert.equal(parseInt(mac.slice(0, 2), 16) & 0b11, 0b10, `${mac}: locally administered unicast`);
});

test("macCollisions names two projects of a stack that derive the same MAC", () => {
    assert.deepEqual(macCollisions("storage", ["myapp", "webapp", "myapp"]), [], "a repeated name is config's to report, not a collision");
    const byMac = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
        const mac = projectMac("storage", `p${i}`);
        const other = byMac.get(mac);
        if (other) pair = [other, `p${i}`];
        else byMac.set(mac, `p${i}`);
    }
    const [problem, ...rest] = macCollisions("storage", ["x", ...pair]);
    assert.equal(rest.length, 0);
    assert.match(
        problem,
        new RegExp(
            `projects ${pair[0]} and ${pair[1]} derive the same MAC address \\(${projectMac("storage", pair[0])}\\) on stack storage`,
        ),
    );
});

/** The MAC as a YAML 1.1 reader (cloud-init's PyYAML) reads it back from the rendered network-config. */
function renderedMac(mac: string): unknown {
    const { networkConfig } = renderCloudInit({
        hostname: "project-myapp",
        mac,
        sshPublicKeys: [],
        features: { nix: false, tailscale: false, claudeCode: false },
        aptCheckValidUntil: true,
        prepared: false,
    });
    return parse(networkConfig, { version: "1.1" }).ethernets.primary.match.macaddress;
}

test("every MAC reaches network-config as a string: all-digit MACs are base-60 numbers in unquoted YAML 1.1", () => {
    assert.equal(typeof parse("m: 52:54:00:12:34:56", { version: "1.1" }).m, "number", "the trap this guards against");
    const misread = (m: string) => typeof parse(`m: ${m}`, { version: "1.1" }).m !== "string";
    const fixed = [
        "52:54:00:12:34:56",
        "52:54:00:00:00:00",
        "52:54:59:59:59:59",
        "52:54:10:20:30:40",
        "52:54:0e:10:10:10",
        "52:54:00:12:34:5e",
        "52:54:1e:10:00:00",
    ];
    const derived: string[] = [];
    for (const stack of ["storage", "raider"]) for (let i = 0; i < 1000; i++) derived.push(projectMac(stack, `project${i}`));
    assert.equal(fixed.filter(misread).length, 4, "the fixed sample holds MACs YAML 1.1 would misread");
    assert.ok(derived.some(misread), "so do derived ones (about 1 in 300)");
    for (const mac of [...fixed, ...derived]) assert.equal(renderedMac(mac), mac);
});
