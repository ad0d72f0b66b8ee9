// `project-vm base`, its edges: what list shows of pins and of a state it cannot read, what add,
// move and prune say, ask and hold while they run, a prune answered no, and the base volumes a
// prune cannot list or delete.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { main } from "../cli/main";
import { movingImageProblem, sha512FromSums } from "../cli/commands";
import { httpsText } from "../cli/commands/base";
import { Deps } from "../cli/factory";
import { World } from "./support/cli";

const SHA = "ab".repeat(64);
const url = (d: string) => `https://cloud.debian.org/images/cloud/forky/${d}/debian-14-genericcloud-amd64-${d}.qcow2`;
const POOL = "project-vms-base";

/** A World whose SHA512SUMS answer for Debian's dated images. */
function world(t: { after(fn: () => void): void }): { w: World; deps: Deps } {
    const w = new World();
    t.after(() => w.cleanup());
    const deps = w.deps();
    deps.fetchText = async (u) => `${SHA}  debian-14-genericcloud-amd64-${/forky\/(\d{8})\//.exec(u)![1]}.qcow2\n`;
    return { w, deps };
}

function firstVersion(w: World): string {
    const config = parse(w.stackText("storage")).config;
    return config["project-vms:baseImages"]?.[0].version ?? "";
}

/** Adds versions with `base add`; resolves to the version the stack had before (named by its volume). */
async function addVersions(w: World, deps: Deps, ...versions: [string, string][]): Promise<string> {
    for (const [version, day] of versions)
        assert.equal(await main(["-H", "storage", "base", "add", version, url(day)], deps), 0, w.errText());
    return firstVersion(w);
}

/** Pins a project's entry to a version, as an edit by hand. */
function pin(w: World, name: string, version: string): void {
    w.writeStack("storage", w.stackText("storage").replace(new RegExp(`(- name: ${name}\\n)`), `$1      base: "${version}"\n`));
}

const versionsOf = (w: World) => parse(w.stackText("storage")).config["project-vms:baseImages"].map((b: any) => b.version);

test("base list names the projects pinned to each version, and warns only when Pulumi's state cannot be read", async (t) => {
    const { w, deps } = world(t);
    const first = await addVersions(w, deps, ["2026-12", "20261201"]);
    pin(w, "myapp", "2026-12");
    pin(w, "webapp", "2026-12");
    w.systemDisks.storage = { myapp: "debian-testing-2026-12.qcow2", webapp: `debian-testing-${first}.qcow2` };
    w.out.length = 0;
    w.err.length = 0;
    assert.equal(await w.run("-H", "storage", "base"), 0, w.errText());
    assert.deepEqual(w.out, [
        first,
        `  url:    ${parse(w.stackText("storage")).config["project-vms:baseImages"][0].url}`,
        "  VMs:    webapp",
        "2026-12 (newest: new projects start here)",
        `  url:    ${url("20261201")}`,
        "  VMs:    myapp; pinned by myapp, webapp",
    ]);
    assert.equal(w.errText(), "", "the state was read: nothing to warn of");
    assert.equal(await w.run("-H", "storage", "base", "--json"), 0);
    assert.deepEqual(JSON.parse(w.out.slice(6).join("\n")).baseImages[1].pinned, ["myapp", "webapp"]);

    w.stateUnreadable = true;
    w.out.length = 0;
    assert.equal(await w.run("-H", "storage", "base"), 0, w.errText());
    assert.deepEqual(
        w.out.filter((l) => l.startsWith("  VMs:")),
        ["  VMs:    ?", "  VMs:    ?; pinned by myapp, webapp"],
    );
    assert.equal(w.errText(), "project-vm: warning: Pulumi's state could not be read: which VMs run on which version is unknown");
});

test("base list stops on an error of reading Pulumi's state that is not the backend being unreachable (exit 1, not '?')", async (t) => {
    const { w, deps } = world(t);
    const pulumi = deps.pulumi;
    deps.pulumi = (dir) => ({
        ...pulumi(dir),
        systemDiskBases: async () => {
            throw new TypeError("Cannot read properties of undefined (reading 'resources')");
        },
    });
    assert.equal(await main(["-H", "storage", "base"], deps), 1);
    assert.match(w.errText(), /^project-vm: Cannot read properties of undefined \(reading 'resources'\)$/m);
    assert.ok(!w.out.some((l) => l.includes("?")), w.out.join("\n"));
});

