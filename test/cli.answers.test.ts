// What the CLI answers in its smaller cases: a prompt answered "y", a cancelled move, a reboot
// libvirt refuses, a stopped entry's ssh, doctor's plugin kinds and config check, and the texts
// made from what a guest, Pulumi's outputs or a missing program hand back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCloudInitStatus, pluginChecks } from "../cli/commands";
import { addressOrNull } from "../cli/commands/view";
import { LibvirtUnavailable } from "../cli/libvirt";
import { PulumiUnavailable } from "../cli/pulumi";
import { run } from "../cli/run";
import { worldFor } from "./support/cli";

test("ssh to a stopped VM starts it on a plain 'y', and says why it asks when its entry says running: false", async (t) => {
    const w = worldFor(t);
    w.host.define("project-datalab", { state: "shut off" });
    w.answers = ["y"];
    assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 0, w.errText());
    assert.equal(w.applies.length, 1, "started through the stack");
    w.answers = ["y"];
    assert.equal(await w.run("stop", "-H", "raider", "datalab"), 0, w.errText());
    assert.match(w.stackText("raider"), /running: false/);
    w.err.length = 0;
    w.answers = [undefined];
    assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 2);
    assert.match(w.errText(), /project-datalab is stopped \(running: false\); start it with /);
});

test("base move answered no changes nothing and says so", async (t) => {
    const w = worldFor(t);
    const { main } = await import("../cli/main");
    const deps = w.deps();
    deps.fetchText = async () => `${"ab".repeat(64)}  debian-14-genericcloud-amd64-20261201.qcow2\n`;
    const url = "https://cloud.debian.org/images/cloud/forky/20261201/debian-14-genericcloud-amd64-20261201.qcow2";
    assert.equal(await main(["-H", "storage", "base", "add", "2026-12", url], deps), 0, w.errText());
    const before = w.stackText("storage");
    const applies = w.applies.length;
    w.answers = ["n"];
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12"), 2);
    assert.match(w.errText(), /^project-vm: base move cancelled; nothing changed$/m);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, applies);
});

test("restart that libvirt refuses says which VM and libvirt's reason, and fails", async (t) => {
    const w = worldFor(t);
    w.host.define("project-myapp", { state: "running" });
    w.host.fails("reboot", "error: Failed to reboot domain 'project-myapp'");
    assert.equal(await w.run("restart", "-H", "storage", "myapp"), 1);
    assert.match(w.errText(), /^project-vm: could not reboot project-myapp: .*Failed to reboot domain 'project-myapp'/m);
});

test("doctor counts only resource plugins: a tool plugin of the same name and version is not the provider", () => {
    const ls = JSON.stringify([{ name: "command", kind: "tool", version: "1.2.1" }]);
    const [check] = pluginChecks(ls, new Map([["command", "1.2.1"]]));
    assert.equal(check.ok, false);
    assert.match(check.detail, /not installed: the program needs v1\.2\.1/);
});

test("doctor says a host's required config is all there", async (t) => {
    const w = worldFor(t);
    w.backendStacks = ["storage"];
    await w.run("-H", "storage", "doctor"); // it fails on the shipped file's sample key and missing credentials
    assert.ok(w.out.includes("ok    storage: required config: every key Pulumi.yaml requires is set"), w.out.join("\n"));
});

test("cloud-init's status that is not JSON is told by its first line: stderr's, else stdout's", () => {
    const said = (r: { code: number; stdout: string; stderr: string }) => {
        try {
            parseCloudInitStatus(r);
        } catch (e) {
            assert.ok(e instanceof LibvirtUnavailable);
            return e.message;
        }
        assert.fail("parsed");
    };
    assert.equal(
        said({ code: 127, stdout: "", stderr: "sh: cloud-init: not found\nmore" }),
        "cloud-init status said: sh: cloud-init: not found",
    );
    assert.equal(
        said({ code: 1, stdout: "Traceback (most recent call last):\n", stderr: "" }),
        "cloud-init status said: Traceback (most recent call last):",
    );
    assert.equal(said({ code: 2, stdout: "  \n", stderr: "" }), "cloud-init status said: nothing (exit 2)", "nothing said: its exit code");
});

test("an address output left empty is no address and no warning; one that is not an address is warned about", () => {
    const warnings: string[] = [];
    assert.equal(addressOrNull("", "myapp's ip", warnings), null);
    assert.deepEqual(warnings, []);
    assert.equal(addressOrNull("10.17.0.9; rm -rf /", "myapp's ip", warnings), null);
    assert.deepEqual(warnings, ['myapp\'s ip is not an IP address, left out: "10.17.0.9; rm -rf /"']);
});

