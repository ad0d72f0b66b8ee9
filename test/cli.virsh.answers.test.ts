// How the CLI reads virsh's answers and failures (cli/libvirt.ts), against a stand-in virsh that
// answers as libvirt's own does: the reason a failure gives, the states, addresses, volumes and a
// guest program's result, and when libvirt or a guest's agent cannot answer, which of them it was.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Libvirt, LibvirtUnavailable, parseAddresses, parseDomainList, RunVirsh } from "../cli/libvirt";
import { ApplyFailed } from "../cli/commands";
import { main } from "../cli/main";
import { PulumiUnavailable } from "../cli/pulumi";
import { RunResult } from "../cli/run";

/** A virsh whose answer to each call `answer` gives (by the arguments after `-q -c URI`); the calls are kept. */
function virsh(answer: (args: string[]) => Partial<RunResult>) {
    const calls: { args: string[]; timeoutMs?: number }[] = [];
    const run: RunVirsh = async (args, opts) => {
        calls.push({ args, timeoutMs: opts?.timeoutMs });
        assert.deepEqual(args.slice(0, 3), ["-q", "-c", "qemu:///system"], "virsh is asked quietly, of the host's libvirt");
        return { code: 0, stdout: "", stderr: "", ...answer(args.slice(3)) };
    };
    return { run, calls, libvirt: new Libvirt("qemu:///system", run) };
}

const refused =
    "error: failed to connect to the hypervisor\n" +
    "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': Connection refused \n    \n";

test("the states are of every domain, stopped ones too (list --all)", async () => {
    const { libvirt } = virsh((a) =>
        a.join(" ") === "list --all"
            ? { stdout: " 1    project-a   running\n -    project-b   shut off\n" }
            : { stdout: " 1    project-a   running\n" },
    );
    assert.deepEqual(
        [...(await libvirt.states())],
        [
            ["project-a", "running"],
            ["project-b", "shut off"],
        ],
    );
});

test("libvirt that does not answer: the reason is virsh's last line without its 'error:', after the URI", async () => {
    const { libvirt } = virsh(() => ({ code: 1, stderr: refused }));
    await assert.rejects(libvirt.states(), (e: Error) => {
        assert.ok(e instanceof LibvirtUnavailable);
        assert.equal(
            e.message,
            "libvirt at qemu:///system cannot be reached: Failed to connect socket to '/var/run/libvirt/libvirt-sock': Connection refused",
        );
        return true;
    });
});

test("a failure virsh says nothing about gives its exit code; a message that only mentions 'error:' is kept whole", async () => {
    await assert.rejects(virsh(() => ({ code: 3 })).libvirt.reboot("project-myapp"), { message: "exit 3" });
    await assert.rejects(virsh(() => ({ code: 1, stderr: "error:domain is not running" })).libvirt.reboot("project-myapp"), {
        message: "domain is not running",
    });
    await assert.rejects(virsh(() => ({ code: 1, stderr: "the monitor said: error: device busy\n" })).libvirt.reboot("project-myapp"), {
        message: "the monitor said: error: device busy",
    });
});

test("without virsh, the package to install is named; each call is given 30 s unless told otherwise", async () => {
    const missing = virsh(() => ({ code: 127, stderr: "spawn virsh ENOENT" }));
    await assert.rejects(missing.libvirt.reboot("project-myapp"), {
        message: "virsh is not installed or not on PATH (Debian: libvirt-clients)",
    });
    const { libvirt, calls } = virsh(() => ({}));
    await libvirt.reboot("project-myapp");
    assert.deepEqual(calls, [{ args: ["-q", "-c", "qemu:///system", "reboot", "project-myapp"], timeoutMs: 30_000 }]);
});

test("the domain list: ids of any length, stopped domains, states of two words", () => {
    assert.deepEqual(
        [
            ...parseDomainList(
                " 7    project-a   running\n 12   project-b   paused\n 1043 project-c   in shutdown\n -    project-d   shut off\n\n",
            ),
        ],
        [
            ["project-a", "running"],
            ["project-b", "paused"],
            ["project-c", "in shutdown"],
            ["project-d", "shut off"],
        ],
    );
});

