// The CLI's commands against a stand-in Pulumi, virsh and terminal (these machines have no Pulumi
// CLI): what each command applies and in which order, what it prints, how it degrades, its exit codes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { ownSshKey, World } from "./support/cli";
import { REPO } from "./support/schemas";
import { requireTool } from "./support/tools";

function world(t: { after(fn: () => void): void }): World {
    const w = new World();
    t.after(() => w.cleanup());
    return w;
}

const entry = (projects: Record<string, any>[], name: string) => projects.find((p) => p.name === name);

test("create applies the new entry and prints how to log in", async (t) => {
    const w = world(t);
    assert.equal(await w.run("create", "-H", "storage", "newproj"), 0, w.errText());
    assert.deepEqual(
        w.applies.map((a) => [a.host, entry(a.projects, "newproj")]),
        [["storage", { name: "newproj" }]],
    );
    assert.deepEqual(w.out, ["ssh dev@project-newproj.bat-boa.ts.net"]);
    assert.match(w.errText(), /project-newproj is ready; its work lives on \/home\/dev\/project/);
});

test("create without the tailnet prints the login by the address the stack outputs", async (t) => {
    const w = world(t);
    w.outputs.storage = { newproj: { ip: "10.17.0.23", ssh: "ssh dev@10.17.0.23" } };
    assert.equal(await w.run("create", "-H", "storage", "newproj", "--no-tailscale"), 0, w.errText());
    assert.deepEqual(entry(w.applies[0].projects, "newproj"), { name: "newproj", features: { tailscale: false } });
    assert.deepEqual(w.out, ["ssh dev@10.17.0.23"]);
});

test("create over a project disk kept from an earlier project of that name takes it up at its size", async (t) => {
    const w = world(t);
    w.host.volume("project-oldapp", "project.qcow2", 200 * 1024 ** 3, 30 * 1024 ** 3);
    assert.equal(await w.run("create", "-H", "storage", "oldapp"), 0, w.errText());
    assert.deepEqual(
        entry(w.applies[0].projects, "oldapp"),
        { name: "oldapp", disk: "200G" },
        "not the 50G default, which the grow step would refuse",
    );
    assert.match(
        w.errText(),
        /oldapp takes up the project disk kept on storage: \/var\/lib\/project-vms\/oldapp\/project\.qcow2 \(200G, 30\.0G used\)/,
    );

    const x = world(t);
    x.host.volume("project-oldapp", "project.qcow2", 200 * 1024 ** 3, 30 * 1024 ** 3);
    const before = x.stackText("storage");
    assert.equal(await x.run("create", "-H", "storage", "oldapp", "4G", "2", "100G"), 2);
    assert.match(
        x.errText(),
        /a project disk kept from an earlier 'oldapp' is on host storage .*so its disk cannot be 100G: give 200G or more, or leave the size out/,
    );
    assert.equal(x.stackText("storage"), before);
    assert.equal(await x.run("create", "-H", "storage", "oldapp", "4G", "2", "300G"), 0, x.errText());
    assert.equal(entry(x.applies[0].projects, "oldapp")?.disk, "300G", "a bigger size grows it");
});

test("a failed apply is reported with what the stack file now holds and the ways on", async (t) => {
    const w = world(t);
    w.upCodes = [255];
    assert.equal(await w.run("create", "-H", "storage", "newproj", "8G"), 1);
    assert.match(w.errText(), /create newproj: pulumi up --stack storage failed \(exit 255\); .*Pulumi\.storage\.yaml keeps the change/);
    assert.ok(entry(parse(w.stackText("storage")).config["project-vms:projects"], "newproj"), "the entry stays, as reported");
    assert.deepEqual(w.out, [], "no login is printed for a VM that is not there");
    const [retry, undo] = w.printedCommands();
    assert.equal(retry, `project-vm -C ${w.dir} -H storage apply`);
    assert.equal(undo, `project-vm -C ${w.dir} -H storage undo`);
    assert.equal(await w.paste(retry), 0, w.errText());
    assert.equal(w.applies.length, 2, "the retry applied the file as it is");
});

test("undo after a failed change puts the stack file back byte for byte and applies it", async (t) => {
    const w = world(t);
    const before = w.stackText("storage");
    w.upCodes = [1];
    assert.equal(await w.run("destroy", "-H", "storage", "myapp", "--yes"), 1);
    assert.doesNotMatch(w.stackText("storage"), /name: myapp/);
    const undo = w.printedCommands().find((c) => c.endsWith(" undo"))!;
    assert.equal(await w.paste(undo), 0, w.errText());
    assert.equal(w.stackText("storage"), before, "memory, cpus, disk and the entry's comment are back");
    assert.equal(w.applies.length, 2);
    assert.match(w.errText(), /'destroy myapp' is undone/);
    assert.equal(await w.run("undo", "-H", "storage"), 2, "one step only");
    assert.match(w.errText(), /there is no project-vm change of Pulumi\.storage\.yaml to undo/);
});