test("base add: a --sha512 in capitals is kept in small letters; it says what it applies, the sum's start, and holds the stack meanwhile", async (t) => {
    const { w, deps } = world(t);
    const held: string[] = [];
    const fetchText = deps.fetchText!;
    deps.fetchText = async (u) => {
        held.push(w.lockHolder());
        return fetchText(u);
    };
    assert.equal(await main(["-H", "storage", "base", "add", "2026-12", url("20261201")], deps), 0, w.errText());
    assert.deepEqual(held, ["project-vm base add 2026-12"], "another command sees who holds the stack while SHA512SUMS is read");
    assert.match(
        w.errText(),
        /^project-vm: base add 2026-12: \S+Pulumi\.storage\.yaml updated; applying it \(pulumi up --stack storage\)$/m,
    );
    assert.match(
        w.errText(),
        /^project-vm: base image 2026-12 is on storage \(SHA-512 abababababababab…\); new projects start on it\. Move a project with 'project-vm -C \S+ -H storage base move <name> 2026-12'$/m,
    );

    const sum = "0123456789ABCDEF".repeat(8);
    assert.equal(
        await main(["-H", "storage", "base", "add", "2027-01", "https://mirror.example/debian-20270101.qcow2", "--sha512", sum], deps),
        0,
        w.errText(),
    );
    assert.equal(parse(w.stackText("storage")).config["project-vms:baseImages"][2].sha512, sum.toLowerCase());
    assert.match(w.errText(), /\(SHA-512 0123456789abcdef…\)/);
});

test("base move asks to move the VM by its name, holds the stack while it asks, and says where it runs now", async (t) => {
    const { w, deps } = world(t);
    const first = await addVersions(w, deps, ["2026-12", "20261201"]);
    const held: string[] = [];
    deps.io.ask = async (q) => {
        w.asked.push(q);
        held.push(w.lockHolder());
        return "y";
    };
    w.err.length = 0;
    assert.equal(await main(["-H", "storage", "base", "move", "myapp", "2026-12"], deps), 0, w.errText());
    assert.deepEqual(w.asked, ["Move project-myapp to 2026-12? [y/N] "]);
    assert.deepEqual(held, ["project-vm base move myapp 2026-12"]);
    assert.match(w.errText(), /^project-vm: base move myapp 2026-12: \S+ updated; applying it/m);
    assert.equal(w.err.at(-1), "project-vm: myapp runs on 2026-12");

    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2031-01", "--yes"), 2);
    assert.equal(w.err.at(-1), `project-vm: no base image version 2031-01 on storage (it has ${first}, 2026-12)`);
});

