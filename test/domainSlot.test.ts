// domain-slot.sh: before the program creates a project's domain, a leftover of an earlier create
// that failed or was interrupted (defined in libvirt, not in Pulumi's state) is removed, its disks
// kept; a domain of that name that is not provably this project's stops the create, named. Run
// against the stand-in virsh; the engine suite runs it through the real engine and libvirtd.
import assert from "node:assert/strict";
import { test } from "node:test";
import { freeDomainSlot } from "../components/domainSlot";
import { runHostScript } from "../components/hostRun";
import { FakeHost } from "./support/fakeVirsh";

const DOMAIN = "project-myapp";
const MAC = "52:54:12:34:56:78";
const DIR = "/var/lib/project-vms/myapp";

function slot(h: FakeHost, env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
    return runHostScript({
        script: "domain-slot.sh",
        fn: "domain_slot_free",
        env: {
            ...h.env(),
            HOME: process.env.HOME,
            LIBVIRT_URI: "qemu:///system",
            DOMAIN,
            MAC,
            PROJECT_DIR: DIR,
            SHUTDOWN_TIMEOUT: "30",
            ...env,
        },
    });
}

function leftover(t: { after: (f: () => void) => void }, state: string): FakeHost {
    const h = new FakeHost(DOMAIN);
    t.after(() => h.cleanup());
    h.define(DOMAIN, {
        state,
        iflist: ` -  network  project-vms  virtio  ${MAC}\n`,
        blkDetails: ` file  disk  vda  ${DIR}/disk.qcow2\n file  disk  vdb  ${DIR}/project.qcow2\n file  cdrom  hdd  ${DIR}/cloud-init.iso\n`,
    });
    return h;
}

const changes = (h: FakeHost) => h.calls().filter((c) => /^(destroy|undefine|vol-delete|pool-)/.test(c));

test("no domain of that name: nothing to do", async (t) => {
    const h = new FakeHost(DOMAIN);
    t.after(() => h.cleanup());
    const r = await slot(h);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /project-vms:/, "nothing to say");
    assert.deepEqual(changes(h), []);
});

test("a domain whose name only starts like this one's is another domain: nothing to do", async (t) => {
    const h = new FakeHost(`${DOMAIN}-old`);
    t.after(() => h.cleanup());
    h.define(`${DOMAIN}-old`, { state: "running", iflist: " -  network  project-vms  virtio  52:54:00:99:99:99\n" });
    const r = await slot(h);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(changes(h), []);
});

test("this project's leftover is recognised whatever the case of the MAC the config gives", async (t) => {
    const h = leftover(t, "shut off");
    h.define(DOMAIN, { iflist: " -  network  project-vms  virtio  52:54:12:ab:cd:ef\n" });
    const r = await slot(h, { MAC: "52:54:12:AB:CD:EF" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(changes(h), [`undefine ${DOMAIN} --snapshots-metadata --checkpoints-metadata --nvram`]);
});

test("this project's leftover, stopped: undefined, no storage touched", async (t) => {
    const h = leftover(t, "shut off");
    const r = await slot(h);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /project-myapp is left over from a create that did not finish .*removing it, its disks kept/);
    assert.deepEqual(changes(h), [`undefine ${DOMAIN} --snapshots-metadata --checkpoints-metadata --nvram`]);
});

test("this project's leftover, running (an interrupted create, maybe mid-boot): shut down through ACPI, then undefined", async (t) => {
    const h = leftover(t, "running");
    const r = await slot(h);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shutting down project-myapp \(ACPI/);
    assert.deepEqual(
        h
            .calls()
            .filter((c) => /^(shutdown|destroy|undefine)/.test(c))
            .map((c) => c.split(" ")[0]),
        ["shutdown", "undefine"],
        "never forced off when it stops on ACPI",
    );
});

for (const [what, blk] of [
    ["a network disk", ` network  disk  vdb  ${DIR}/project.qcow2\n`],
    ["a path climbing out of the folder", ` file  disk  vdb  ${DIR}/../other/data.qcow2\n`],
    ["a path with a space, which the listing cannot show whole", ` file  disk  vdb  ${DIR}/my disk.qcow2\n`],
]) {
    test(`a domain of that name with ${what} is not this stack's`, async (t) => {
        const h = leftover(t, "shut off");
        h.write(`domains/${DOMAIN}/blk-details`, ` file  disk  vda  ${DIR}/disk.qcow2\n${blk}`);
        const r = await slot(h);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /is not this stack's/);
        assert.deepEqual(changes(h), []);
    });
}

test("a domain of that name holding a managed save (a suspended VM's memory) is not a leftover", async (t) => {
    const h = leftover(t, "shut off");
    h.write(`domains/${DOMAIN}/dominfo`, `Name:           ${DOMAIN}\nState:          shut off\nManaged save:   yes\n`);
    const r = await slot(h);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /it has a managed save/);
    assert.deepEqual(changes(h), []);
});

