// `ssh`, `logs` and `ssh-config`, their edges: the question before starting a VM and the answers
// taken for yes, the address learnt once it runs, a libvirt that does not answer; the log's
// length, its control characters and its last line; the ssh_config's header, warnings and tailnets.
import assert from "node:assert/strict";
import { test } from "node:test";
import { main } from "../cli/main";
import { printable } from "../cli/commands/logs";
import { World, worldFor } from "./support/cli";

test("ssh asks before starting a stopped VM, naming it and its state; yes, y and an empty answer start it, in any case", async (t) => {
    const w = worldFor(t);
    w.host.define("project-datalab", { state: "shut off" });
    for (const yes of ["", "y", "Y", "yes", " YES "]) {
        w.answers = [yes];
        assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 0, `${JSON.stringify(yes)}: ${w.errText()}`);
    }
    assert.deepEqual(w.asked, Array(5).fill("project-datalab is shut off. Start it? [Y/n] "));
    assert.equal(w.applies.length, 5);
});

test("ssh does not start a VM on an answer that only looks like yes", async (t) => {
    const w = worldFor(t);
    w.host.define("project-datalab", { state: "shut off" });
    for (const no of ["n", "no", "ye", "yess", "yes please", "oui", "y y"]) {
        w.answers = [no];
        assert.equal(await w.run("ssh", "-H", "raider", "datalab"), 1, JSON.stringify(no));
    }
    assert.equal(w.applies.length, 0);
    assert.deepEqual(w.interactive, []);
});

test("ssh to a VM it had to start logs in at the address it has once started", async (t) => {
    const w = worldFor(t);
    w.host.define("project-sandbox", { state: "shut off" });
    const deps = w.deps();
    const pulumi = deps.pulumi;
    deps.pulumi = (dir) => {
        const p = pulumi(dir);
        return {
            ...p,
            up: async (host, opts) => {
                w.host.define("project-sandbox", { state: "running", ip: "10.17.0.61" });
                return p.up(host, opts);
            },
        };
    };
    assert.equal(await main(["ssh", "-H", "raider", "sandbox", "--start"], deps), 0, w.errText());
    assert.deepEqual(w.asked, []);
    assert.deepEqual(w.interactive, [{ cmd: "ssh", args: ["dev@10.17.0.61"] }]);
});

test("ssh when libvirt does not answer goes on over the tailnet, without asking to start anything", async (t) => {
    const w = worldFor(t);
    w.host.down();
    assert.equal(await w.run("ssh", "-H", "storage", "myapp"), 0, w.errText());
    assert.deepEqual(w.asked, []);
    assert.equal(w.applies.length, 0);
    assert.deepEqual(w.interactive, [{ cmd: "ssh", args: ["dev@project-myapp.bat-boa.ts.net"] }]);
});

test("logs --console says how to leave it", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("logs", "-H", "storage", "myapp", "--console"), 0, w.errText());
    assert.deepEqual(w.err, ["project-vm: attaching to the serial console of project-myapp; leave with Ctrl+]"]);
});

test("logs shows the last 100 lines unless told, takes a whole number only, and shows no empty line for the log's last newline", async (t) => {
    const w = worldFor(t);
    const log = Array.from({ length: 150 }, (_, i) => `line ${i + 1}`);
    w.host.define("project-myapp", { state: "running", log });
    assert.equal(await w.run("logs", "-H", "storage", "myapp"), 0, w.errText());
    assert.deepEqual(w.out, log.slice(50));
    for (const bad of ["x5", "5x", "-5", "1.5", ""]) {
        assert.equal(await w.run("logs", "-H", "storage", "myapp", "-n", bad), 2, bad);
        assert.equal(w.err.at(-1), `project-vm: --lines must be a whole number, got '${bad}'`);
    }
});

test("logs of a project without a VM says it is absent and how to start it", async (t) => {
    const w = worldFor(t);
    assert.equal(await w.run("logs", "-H", "storage", "myapp"), 2);
    assert.equal(
        w.errText(),
        `project-vm: project-myapp is absent: its logs can be read while it runs (project-vm -C ${w.dir} -H storage start myapp)`,
    );
});

test("guest text reaches the terminal with every control character escaped but the tab", () => {
    assert.equal(printable("a\tb"), "a\tb");
    assert.equal(printable("\u001b]52;c;aGk=\u0007"), "\\x1b]52;c;aGk=\\x07");
    assert.equal(printable("\u0000\u0008\u000a\u000b\u001f"), "\\x00\\x08\\x0a\\x0b\\x1f");
    assert.equal(printable("\u007f\u0080\u009b\u009f"), "\\x7f\\x80\\x9b\\x9f");
    assert.equal(printable(" ~\u00a0é"), " ~\u00a0é", "printable characters, a no-break space and letters as they are");
});

/** A stack file like raider's on another tailnet, as host `third`. */
function thirdHost(w: World): void {
    const text = w.stackText("raider").replace("raider/system", "third/system").replace("tailnet: bat-boa.ts.net", "tailnet: other.ts.net");
    w.writeStack("raider", text.replace("name: datalab", "name: lab2").replace("name: sandbox", "name: box2"));
}

test("ssh-config over two tailnets gives each its projects by name, and a header naming the hosts", async (t) => {
    const w = worldFor(t);
    thirdHost(w);
    assert.equal(await w.run("ssh-config", "--all"), 0, w.errText());
    assert.deepEqual(w.out.slice(0, 4), [
        "# project-vms: generated by 'project-vm ssh-config' for raider, storage. Keep it as a file of its own,",
        "#   project-vm ssh-config > ~/.ssh/project-vms.conf",
        "# and put 'Include project-vms.conf' at the top of ~/.ssh/config. Then: ssh project-<name>.",
        "# A VM given a fresh system disk has new host keys: 'ssh-keygen -R <its name>' forgets the old ones.",
    ]);
    const text = w.out.join("\n");
    assert.match(
        text,
        /^Host project-\*\.other\.ts\.net\n {4}User dev\nHost project-lab2\n {4}HostName %h\.other\.ts\.net\n {4}User dev$/m,
    );
    assert.match(
        text,
        /^Host project-\*\.bat-boa\.ts\.net\n {4}User dev\nHost project-myapp project-webapp\n {4}HostName %h\.bat-boa\.ts\.net\n {4}User dev$/m,
    );
    assert.doesNotMatch(text, /project-\* !project-\*/, "a short name would be taken for both tailnets");
});

test("ssh-config says what it could not see as warnings, and leaves a project of a stack file with problems out", async (t) => {
    const w = worldFor(t);
    w.writeStack("raider", w.stackText("raider").replace("cpus: 8", "cpus: eight"));
    assert.equal(await w.run("ssh-config", "-H", "raider"), 0, w.errText());
    assert.match(w.err[0], /^project-vm: warning: raider: the stack file has problems, so only the project names are shown \(/);
    assert.deepEqual(w.out.slice(4), [], "no Host block and no 'no address known yet' for what is unknown");
});