test("addresses: the DHCP lease first; the agent's only when there is none, without loopback; none at all is none", async () => {
    const leases = " vnet0      52:54:00:aa:bb:cc    ipv4         10.17.0.10/24\n";
    const agent =
        " lo         00:00:00:00:00:00    ipv4         127.0.0.1/8\n eth0       52:54:00:aa:bb:cc    ipv4         10.17.0.11/24\n";
    const both = virsh((a) => ({ stdout: a[3] === "lease" ? leases : agent }));
    assert.deepEqual(await both.libvirt.addresses("project-myapp"), ["10.17.0.10"]);
    assert.deepEqual(
        both.calls.map((c) => c.args.slice(3)),
        [["domifaddr", "project-myapp", "--source", "lease"]],
    );
    // The agent is asked by name; a lease list that fails, is empty or holds only loopback is none.
    const agentAsked = (lease: Partial<RunResult>) =>
        virsh((a) => (a[3] === "lease" ? lease : a[3] === "agent" ? { stdout: agent } : { code: 1, stderr: "error: bad source" }));
    for (const lease of [
        { code: 1, stderr: "error: no leases" },
        { stdout: "" },
        { stdout: " lo  00:00:00:00:00:00  ipv4  127.0.0.1/8\n" },
    ]) {
        assert.deepEqual(await agentAsked(lease).libvirt.addresses("project-myapp"), ["10.17.0.11"], JSON.stringify(lease));
    }
    assert.deepEqual(await virsh(() => ({ stdout: "" })).libvirt.addresses("project-myapp"), []);
    assert.deepEqual(parseAddresses(" eth0  52:54:00:aa:bb:cc  ipv6  fe80::1/64\n eth0  52:54:00:aa:bb:cc  ipv4  192.168.122.7/24\n"), [
        "192.168.122.7",
    ]);
});

test("a pool's volumes are the first column of vol-list; a volume is deleted from its pool by name", async () => {
    const { libvirt, calls } = virsh((a) =>
        a[0] === "vol-list"
            ? {
                  stdout:
                      " debian-testing-2026-11.qcow2   /var/lib/project-vms/debian-testing-2026-11.qcow2\n" +
                      "   project-myapp-project-disk.qcow2 /var/lib/project-vms/project-myapp-project-disk.qcow2   \n\n",
              }
            : {},
    );
    assert.deepEqual(await libvirt.volumes("project-vms"), ["debian-testing-2026-11.qcow2", "project-myapp-project-disk.qcow2"]);
    await libvirt.deleteVolume("project-vms", "debian-testing-2026-11.qcow2");
    assert.deepEqual(
        calls.map((c) => c.args.slice(3)),
        [
            ["vol-list", "--pool", "project-vms"],
            ["vol-delete", "--pool", "project-vms", "debian-testing-2026-11.qcow2"],
        ],
    );
});

/** A guest agent that starts program 7 and answers its status with `status` (after `busy` polls saying it still runs). */
function agent(status: object | undefined, busy = 0) {
    return virsh((a) => {
        assert.equal(a[0], "qemu-agent-command");
        const request = JSON.parse(a[2]);
        if (request.execute === "guest-exec") {
            assert.deepEqual(request.arguments.arg, ["status", "--long"]);
            return { stdout: request.arguments["capture-output"] === true ? '{"return":{"pid":7}}' : '{"return":{}}' };
        }
        assert.deepEqual(request, { execute: "guest-exec-status", arguments: { pid: 7 } });
        if (busy-- > 0) return { stdout: '{"return":{"exited":false}}' };
        return { stdout: JSON.stringify(status === undefined ? {} : { return: status }) };
    });
}