test("a domain of that name with another MAC is not this stack's: the create stops, nothing changed", async (t) => {
    const h = leftover(t, "running");
    h.write(`domains/${DOMAIN}/iflist`, " -  bridge  br0  virtio  52:54:aa:bb:cc:dd\n");
    const r = await slot(h);
    assert.equal(r.code, 1);
    assert.match(
        r.stderr,
        /a domain named project-myapp exists at qemu:\/\/\/system that is not this stack's \(its NICs have MAC 52:54:aa:bb:cc:dd \(this project's is 52:54:12:34:56:78\)\)\. Nothing was changed/,
    );
    assert.deepEqual(changes(h), []);
});

test("a domain of that name with a disk outside the project's folder is not this stack's", async (t) => {
    const h = leftover(t, "shut off");
    h.write(`domains/${DOMAIN}/blk-details`, ` file  disk  vda  ${DIR}/disk.qcow2\n file  disk  vdb  /srv/other/data.qcow2\n`);
    const r = await slot(h);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /it has the disk \/srv\/other\/data\.qcow2 outside \/var\/lib\/project-vms\/myapp/);
    assert.deepEqual(changes(h), []);
});

test("a folder whose name only starts like the project's is outside it", async (t) => {
    const h = leftover(t, "shut off");
    h.write(`domains/${DOMAIN}/blk-details`, ` file  disk  vda  ${DIR}-old/disk.qcow2\n`);
    assert.equal((await slot(h)).code, 1);
    assert.deepEqual(changes(h), []);
});

test("libvirt cannot list its domains: the create stops, nothing changed", async (t) => {
    const h = leftover(t, "shut off");
    h.set("list-fails");
    const r = await slot(h);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot list the domains at qemu:\/\/\/system/);
    assert.deepEqual(changes(h), []);
});

test("libvirt lost right after listing the domains: the create stops, naming what it could not read, nothing changed", async (t) => {
    const h = leftover(t, "shut off");
    h.failAfter(1);
    const r = await slot(h);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read the NICs of domain project-myapp/);
    assert.deepEqual(
        h.calls().map((c) => c.split(" ")[0]),
        ["list", "domiflist"],
        "nothing after the lost connection",
    );
});

// freeDomainSlot is what the domain's beforeCreate hook calls: the script with the hook's settings,
// in the environment the program runs in (PATH, and the SSH agent a qemu+ssh URI needs).
test("the hook's call: a leftover removed and said; a domain not this stack's refused with the script's words", async (t) => {
    const args = { libvirtUri: "qemu:///system", domain: DOMAIN, mac: MAC, projectDir: DIR, shutdownTimeout: 30 };
    const h = leftover(t, "shut off");
    const env = { ...process.env, ...h.env() };
    assert.match(
        await freeDomainSlot(args, env),
        /project-myapp is left over from a create that did not finish .*removing it, its disks kept/,
    );
    assert.deepEqual(changes(h), [`undefine ${DOMAIN} --snapshots-metadata --checkpoints-metadata --nvram`]);

    h.define(DOMAIN, { state: "running", iflist: " -  network  project-vms  virtio  52:54:00:99:99:99\n" });
    await assert.rejects(freeDomainSlot(args, env), (e: Error) => /is not this stack's/.test(e.message) && e.message === e.message.trim());
});
