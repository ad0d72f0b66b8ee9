// Where a project is found, at the edges: the files it has on the host, the name and login the CLI
// prints, the prepared layers and markers the host keeps, and MACs of names that are close.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Project } from "../components/config";
import {
    isPreparedOf,
    macCollisions,
    preparedMarkerName,
    preparedVolumeName,
    PROJECT_FILES,
    projectMac,
    projectPaths,
    sshCommand,
    tailnetFqdn,
} from "../components/names";

test("a project's files on the host: its folder under the storage folder, and the three files in it", () => {
    assert.deepEqual(projectPaths("/var/lib/project-vms", "webapp"), {
        dir: "/var/lib/project-vms/webapp",
        systemDisk: "/var/lib/project-vms/webapp/disk.qcow2",
        projectDisk: "/var/lib/project-vms/webapp/project.qcow2",
        cloudInit: "/var/lib/project-vms/webapp/cloud-init.iso",
    });
    assert.deepEqual(PROJECT_FILES, { systemDisk: "disk.qcow2", projectDisk: "project.qcow2", cloudInit: "cloud-init.iso" });
});

function project(tailscale: boolean): Project {
    return { name: "webapp", hostname: "project-webapp", features: { nix: false, tailscale, claudeCode: false } } as unknown as Project;
}

test("the tailnet name: only for a VM that joins a tailnet, and only when the tailnet is known", () => {
    assert.equal(tailnetFqdn(project(true), "bat-boa.ts.net"), "project-webapp.bat-boa.ts.net");
    assert.equal(tailnetFqdn(project(false), "bat-boa.ts.net"), undefined, "tailscale off: no tailnet name");
    assert.equal(tailnetFqdn(project(true), undefined), undefined, "tailnet unknown: no name to guess");
    assert.equal(tailnetFqdn(project(true), ""), undefined);
    assert.equal(tailnetFqdn(project(false), undefined), undefined);
});

test("the login command is ssh as the guest's user", () => {
    assert.equal(sshCommand("project-webapp.bat-boa.ts.net"), "ssh dev@project-webapp.bat-boa.ts.net");
    assert.equal(sshCommand("192.168.122.17"), "ssh dev@192.168.122.17");
});

test("a MAC needs both a stack and a name: either one missing is refused", () => {
    assert.throws(() => projectMac("storage", ""), /projectMac needs a stack and a project name, got \["storage",""\]/);
    assert.throws(() => projectMac("", "webapp"), /got \["","webapp"\]/);
    assert.throws(() => projectMac("", ""), /needs a stack/);
    // Bytes under 0x10 are written with two digits: six groups of two, always.
    const macs = Array.from({ length: 200 }, (_, i) => projectMac("storage", `n${i}`));
    assert.ok(
        macs.some((m) => /:0[0-9a-f]/.test(m.slice(5))),
        "the sample holds a byte under 0x10",
    );
    for (const m of macs) assert.match(m, /^52:54:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
});

test("macCollisions: no problems for distinct names, each colliding pair named once, for the stack given", () => {
    assert.deepEqual(macCollisions("storage", []), []);
    assert.deepEqual(macCollisions("storage", ["webapp", "myapp", "api"]), []);
    const byMac = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
        const mac = projectMac("raider", `q${i}`);
        const other = byMac.get(mac);
        if (other) pair = [other, `q${i}`];
        else byMac.set(mac, `q${i}`);
    }
    const [a, b] = pair;
    const problems = macCollisions("raider", [a, "webapp", b]);
    assert.deepEqual(problems, [
        `projects ${a} and ${b} derive the same MAC address (${projectMac("raider", a)}) on stack raider; rename one of them`,
    ]);
    assert.deepEqual(macCollisions("storage", [a, b]), [], "the same names on another host do not collide");
    // A third name on the same MAC collides with the first one seen.
    assert.equal(macCollisions("raider", [a, b, a]).length, 1, "a repeated name is not a second collision");
});

test("prepared layers: named after the base image, recognised only for that base and a 12-digit hash", () => {
    assert.equal(preparedVolumeName("debian-13.qcow2", "0123456789ab"), "debian-13-prepared-0123456789ab.qcow2");
    assert.equal(preparedVolumeName("debian-13", "0123456789ab"), "debian-13-prepared-0123456789ab.qcow2", "a base without .qcow2");
    assert.equal(
        preparedVolumeName("a.qcow2-b.qcow2", "0123456789ab"),
        "a.qcow2-b-prepared-0123456789ab.qcow2",
        "only the final .qcow2 goes",
    );
    assert.equal(preparedVolumeName("img.qcow2x", "0123456789ab"), "img.qcow2x-prepared-0123456789ab.qcow2");
    const layer = preparedVolumeName("debian-13.qcow2", "0123456789ab");
    assert.ok(isPreparedOf(layer, "debian-13.qcow2"));
    assert.ok(isPreparedOf(layer, "debian-13"), "the base named without .qcow2");
    const odd = preparedVolumeName("a.qcow2-b.qcow2", "0123456789ab");
    assert.ok(isPreparedOf(odd, "a.qcow2-b.qcow2"), "a base with .qcow2 inside its name: only the final one goes");
    assert.ok(!isPreparedOf(`my-${layer}`, "debian-13.qcow2"), "a base whose name ends like this one's is another base");
    assert.ok(!isPreparedOf(layer, "13.qcow2"), "nor is a base that is a suffix of this one's name");
    assert.ok(!isPreparedOf(preparedVolumeName("debian-13-slim.qcow2", "0123456789ab"), "debian-13.qcow2"));
    assert.ok(!isPreparedOf("debian-13-prepared-0123456789a.qcow2", "debian-13.qcow2"), "11 hex digits: one short");
    assert.ok(!isPreparedOf("debian-13-prepared-0123456789abc.qcow2", "debian-13.qcow2"), "13 hex digits: one past");
    assert.ok(!isPreparedOf("debian-13-prepared-0123456789AB.qcow2", "debian-13.qcow2"), "upper-case hex is not a hash the program makes");
    assert.ok(!isPreparedOf("debian-13-prepared-0123456789ab.qcow2.part", "debian-13.qcow2"), "a partial copy is not the layer");
    assert.ok(!isPreparedOf("debian-13-prepared-0123456789ab.done", "debian-13.qcow2"), "the marker is not the layer");
    assert.ok(!isPreparedOf("x-debian-13-prepared-0123456789ab.qcow2", "debian-13.qcow2"));
    assert.ok(!isPreparedOf("debian-13-prepared-0123456789abXqcow2", "debian-13.qcow2"), "the dot is a dot");
});

test("a prepared layer's marker: the layer's name with .done for .qcow2", () => {
    assert.equal(preparedMarkerName("debian-13-prepared-0123456789ab.qcow2"), "debian-13-prepared-0123456789ab.done");
    assert.equal(preparedMarkerName("a.qcow2-prepared-0123456789ab.qcow2"), "a.qcow2-prepared-0123456789ab.done", "only the final .qcow2");
    assert.equal(preparedMarkerName("layerXqcow2"), "layerXqcow2", "the dot is a dot");
});