test("a guest program's exit code and both of its outputs come back as the guest gave them", async () => {
    const out = Buffer.from("status: error\n").toString("base64");
    const err = Buffer.from("disk full\n").toString("base64");
    const { libvirt } = agent({ exited: true, exitcode: 3, "out-data": out, "err-data": err }, 1);
    assert.deepEqual(await libvirt.guestExec("project-myapp", "cloud-init", ["status", "--long"]), {
        code: 3,
        stdout: "status: error\n",
        stderr: "disk full\n",
    });
    const silent = agent({ exited: true, exitcode: 0 });
    assert.deepEqual(await silent.libvirt.guestExec("project-myapp", "cloud-init", ["status", "--long"]), {
        code: 0,
        stdout: "",
        stderr: "",
    });
    const killed = agent({ exited: true, signal: 9 });
    assert.equal(
        (await killed.libvirt.guestExec("project-myapp", "cloud-init", ["status", "--long"])).code,
        1,
        "no exit code is a failure",
    );
});

test("a status answer without a return is the program still running: asked again until its time is up", async () => {
    const { libvirt } = agent(undefined);
    await assert.rejects(libvirt.guestExec("project-myapp", "cloud-init", ["status", "--long"], 600), {
        message: "cloud-init did not finish in project-myapp within 0.6s",
    });
});

test("a guest program is given up on only past its time: at the very millisecond of it, it is asked once more", async (t) => {
    t.mock.timers.enable({ apis: ["Date", "setTimeout"], now: 0 });
    let polls = 0;
    const { libvirt } = virsh((a) => {
        const request = JSON.parse(a[2]);
        if (request.execute === "guest-exec") return { stdout: '{"return":{"pid":7}}' };
        polls++;
        return { stdout: JSON.stringify({ return: polls < 3 ? { exited: false } : { exited: true, exitcode: 0 } }) };
    });
    const settle = () => new Promise((r) => setImmediate(r));
    const done = libvirt.guestExec("project-myapp", "cloud-init", ["status"], 500);
    let result: unknown;
    done.then(
        (r) => (result = r),
        (e: Error) => (result = e.message),
    );
    for (let i = 0; i < 3 && result === undefined; i++) {
        await settle();
        t.mock.timers.tick(500); // polls at 0, at 500 (the deadline itself) and at 1000
    }
    await settle();
    assert.deepEqual([result, polls], [{ code: 0, stdout: "", stderr: "" }, 3]);
});

test("a guest agent that does not answer, or answers nonsense, is named as the one that failed", async () => {
    const down = virsh(() => ({ code: 1, stderr: "error: Guest agent is not responding: QEMU guest agent is not connected\n" }));
    await assert.rejects(down.libvirt.guestExec("project-myapp", "cloud-init", ["status"]), (e: Error) => {
        assert.ok(e instanceof LibvirtUnavailable);
        assert.equal(
            e.message,
            "the guest agent of project-myapp did not answer: Guest agent is not responding: QEMU guest agent is not connected",
        );
        return true;
    });
    await assert.rejects(virsh(() => ({ stdout: "<html>" })).libvirt.guestExec("project-myapp", "cloud-init", ["status"]), (e: Error) => {
        assert.ok(e instanceof LibvirtUnavailable);
        assert.equal(e.message, "the guest agent of project-myapp answered with something that is not JSON");
        return true;
    });
    for (const answer of ["null", "{}"]) {
        await assert.rejects(virsh(() => ({ stdout: answer })).libvirt.guestExec("project-myapp", "cloud-init", ["status"]), {
            message: "the guest agent of project-myapp could not run cloud-init",
        });
    }
});

test("with PROJECT_VM_DEBUG, the failure's trace names what failed: libvirt, Pulumi or an apply, not the CLI", async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l), ask: async () => "", interactive: false };
    const failing = (e: Error) => [(p: import("commander").Command) => p.command("boom").action(() => Promise.reject(e))];
    const deps = { io, env: { PROJECT_VM_DEBUG: "1" } } as unknown as Parameters<typeof main>[1];
    for (const e of [new LibvirtUnavailable("no answer"), new PulumiUnavailable("no answer"), new ApplyFailed("no answer")]) {
        err.length = 0;
        assert.equal(await main(["boom"], deps, failing(e)), 1);
        assert.equal(err[0], "project-vm: no answer");
        assert.match(err[1], new RegExp(`^${e.constructor.name}: no answer\n`));
    }
});