test("undo refuses when the file was changed after project-vm's change", async (t) => {
    const w = world(t);
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    const edited = `${w.stackText("storage")}# a later hand edit\n`;
    w.writeStack("storage", edited);
    assert.equal(await w.run("undo", "-H", "storage"), 2);
    assert.match(w.errText(), /Pulumi\.storage\.yaml has changed since 'stop webapp' .*undoing it would lose that/);
    assert.equal(w.stackText("storage"), edited);
});

test("without the Pulumi CLI (or with one too old) a change is refused before anything is written", async (t) => {
    const w = world(t);
    const before = w.stackText("storage");
    w.pulumiMissing = true;
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 2);
    assert.match(w.errText(), /the Pulumi CLI \(pulumi\) is not installed or not on PATH; nothing changed/);
    w.pulumiMissing = false;
    w.pulumiVersion = "v3.206.9";
    assert.equal(await w.run("create", "-H", "storage", "demo"), 2);
    assert.match(w.errText(), /the Pulumi CLI is v3\.206\.9; this program needs v3\.207\.0 or newer/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("stop on a stopped project, start on a running one, resize to the same size: said, and no pulumi up", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", { state: "running" });
    assert.equal(await w.run("start", "-H", "storage", "myapp"), 0, w.errText());
    assert.match(w.errText(), /myapp is already running; nothing to do/);
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "--memory", "16G", "--cpus", "8", "--disk", "100G"), 0, w.errText());
    assert.match(w.errText(), /myapp already has 16384 MiB, 8 vCPUs and a 100G project disk; nothing to do/);
    assert.equal(w.applies.length, 0);
    // The entry says running, the VM is off (crashed, or stopped by hand): start sets it right.
    w.host.define("project-myapp", { state: "shut off" });
    assert.equal(await w.run("start", "-H", "storage", "myapp"), 0, w.errText());
    assert.match(w.errText(), /myapp's entry already says running, but its VM is shut off: applying the stack/);
    assert.equal(w.applies.length, 1);
});

test("resize checks the new values before it says or asks anything", async (t) => {
    const w = world(t);
    const before = w.stackText("storage");
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "--memory", "0"), 2);
    assert.doesNotMatch(w.errText(), /is shut down/);
    assert.match(w.errText(), /projects\[0\]\.memory/);
    assert.equal(w.stackText("storage"), before);
});

test("stop and start apply running false and back", async (t) => {
    const w = world(t);
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 0, w.errText());
    assert.equal(await w.run("start", "-H", "storage", "webapp"), 0, w.errText());
    assert.deepEqual(
        w.applies.map((a) => entry(a.projects, "webapp")),
        [{ name: "webapp", running: false }, { name: "webapp" }],
    );
});