test("base move of a pinned project whose disk did not move: asked by the VM's name; answered no, it stays where it is", async (t) => {
    const { w, deps } = world(t);
    const first = await addVersions(w, deps, ["2026-12", "20261201"]);
    pin(w, "myapp", "2026-12");
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2` };
    w.diskTriggers.storage = { myapp: "base:2026-12" };
    const before = w.applies.length;
    w.answers = ["n"];
    assert.equal(await w.run("-H", "storage", "base", "move", "myapp", "2026-12"), 2);
    assert.deepEqual(w.asked, ["Move project-myapp to 2026-12? [y/N] "]);
    assert.equal(w.err.at(-1), `project-vm: base move cancelled; myapp stays on debian-testing-${first}.qcow2`);
    assert.equal(w.applies.length, before, "nothing applied");
    assert.equal(w.systemDisks.storage.myapp, `debian-testing-${first}.qcow2`);
});

/** Five versions: the first (both VMs on it), 2026-12, 2027-01 (webapp pinned to it), 2027-02, 2027-03 (the newest). */
async function fiveVersions(t: { after(fn: () => void): void }) {
    const { w, deps } = world(t);
    const first = await addVersions(
        w,
        deps,
        ["2026-12", "20261201"],
        ["2027-01", "20270101"],
        ["2027-02", "20270201"],
        ["2027-03", "20270301"],
    );
    pin(w, "webapp", "2027-01");
    w.systemDisks.storage = { myapp: `debian-testing-${first}.qcow2`, webapp: `debian-testing-${first}.qcow2` };
    for (const v of ["2026-12", "2027-02"]) w.host.volume(POOL, `debian-testing-${v}.qcow2`, 1, 1);
    w.err.length = 0;
    return { w, deps, first };
}

test("base prune keeps a version a project is pinned to though no VM runs on it yet; answered no, it changes nothing", async (t) => {
    const { w, deps, first } = await fiveVersions(t);
    const held: string[] = [];
    deps.io.ask = async (q) => {
        w.asked.push(q);
        held.push(w.lockHolder());
        return "n";
    };
    const text = w.stackText("storage");
    const applies = w.applies.length;
    assert.equal(await main(["-H", "storage", "base", "prune"], deps), 2);
    assert.deepEqual(w.err, [
        "project-vm: no project uses 2026-12, 2027-02: they leave the stack file, and their volumes the host.",
        "project-vm: base prune cancelled; nothing changed",
    ]);
    assert.deepEqual(w.asked, ["Prune 2026-12, 2027-02? [y/N] "]);
    assert.deepEqual(held, ["project-vm base prune"]);
    assert.equal(w.stackText("storage"), text);
    assert.equal(w.applies.length, applies);

    w.err.length = 0;
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 0, w.errText());
    assert.deepEqual(versionsOf(w), [first, "2027-01", "2027-03"]);
    assert.match(w.errText(), /^project-vm: base prune: \S+ updated; applying it/m);
    assert.deepEqual(w.host.volumes(POOL), []);
});

test("base prune while Pulumi's state cannot be read: refused, said why, nothing changed", async (t) => {
    const { w } = await fiveVersions(t);
    const text = w.stackText("storage");
    w.stateUnreadable = true;
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 2);
    assert.equal(w.errText(), "project-vm: Pulumi's state could not be read, so which VMs run on which version is unknown; nothing pruned");
    assert.equal(w.stackText("storage"), text);
});

test("base prune deletes a prepared layer whose marker was never made, without trying the marker", async (t) => {
    const { w } = await fiveVersions(t);
    w.host.volume(POOL, "debian-testing-2026-12-prepared-aaaaaaaaaaaa.qcow2", 1, 1);
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 0, w.errText());
    assert.deepEqual(w.host.volumes(POOL), []);
    assert.doesNotMatch(w.errText(), /warning/);
    assert.deepEqual(
        w.err.filter((l) => l.includes("deleted")),
        [
            "project-vm: deleted debian-testing-2026-12.qcow2 from the host",
            "project-vm: deleted debian-testing-2026-12-prepared-aaaaaaaaaaaa.qcow2 from the host",
            "project-vm: deleted debian-testing-2027-02.qcow2 from the host",
        ],
    );
});

test("base prune with libvirt unreachable: the versions leave the stack, and it says which volumes to delete and how", async (t) => {
    const { w } = await fiveVersions(t);
    w.host.down();
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 0, w.errText());
    assert.deepEqual(versionsOf(w).length, 3);
    const uri = parse(w.stackText("storage")).config["project-vms:libvirtUri"] ?? "qemu:///system";
    assert.equal(
        w.err.at(-1),
        `project-vm: warning: the volumes of ${POOL} could not be listed (Cannot recv data: Connection reset by peer), so none was deleted: ` +
            "delete debian-testing-2026-12.qcow2 and its prepared layers (debian-testing-2026-12-prepared-*), " +
            "debian-testing-2027-02.qcow2 and its prepared layers (debian-testing-2027-02-prepared-*) " +
            `with 'virsh -c ${uri} vol-list --pool ${POOL}' and 'virsh -c ${uri} vol-delete --pool ${POOL} <volume>'`,
    );
    w.host.down(false);
    assert.equal(w.host.volumes(POOL).length, 2, "nothing deleted");
});

test("base prune: a volume that cannot be deleted is named with the command that deletes it; the others are deleted", async (t) => {
    const { w } = await fiveVersions(t);
    w.host.fails("vol-delete", "error: cannot unlink file 'x': Permission denied");
    assert.equal(await w.run("-H", "storage", "base", "prune", "--yes"), 0, w.errText());
    const uri = parse(w.stackText("storage")).config["project-vms:libvirtUri"] ?? "qemu:///system";
    assert.match(
        w.errText(),
        new RegExp(
            `^project-vm: warning: debian-testing-2026-12\\.qcow2 could not be deleted \\(.*Permission denied\\); delete it with 'virsh -c ${uri.replace(/[/+.]/g, "\\$&")} vol-delete --pool ${POOL} debian-testing-2026-12\\.qcow2'$`,
            "m",
        ),
    );
    assert.match(w.errText(), /debian-testing-2027-02\.qcow2 could not be deleted/);
});

test("base prune stops (exit 1) on an error of running virsh that is not libvirt being unreachable", async (t) => {
    for (const verb of ["vol-list", "vol-delete"]) {
        const { w, deps } = await fiveVersions(t);
        const virsh = deps.virsh;
        deps.virsh = async (args, opts) => {
            if (args.includes(verb)) throw new Error(`spawn virsh EACCES (${verb})`);
            return virsh(args, opts);
        };
        assert.equal(await main(["-H", "storage", "base", "prune", "--yes"], deps), 1, verb);
        assert.equal(w.err.at(-1), `project-vm: spawn virsh EACCES (${verb})`);
    }
});

test("SHA512SUMS lines with spaces before the sum are read; a moving image is a path part, and daily only as the file's end", async () => {
    const image = url("20261201");
    assert.equal(await sha512FromSums(image, async () => `  ${SHA}  debian-14-genericcloud-amd64-20261201.qcow2\n`), SHA);
    assert.equal(movingImageProblem("https://example.org/images/daily.qcow2.d/debian-14-20261101.qcow2"), undefined);
    assert.equal(movingImageProblem("/srv/images/latest/debian.qcow2")?.startsWith("names an image"), true);
});

test("https redirects are followed only for a 3xx with a Location; a 200 or a 4xx that has one is the answer", async () => {
    const page = (status: number, body: string, location?: string) =>
        (async (u: string) =>
            u === "https://a.example/s"
                ? new Response(status === 204 || status === 304 ? null : body, { status, headers: location ? { location } : {} })
                : new Response("moved here", { status: 200 })) as typeof fetch;
    assert.equal(await httpsText("https://a.example/s", page(200, "sums", "https://b.example/s")), "sums");
    await assert.rejects(httpsText("https://a.example/s", page(400, "bad", "https://b.example/s")), { message: "HTTP 400" });
    assert.equal(await httpsText("https://a.example/s", page(300, "choices", "https://b.example/s")), "moved here");
    assert.equal(await httpsText("https://a.example/s", page(399, "", "https://b.example/s")), "moved here");
});