test("a program that is not installed is said so by name (exit 127)", async () => {
    assert.deepEqual(await run("pvms-no-such-program", []), { code: 127, stdout: "", stderr: "pvms-no-such-program: not found" });
});

test("status asks an unreachable libvirt once, not again for each disk", async (t) => {
    const w = worldFor(t);
    w.host.down();
    w.host.clearCalls();
    assert.equal(await w.run("status", "-H", "storage", "myapp"), 0, w.errText());
    assert.deepEqual(
        w.host.calls().filter((c) => c.startsWith("vol-info")),
        [],
    );
});

test("destroy --purge answered with anything but the project's name changes nothing and says so", async (t) => {
    const w = worldFor(t);
    const before = w.stackText("storage");
    w.answers = ["webap"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge"), 2);
    assert.match(w.errText(), /^project-vm: destroy cancelled; nothing changed$/m);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("restart says how to see when the VM is back, with a command that works as printed", async (t) => {
    const w = worldFor(t);
    w.host.define("project-myapp", { state: "running" });
    assert.equal(await w.run("restart", "-H", "storage", "myapp"), 0, w.errText());
    const printed = w.printedCommands();
    assert.match(printed.join("\n"), / -H storage status myapp$/m);
    const line = printed.find((c) => / status myapp$/.test(c))!;
    assert.equal(await w.run(...line.split(" ").slice(1)), 0, w.errText());
    assert.ok(w.out.includes("project-myapp on storage"), w.out.join("\n"));
});

test("ssh-config gives the host PROJECT_VM_HOST picks, and every host when nothing picks one", async (t) => {
    const w = worldFor(t);
    w.env.PROJECT_VM_HOST = "raider";
    assert.equal(await w.run("ssh-config"), 0, w.errText());
    const picked = w.out.join("\n");
    assert.match(picked, /raider/);
    assert.doesNotMatch(picked, /storage/);
    delete w.env.PROJECT_VM_HOST;
    w.out.length = 0;
    assert.equal(await w.run("ssh-config"), 0, w.errText());
    assert.match(w.out.join("\n"), /storage[\s\S]*raider|raider[\s\S]*storage/);
});

test("use without a host prints the remembered one, or says there is none and how to remember one", async (t) => {
    const w = worldFor(t);
    w.env.XDG_CONFIG_HOME = w.dir;
    assert.equal(await w.run("use"), 0, w.errText());
    assert.deepEqual(w.out, [""]);
    assert.match(w.errText(), /^project-vm: no host remembered: 'project-vm use <host>' remembers one$/m);
    assert.equal(await w.run("use", "raider"), 0, w.errText());
    w.out.length = 0;
    w.err.length = 0;
    assert.equal(await w.run("use"), 0, w.errText());
    assert.deepEqual(w.out, ["raider"]);
    assert.equal(w.errText(), "");
});

test("a change whose pulumi up cannot be run says the file was changed and both ways on", async (t) => {
    const w = worldFor(t);
    const deps = w.deps();
    const pulumi = deps.pulumi;
    deps.pulumi = (dir) => ({
        ...pulumi(dir),
        up: async () => {
            throw new PulumiUnavailable("the Pulumi CLI (pulumi) is not installed or not on PATH");
        },
    });
    const { main } = await import("../cli/main");
    assert.equal(await main(["create", "-H", "storage", "newapp"], deps), 1);
    assert.match(
        w.errText(),
        /^project-vm: create newapp: \S+Pulumi\.storage\.yaml was changed, but it could not be applied: the Pulumi CLI \(pulumi\) is not installed or not on PATH\. Apply it later with 'project-vm -C \S+ -H storage apply', or undo the change with 'project-vm -C \S+ -H storage undo'\.$/m,
    );
});

test("base list says which VMs run on a version is unknown when Pulumi's state cannot be read", async (t) => {
    const w = worldFor(t);
    w.stateUnreadable = true;
    assert.equal(await w.run("-H", "storage", "base"), 0, w.errText());
    assert.match(w.errText(), /which VMs run on which version is unknown/);
    assert.ok(w.out.includes("  VMs:    ?"), w.out.join("\n"));
});

test("doctor without a Pulumi CLI does not go on to check the engine's other pieces through it", async (t) => {
    const w = worldFor(t);
    w.pulumiMissing = true;
    assert.equal(await w.run("doctor", "--json"), 1);
    const names = (JSON.parse(w.out.join("\n")).checks as { name: string }[]).map((c) => c.name);
    assert.ok(names.includes("pulumi"));
    assert.deepEqual(
        names.filter((n) => n === "pulumi-language-nodejs" || n.startsWith("plugin ")),
        [],
    );
});