test("destroy asks first; with no terminal it needs --yes and changes nothing", async (t) => {
    const w = world(t);
    const before = w.stackText("storage");
    w.answers = [undefined];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp"), 2);
    assert.match(w.errText(), /there is no terminal to ask on; give --yes to confirm/);
    w.answers = ["n"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp"), 2);
    assert.match(w.errText(), /destroy cancelled; nothing changed/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
    w.answers = ["y"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp"), 0, w.errText());
    assert.equal(w.applies.length, 1);
});

test("destroy says what it deletes and what it keeps before it asks, and --purge that the work is gone for good", async (t) => {
    const w = world(t);
    w.answers = ["n"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp"), 2);
    assert.equal(
        w.err[0],
        "project-vm: this deletes the VM project-webapp on storage (its system disk: what is installed outside /home/dev/project). " +
            "The project disk /var/lib/project-vms/webapp/project.qcow2 is kept.",
        "said before the question, also when the answer is no",
    );
    w.err.length = 0;
    w.answers = ["no"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge"), 2);
    assert.equal(
        w.err[0],
        "project-vm: this deletes project-webapp AND its project disk /var/lib/project-vms/webapp/project.qcow2 on storage: " +
            "the work in /home/dev/project is gone for good.",
    );
    assert.equal(w.applies.length, 0);
});

test("destroy removes the entry in one apply and keeps the project disk", async (t) => {
    const w = world(t);
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--yes"), 0, w.errText());
    assert.deepEqual(
        w.applies.map((a) => a.projects.map((p) => p.name)),
        [["myapp"]],
    );
    assert.match(
        w.errText(),
        /its project disk stays at \/var\/lib\/project-vms\/webapp\/project\.qcow2 on storage, and 'project-vm -C \S+ -H storage create webapp' takes it up again/,
    );
});

test("destroy --purge marks the entry purge and stopped, applies, then removes it and applies again", async (t) => {
    const w = world(t);
    w.answers = ["webapp"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge"), 0, w.errText());
    assert.match(w.asked[0], /Type the project name \(webapp\) to delete it with its disk/);
    assert.deepEqual(
        w.applies.map((a) => entry(a.projects, "webapp")),
        [{ name: "webapp", purge: true, running: false }, undefined],
    );
    assert.match(w.errText(), /webapp and its project disk are gone/);
});

test("destroy --purge is refused unless the name is typed, or --yes given", async (t) => {
    const w = world(t);
    const before = w.stackText("storage");
    w.answers = ["yes"];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge"), 2);
    w.answers = [undefined];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge"), 2);
    assert.match(w.errText(), /destroy --purge deletes the project disk of webapp; there is no terminal to confirm on: give --yes/);
    assert.equal(w.stackText("storage"), before);
    assert.equal(w.applies.length, 0);
});

test("destroy --purge stops after a failed first apply, leaving the entry marked", async (t) => {
    const w = world(t);
    w.upCodes = [1];
    assert.equal(await w.run("destroy", "-H", "storage", "webapp", "--purge", "--yes"), 1);
    assert.equal(w.applies.length, 1, "the entry is not removed while its purge is not applied");
    assert.deepEqual(entry(parse(w.stackText("storage")).config["project-vms:projects"], "webapp"), {
        name: "webapp",
        purge: true,
        running: false,
    });
    assert.match(w.errText(), /step 1 of 2/);
});

test("resize: the disk grows in place; new memory restarts the VM, so it asks", async (t) => {
    const w = world(t);
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "--disk", "150G"), 0, w.errText());
    assert.match(w.errText(), /a 150G project disk \(its filesystem grows at the VM's next boot\)/);
    w.answers = [undefined];
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-m", "24G"), 2);
    assert.match(w.errText(), /Restart project-myapp now\? — there is no terminal to ask on; give --yes/);
    assert.equal(await w.run("resize", "-H", "storage", "myapp", "-m", "24G", "-c", "6", "--yes"), 0, w.errText());
    assert.deepEqual(
        w.applies.map((a) => entry(a.projects, "myapp")),
        [
            { name: "myapp", memory: 16384, cpus: 8, disk: "150G" },
            { name: "myapp", memory: 24576, cpus: 6, disk: "150G" },
        ],
    );
    assert.equal(await w.run("resize", "-H", "storage", "myapp"), 2);
    assert.match(w.errText(), /resize needs at least one of --memory, --cpus, --disk/);
});

test("ssh logs in as dev over the tailnet with the arguments after --, and returns ssh's exit code", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", { state: "running" });
    w.interactiveCode = 130;
    assert.equal(await w.run("ssh", "-H", "storage", "myapp", "--", "-L", "8080:localhost:8080", "uptime"), 130);
    assert.deepEqual(w.interactive, [{ cmd: "ssh", args: ["dev@project-myapp.bat-boa.ts.net", "-L", "8080:localhost:8080", "uptime"] }]);
    assert.deepEqual(w.asked, []);
});

test("ssh to a project off the tailnet uses its address from the outputs, else libvirt's lease", async (t) => {
    const w = world(t);
    w.host.define("project-sandbox", { state: "running", ip: "10.17.0.44" });
    assert.equal(await w.run("ssh", "-H", "raider", "sandbox"), 0, w.errText());
    w.outputs.raider = { sandbox: { ip: "10.17.0.45" } };
    assert.equal(await w.run("ssh", "-H", "raider", "sandbox"), 0, w.errText());
    assert.deepEqual(
        w.interactive.map((i) => i.args),
        [["dev@10.17.0.44"], ["dev@10.17.0.45"]],
    );
});

test("ssh offers to start a stopped VM; without a terminal it says how", async (t) => {
    const w = world(t);
    w.host.define("project-datalab", { state: "shut off" });
    w.answers = [undefined];
    assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 2);
    assert.match(
        w.errText(),
        /project-datalab is shut off; start it with 'project-vm -C \S+ -H raider start datalab' or 'project-vm -C \S+ -H raider ssh --start datalab'/,
    );
    w.answers = ["n"];
    assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 1);
    assert.equal(w.applies.length, 0);
    w.answers = [""];
    assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 0, w.errText());
    assert.equal(await w.run("ssh", "-H", "raider", "datalab", "--start"), 0, w.errText());
    assert.equal(w.applies.length, 2, "each yes starts it through the stack");
    assert.equal(w.interactive.length, 2);
});

test("list shows every host's projects with wanted and live state and addresses", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", { state: "running" });
    w.host.define("project-webapp", { state: "shut off" });
    w.host.define("project-sandbox", { state: "running" });
    w.outputs.raider = { sandbox: { ip: "10.17.0.45" } };
    assert.equal(await w.run("list", "--all"), 0, w.errText());
    assert.deepEqual(w.out, [
        "HOST     NAME     STATE                     MEMORY  CPUS  DISK  ADDRESS",
        "raider   datalab  absent (wants running)    32768M  8     500G  project-datalab.bat-boa.ts.net",
        "raider   sandbox  running                   8192M   4     100G  10.17.0.45",
        "storage  myapp    running                   16384M  8     100G  project-myapp.bat-boa.ts.net",
        "storage  webapp   shut off (wants running)  4096M   2     50G   project-webapp.bat-boa.ts.net",
    ]);
    assert.deepEqual(w.err, [`project-vm: Pulumi.raider.yaml, Pulumi.storage.yaml in ${w.dir}`], "which files were read, and no warning");
});

test("list works without Pulumi and libvirt, from the stack files, and says what it could not see", async (t) => {
    const w = world(t);
    w.pulumiMissing = true;
    w.host.down();
    assert.equal(await w.run("list", "-H", "storage"), 0, w.errText());
    assert.equal(w.out.length, 3);
    assert.match(w.out[1], /^storage\s+myapp\s+\? \(wants running\)\s+16384M/, "the wanted state shows while the live one is unknown");
    assert.match(w.errText(), /storage: no stack outputs \(the Pulumi CLI \(pulumi\) is not installed or not on PATH\)/);
    assert.match(
        w.errText(),
        /storage: libvirt at qemu\+ssh:\/\/admin@storage\/system cannot be reached: Cannot recv data: Connection reset by peer; the VMs' live state is unknown/,
    );
});

test("list of a stack file with problems still names its projects", async (t) => {
    const w = world(t);
    w.writeStack("storage", w.stackText("storage").replace("cpus: 8", "cpus: eight"));
    assert.equal(await w.run("list", "-H", "storage", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.deepEqual(
        json.projects.map((p: any) => [p.name, p.desired, p.memory]),
        [
            ["myapp", null, null],
            ["webapp", null, null],
        ],
    );
    assert.match(
        json.warnings[0],
        /storage: the stack file has problems, so only the project names are shown \(project-vms:projects\[0\]\.cpus must be a whole number/,
    );
});

test("list --json and -q: their shapes", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", { state: "running", ip: "10.17.0.10" });
    assert.equal(await w.run("list", "-H", "storage", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.deepEqual(Object.keys(json), ["projects", "warnings"]);
    assert.deepEqual(json.projects[0], {
        host: "storage",
        name: "myapp",
        hostname: "project-myapp",
        desired: "running",
        state: "running",
        memory: 16384,
        cpus: 8,
        disk: "100G",
        base: null,
        purge: false,
        fqdn: "project-myapp.bat-boa.ts.net",
        ip: "10.17.0.10",
        ssh: "ssh dev@project-myapp.bat-boa.ts.net",
    });
    assert.equal(json.projects[1].state, "absent");
    w.out.length = 0;
    assert.equal(await w.run("ls", "-a", "-q"), 0);
    assert.deepEqual(w.out, ["datalab", "sandbox", "myapp", "webapp"]);
});

test("status: state, login, disks with sizes, cloud-init; --json", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", {
        state: "running",
        ip: "10.17.0.10",
        cloudInit: { status: "error", extended_status: "error - done", errors: ["scripts_user failed"] },
    });
    w.host.volume("project-myapp", "project.qcow2", 100 * 1024 ** 3, 12 * 1024 ** 3);
    w.host.volume("project-myapp", "disk.qcow2", 20 * 1024 ** 3, 4 * 1024 ** 3);
    assert.equal(await w.run("status", "-H", "storage", "myapp"), 0, w.errText());
    assert.deepEqual(w.out, [
        "project-myapp on storage",
        "  state:      running; wanted: running",
        "  login:      ssh dev@project-myapp.bat-boa.ts.net",
        "  ip:         10.17.0.10",
        "  size:       16384 MiB memory, 8 vCPUs",
        "  purge:      no: the project disk is kept when the project goes",
        "  project:    100G (12.0G used)  /var/lib/project-vms/myapp/project.qcow2 → /home/dev/project (entry says 100G)",
        "  system:     20G (4.0G used)  /var/lib/project-vms/myapp/disk.qcow2",
        "  cloud-init: error - done: scripts_user failed",
    ]);
    w.out.length = 0;
    assert.equal(await w.run("status", "-H", "storage", "myapp", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.deepEqual(json.disks.project, {
        path: "/var/lib/project-vms/myapp/project.qcow2",
        capacity: 100 * 1024 ** 3,
        allocation: 12 * 1024 ** 3,
    });
    assert.deepEqual(json.cloudInit, { status: "error - done", errors: ["scripts_user failed"] });
    assert.deepEqual(json.warnings, []);
});

test("status of a stopped VM has no cloud-init status; of an unknown project, exit 2", async (t) => {
    const w = world(t);
    w.host.define("project-webapp", { state: "shut off" });
    assert.equal(await w.run("status", "-H", "storage", "webapp", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.equal(json.state, "shut off");
    assert.equal(json.cloudInit, null);
    assert.deepEqual(json.warnings, [], "its guest agent is not asked: nothing unknown to warn of");
    assert.equal(await w.run("status", "-H", "storage", "nope"), 2);
    assert.match(w.errText(), /there is no project 'nope' on host storage \(its projects: myapp, webapp\)/);
});

test("status without Pulumi and libvirt: what the stack file says, and what could not be seen", async (t) => {
    const w = world(t);
    w.pulumiMissing = true;
    w.host.down();
    assert.equal(await w.run("status", "-H", "storage", "myapp", "--json"), 0, w.errText());
    const json = JSON.parse(w.out.join("\n"));
    assert.deepEqual([json.state, json.desired, json.ssh, json.cloudInit], [null, "running", "ssh dev@project-myapp.bat-boa.ts.net", null]);
    assert.equal(json.disks.project.path, "/var/lib/project-vms/myapp/project.qcow2");
    assert.equal(json.warnings.length, 2);
    assert.match(json.warnings.join("\n"), /no stack outputs[\s\S]*live state is unknown/);
});

test("logs: the end of cloud-init's output from the guest, or the serial console", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", { state: "running", log: ["one", "two", "three"] });
    assert.equal(await w.run("logs", "-H", "storage", "myapp", "-n", "2"), 0, w.errText());
    assert.deepEqual(w.out, ["two", "three"]);
    assert.equal(await w.run("logs", "-H", "storage", "myapp", "--console"), 0);
    assert.deepEqual(w.interactive, [{ cmd: "virsh", args: ["-c", "qemu+ssh://admin@storage/system", "console", "project-myapp"] }]);
    w.host.state("shut off", "project-myapp");
    assert.equal(await w.run("logs", "-H", "storage", "myapp"), 2);
    assert.match(w.errText(), /project-myapp is shut off: its logs can be read while it runs/);
});

test("ssh-config: a Host project-* block the real ssh resolves to the tailnet name as dev", async (t) => {
    const w = world(t);
    w.outputs.raider = { sandbox: { ip: "10.17.0.45" } };
    assert.equal(await w.run("ssh-config", "--all"), 0, w.errText());
    const text = w.out.join("\n");
    assert.match(text, /^Host project-\* !project-\*\.\*\n {4}HostName %h\.bat-boa\.ts\.net\n {4}User dev$/m);
    if (!requireTool("ssh", "openssh-client", (r) => t.skip(r))) return;
    const file = path.join(w.dir, "ssh_config");
    fs.writeFileSync(file, `${text}\n`);
    const resolved = (name: string) => {
        const r = spawnSync("ssh", ["-G", "-F", file, name], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        const get = (k: string) => new RegExp(`^${k} (.*)$`, "m").exec(r.stdout)?.[1];
        return [get("hostname"), get("user")];
    };
    assert.deepEqual(resolved("project-myapp"), ["project-myapp.bat-boa.ts.net", "dev"]);
    assert.deepEqual(resolved("project-myapp.bat-boa.ts.net"), ["project-myapp.bat-boa.ts.net", "dev"]);
    assert.deepEqual(resolved("project-sandbox"), ["10.17.0.45", "dev"]);
    assert.deepEqual(resolved("elsewhere"), ["elsewhere", process.env.USER ?? resolved("elsewhere")[1]]);
});

test("ssh-config: a project off the tailnet is reached at its address, or said to have none yet", async (t) => {
    const w = world(t);
    w.host.define("project-sandbox", { state: "running", ip: "10.17.0.20" });
    assert.equal(await w.run("ssh-config", "-H", "raider"), 0, w.errText());
    const block = ["# sandbox on raider: not on the tailnet", "Host project-sandbox", "    HostName 10.17.0.20", "    User dev"];
    const at = w.out.indexOf(block[0]);
    assert.deepEqual(w.out.slice(at, at + 4), block, w.out.join("\n"));
    const none = world(t);
    assert.equal(await none.run("ssh-config", "-H", "raider"), 0, none.errText());
    assert.ok(none.out.includes("# sandbox on raider: not on the tailnet and no address known yet (is it running?)"), none.out.join("\n"));
    assert.ok(!none.out.some((l) => l.startsWith("Host project-sandbox")), "no Host block without an address");
});

test("doctor: every tool, stack file, libvirt and the Tailscale credentials; exit 1 when one fails", async (t) => {
    const w = world(t);
    // A key of one's own instead of the shipped sample: an ed25519 public key blob.
    const key = ownSshKey();
    for (const h of ["storage", "raider"]) {
        w.writeStack(h, `${w.stackText(h).replace(/ssh-ed25519 \S+ admin@workstation/, key)}  tailscale:apiKey:\n    secure: v1:abc\n`);
    }
    assert.equal(await w.run("doctor"), 0, w.out.join("\n"));
    for (const name of [
        "node",
        "pulumi",
        "virsh",
        "mkisofs",
        "ssh",
        "jq",
        "curl",
        "storage: stack file",
        "storage: libvirt",
        "raider: Tailscale API credentials",
    ]) {
        assert.ok(
            w.out.some((l) => l.startsWith(`ok    ${name}:`)),
            `${name} checked:\n${w.out.join("\n")}`,
        );
    }
    const x = world(t);
    x.pulumiMissing = true;
    x.host.down();
    assert.equal(await x.run("doctor", "--json"), 1);
    const json = JSON.parse(x.out.join("\n"));
    const failed = json.checks.filter((c: any) => !c.ok).map((c: any) => c.name);
    assert.deepEqual(
        failed,
        [
            "pulumi",
            "storage: SSH keys",
            "storage: libvirt",
            "storage: Tailscale API credentials",
            "raider: SSH keys",
            "raider: libvirt",
            "raider: Tailscale API credentials",
        ].sort((a, b) => json.checks.findIndex((c: any) => c.name === a) - json.checks.findIndex((c: any) => c.name === b)),
    );
    assert.equal(json.ok, false);
    assert.match(
        json.checks.find((c: any) => c.name === "storage: Tailscale API credentials").detail,
        /pulumi config set --stack storage --secret tailscale:apiKey/,
    );
});

test("doctor: the engine's language host and plugins at the SDKs' versions, each host's stack in the backend with Pulumi's required keys", async (t) => {
    const w = world(t);
    // The SDKs the program was installed with say which plugin versions the engine will ask for.
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(w.dir, "node_modules"));
    w.languageHost = false;
    w.plugins = w.plugins.filter((p) => p.name !== "command").map((p) => (p.name === "tailscale" ? { ...p, version: "0.29.1" } : p));
    w.backendStacks = ["storage"];
    w.writeStack("raider", w.stackText("raider").replace(/^  project-vms:sshPublicKeys:\n(    - .*\n)+/m, ""));
    assert.equal(await w.run("doctor", "--json"), 1);
    const checks = JSON.parse(w.out.join("\n")).checks as { name: string; ok: boolean; detail: string }[];
    const check = (name: string) => checks.find((c) => c.name === name)!;
    assert.equal(check("pulumi-language-nodejs").ok, false);
    assert.deepEqual([check("plugin libvirt").ok, check("plugin libvirt").detail], [true, "v0.5.4"]);
    assert.equal(check("plugin command").ok, false);
    assert.match(check("plugin command").detail, /not installed: the program needs v1\.2\.1 \(bash engine\/install-plugins\.sh/);
    assert.match(check("plugin tailscale").detail, /only v0\.29\.1: the program needs v0\.27\.1/);
    assert.equal(check("storage: Pulumi stack").ok, true);
    assert.equal(check("storage: required config").ok, true);
    // raider is not set up in this backend: with every host checked, that is noted, not a fault.
    assert.deepEqual(
        [check("raider: Pulumi stack").ok, check("raider: Pulumi stack").detail],
        [
            true,
            `not set up in this backend, so not checked ('pulumi stack init raider --cwd ${w.dir}' sets it up; 'project-vm -C ${w.dir} -H raider doctor' checks it)`,
        ],
    );
    assert.equal(check("raider: required config"), undefined);

    // Picked, it is checked: not in the backend, and what Pulumi would refuse.
    assert.equal(await w.run("-H", "raider", "doctor", "--json"), 1);
    const picked = JSON.parse(w.out.join("\n").slice(w.out.join("\n").lastIndexOf('{\n  "ok"'))).checks as {
        name: string;
        ok: boolean;
        detail: string;
    }[];
    const pick = (name: string) => picked.find((c) => c.name === name);
    assert.deepEqual(
        [pick("raider: Pulumi stack")!.ok, pick("raider: Pulumi stack")!.detail],
        [
            false,
            `not in the backend you are logged in to: pulumi stack init raider --cwd ${w.dir} (or pulumi login to the backend that holds it)`,
        ],
    );
    assert.deepEqual(
        [pick("raider: required config")!.ok, pick("raider: required config")!.detail],
        [false, "Pulumi refuses to run without project-vms:sshPublicKeys in Pulumi.raider.yaml"],
    );
    assert.equal(pick("storage: Pulumi stack"), undefined, "only the host picked");
});

test("doctor in a folder without stack files fails, saying so", async (t) => {
    const w = new World([]);
    t.after(() => w.cleanup());
    assert.equal(await w.run("doctor", "--json"), 1);
    const checks = JSON.parse(w.out.join("\n")).checks as { name: string; ok: boolean; detail: string }[];
    assert.deepEqual(
        checks.filter((c) => c.name === "stack files").map((c) => [c.ok, c.detail]),
        [[false, `there is no Pulumi.<host>.yaml in ${w.dir}: copy examples/Pulumi.storage.yaml to Pulumi.<your host>.yaml and edit it`]],
    );
});

test("arguments: the host from PROJECT_VM_HOST, usage errors exit 2, help exits 0", async (t) => {
    const w = world(t);
    w.env.PROJECT_VM_HOST = "raider";
    assert.equal(await w.run("list", "-q"), 0);
    assert.deepEqual(w.out, ["datalab", "sandbox"]);
    const y = world(t);
    assert.equal(await y.run("list"), 2);
    assert.match(
        y.errText(),
        /there are 2 hosts \(raider, storage\): pick one with --host <host>, PROJECT_VM_HOST, or once for all with .project-vm use <host>./,
    );
    assert.equal(await y.run("launch"), 2);
    assert.match(y.errText(), /unknown command 'launch'/);
    assert.equal(await y.run("create"), 2);
    assert.match(y.errText(), /missing required argument 'name'/);
    assert.equal(await y.run("-H", "nas", "list"), 2);
    assert.match(y.errText(), /no host stack 'nas': the hosts are raider, storage/);
    assert.equal(await y.run("--help"), 0);
    for (const c of [
        "create",
        "start",
        "stop",
        "restart",
        "resize",
        "destroy",
        "apply",
        "undo",
        "ssh",
        "list",
        "status",
        "config",
        "logs",
        "ssh-config",
        "use",
        "doctor",
        "completion",
    ]) {
        assert.match(y.out.join("\n"), new RegExp(`^  ${c}\\b`, "m"), `help lists ${c}`);
    }
    // The help command too: the list, or one command's usage.
    const h = world(t);
    assert.equal(await h.run("help"), 0, h.errText());
    assert.match(h.out.join("\n"), /^ {2}create \[options\] <name>/m);
    const hc = world(t);
    assert.equal(await hc.run("help", "create"), 0, hc.errText());
    assert.match(hc.out.join("\n"), /^Usage: project-vm create \[options\] <name> \[memory\] \[cpus\] \[disk\]$/m);
});

test("completion: bash-clean, and it completes commands, options and project names", async (t) => {
    const w = world(t);
    assert.equal(await w.run("completion", "bash"), 0);
    const script = w.out.join("\n");
    if (!requireTool("shellcheck", "shellcheck", (r) => t.skip(r))) return;
    const file = path.join(w.dir, "completion.bash");
    fs.writeFileSync(file, `${script}\n`);
    const sc = spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8" });
    assert.equal(sc.status, 0, sc.stdout);
    // A project-vm on PATH that answers `list --quiet` as the real one does.
    const bin = path.join(w.dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
        path.join(bin, "project-vm"),
        "#!/bin/sh\ncase \"$*\" in *'--host storage list --quiet'*) printf 'myapp\\nwebapp\\n' ;; *) exit 2 ;; esac\n",
        { mode: 0o755 },
    );
    const complete = (...words: string[]) => {
        const r = spawnSync(
            "bash",
            [
                "-c",
                // A word left in COMPREPLY by what ran before (bash clears it only after a completion) is not offered.
                `. ${file}; COMPREPLY=(stale); COMP_WORDS=(${words.map((x) => `'${x}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _project_vm; printf '%s\\n' "\${COMPREPLY[@]}"`,
            ],
            { encoding: "utf8", cwd: w.dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
        );
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.trim().split("\n").filter(Boolean).sort();
    };
    assert.deepEqual(complete("project-vm", "st"), ["start", "status", "stop"]);
    assert.deepEqual(complete("project-vm", "destroy", "--p"), ["--purge"]);
    assert.deepEqual(complete("project-vm", "-H", ""), ["raider", "storage"]);
    assert.deepEqual(complete("project-vm", "-H", "storage", "ssh", "w"), ["webapp"]);
    assert.equal(await w.run("completion", "fish"), 2);
});

test("an interactive program's exit code is passed on, a signal as 128+n, a missing one named", async () => {
    const { interactive } = await import("../cli/run");
    // Counted from what was there before: a test harness may listen too (Stryker's hook does).
    const listening = process.listenerCount("SIGINT");
    assert.equal(await interactive("sh", ["-c", "exit 7"]), 7);
    assert.equal(await interactive("sh", ["-c", "kill -TERM $$"]), 143);
    await assert.rejects(interactive("no-such-program-pvms", []), /no-such-program-pvms is not installed or not on PATH/);
    assert.equal(process.listenerCount("SIGINT"), listening, "Ctrl+C is this process's again");
});

test("hostile guest text: an address that is not one never reaches ssh_config; logs show control characters escaped", async (t) => {
    const w = world(t);
    // On a bridge the address comes from the guest agent: a guest can report anything.
    w.outputs.raider = { sandbox: { ip: "10.0.0.5\nHost *\n  ProxyCommand touch /tmp/pwned" } };
    assert.equal(await w.run("ssh-config", "-H", "raider"), 0, w.errText());
    const text = w.out.join("\n");
    assert.doesNotMatch(text, /ProxyCommand|10\.0\.0\.5/, text);
    assert.match(w.errText(), /raider: the stack output's address of sandbox is not an IP address, left out: "10\.0\.0\.5\\nHost/);
    w.out.length = 0;
    w.host.define("project-myapp", { state: "running", log: ["ok \x1b]52;c;ZXZpbA==\x07 done", "\x1b[2J\ttab\x9b"] });
    assert.equal(await w.run("logs", "-H", "storage", "myapp"), 0, w.errText());
    assert.deepEqual(w.out, ["ok \\x1b]52;c;ZXZpbA==\\x07 done", "\\x1b[2J\ttab\\x9b"]);
});

test("an apply interrupted, then another command: it says it applies the edit left unapplied too", async (t) => {
    const w = new World();
    t.after(() => w.cleanup());
    assert.equal(await w.run("apply", "-H", "storage"), 0, w.errText());
    assert.equal(await w.run("stop", "-H", "storage", "myapp"), 0, w.errText());
    assert.doesNotMatch(w.errText(), /not applied/, "nothing unapplied after a successful apply");
    w.upCodes = [130];
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 130);
    assert.match(
        w.errText(),
        /stop webapp: interrupted \(SIGINT\); .*keeps the change: apply the rest with '[^']+ apply', or take it back with '[^']+ undo'/,
    );
    assert.equal(await w.run("start", "-H", "storage", "myapp"), 0, w.errText());
    assert.match(
        w.errText(),
        /note: Pulumi\.storage\.yaml also holds changes that were not applied since \S+ \(an interrupted or failed apply, or an edit by hand\): 'start myapp' applies them too/,
    );
    assert.equal(await w.run("stop", "-H", "storage", "myapp"), 0, w.errText());
    assert.doesNotMatch(w.errText().split("start myapp").pop()!, /also holds changes/, "once applied, nothing to say");
});

test("hints with a placeholder print it bare inside their quotes (no nested quotes)", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const text = w.stackText("storage");
    w.writeStack("storage", text.slice(0, text.indexOf("  # One entry per project")));
    assert.equal(await w.run("list", "-H", "storage"), 0, w.errText());
    assert.match(w.errText(), /no projects on storage; add one with 'project-vm -C \S+ -H storage create <name>'$/m);
    assert.deepEqual(w.printedCommands(), [`project-vm -C ${w.dir} -H storage create <name>`]);
});

test("config says which base image an unpinned project is on in words, not internal version names", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    assert.equal(await w.run("config", "-H", "storage", "webapp"), 0, w.errText());
    assert.match(w.out.join("\n"), /^base:\s+not pinned \(on the stack's only base image\)$/m);
    assert.doesNotMatch(w.out.join("\n"), /url-[0-9a-f]{8}/);
});

test("an unpinned project among several base versions: the newest now is named, and where to look", async () => {
    const { unpinned } = await import("../cli/commands/config");
    assert.equal(
        unpinned(["2026-11", "2026-12"], "project-vm -H storage base"),
        "not pinned (on the newest base image when its system disk was made; the newest now is 2026-12; 'project-vm -H storage base' shows which)",
    );
});

test("a failed apply after which Pulumi wrote its encryption salt into the file: undo still works, and says Pulumi rewrote it", async (t) => {
    const w = new World(["storage"]);
    t.after(() => w.cleanup());
    const original = w.stackText("storage");
    const salt = (text: string) =>
        `encryptionsalt: v1:c2FsdA==:v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n${text.replace(/\n\n+/g, "\n")}`;
    w.upRewrites = [salt];
    w.upCodes = [1];
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 1);
    assert.match(w.errText(), /note: Pulumi rewrote Pulumi\.storage\.yaml \(its encryption salt or formatting; the config is the same\)/);
    assert.equal(await w.run("undo", "-H", "storage"), 0, w.errText());
    assert.equal(w.stackText("storage"), original, "back as it was before the change");

    // An edit by someone else during the apply is not Pulumi's: undo still refuses.
    w.upRewrites = [(text) => text.replace("- name: webapp", "- name: webapp\n      memory: 2G")];
    w.upCodes = [1];
    assert.equal(await w.run("stop", "-H", "storage", "webapp"), 1);
    assert.doesNotMatch(w.errText().split("stop webapp").pop()!, /Pulumi rewrote/);
    assert.equal(await w.run("undo", "-H", "storage"), 2);
    assert.match(w.errText(), /has changed since 'stop webapp'/);
});

test("one table of features: each row gives create a --no-<flag> that writes features.<key>: false", async (t) => {
    const { FEATURES } = await import("../components/configSchema");
    for (const f of FEATURES) {
        const w = new World(["storage"]);
        t.after(() => w.cleanup());
        assert.equal(await w.run("create", "-H", "storage", "fresh", `--no-${f.flag}`), 0, w.errText());
        const entry = (parse(w.stackText("storage")).config["project-vms:projects"] as any[]).find((p) => p.name === "fresh");
        assert.deepEqual(entry.features, { [f.key]: false }, f.key);
    }
});

test("logs: a failing tail's stderr from the guest is shown with control characters escaped", async (t) => {
    const w = world(t);
    w.host.define("project-myapp", { state: "running", logError: "\x1b]52;c;ZXZpbA==\x07\x1b[2J" });
    assert.equal(await w.run("logs", "-H", "storage", "myapp"), 1);
    // eslint-disable-next-line no-control-regex -- the escape character is what must not be there
    assert.doesNotMatch(w.errText(), /\x1b/, "no escape sequence reaches the terminal");
    assert.match(w.errText(), /\\x1b\]52;c;ZXZpbA==\\x07\\x1b\[2J/);
    // tail's own line ends with a newline, which is not shown as an escape.
    w.err.length = 0;
    w.host.define("project-myapp", {
        state: "running",
        logError: "tail: cannot open '/var/log/cloud-init-output.log' for reading: No such file or directory\n",
    });
    assert.equal(await w.run("logs", "-H", "storage", "myapp"), 1);
    assert.equal(
        w.err.at(-1),
        "project-vm: could not read /var/log/cloud-init-output.log in project-myapp: tail: cannot open '/var/log/cloud-init-output.log' for reading: No such file or directory",
    );
});
